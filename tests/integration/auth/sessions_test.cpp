// Sessions: logout (one, by refresh token, all) and a user's device sessions.

#include "integration/auth/service_fixture.h"

namespace authd::auth::testing_support {
namespace {

class SessionsTest : public AuthServiceTest {};

TEST_P(SessionsTest, LogoutRevokesOneFamily) {
  auto a = login();
  auto b = login();
  auto pa = service_->authenticate(a.access_token);
  ASSERT_TRUE(pa);
  ASSERT_TRUE(service_->logout(*pa));
  EXPECT_FALSE(service_->authenticate(a.access_token));
  EXPECT_FALSE(refresh(a.refresh_token));
  EXPECT_TRUE(service_->authenticate(b.access_token));
  EXPECT_TRUE(refresh(b.refresh_token));
}

TEST_P(SessionsTest, LogoutByRefreshToken) {
  auto a = login();
  ASSERT_TRUE(service_->logout_refresh_token(a.refresh_token));
  EXPECT_FALSE(service_->authenticate(a.access_token));
  EXPECT_TRUE(service_->logout_refresh_token("not-a-token")) << "RFC 7009: unknown tokens are fine";
}

TEST_P(SessionsTest, LogoutAllRevokesEveryFamilyOfTheUser) {
  auto a = login(), b = login(), c = login();
  add_user("dave@example.com", kPassword);
  auto other = login("dave@example.com");
  auto p = service_->authenticate(a.access_token);
  ASSERT_TRUE(p);
  auto n = service_->logout_all(*p);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 3u);
  for (const auto* t : {&a, &b, &c}) {
    EXPECT_FALSE(service_->authenticate(t->access_token));
    EXPECT_FALSE(refresh(t->refresh_token));
  }
  EXPECT_TRUE(service_->authenticate(other.access_token));
}

TEST_P(SessionsTest, SessionsAreListedAndDeletable) {
  auto a = login();
  clock_.advance(1);
  auto b = login();
  add_user("erin@example.com", kPassword);
  auto e = login("erin@example.com");
  auto pa = *service_->authenticate(a.access_token);
  auto list = service_->list_sessions(pa);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, b.session_id) << "newest first";
  EXPECT_EQ((*list)[0].user_agent, "test-agent");
  EXPECT_EQ((*list)[0].ip, "127.0.0.1");
  auto other = service_->delete_session(pa, e.session_id);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Errc::kNotFound) << "someone else's session looks missing";
  ASSERT_TRUE(service_->delete_session(pa, b.session_id));
  EXPECT_FALSE(service_->authenticate(b.access_token));
  EXPECT_EQ(service_->list_sessions(pa)->size(), 1u);
}

AUTHD_INSTANTIATE_SERVICE_MODES(SessionsTest);

}  // namespace
}  // namespace authd::auth::testing_support
