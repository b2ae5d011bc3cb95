// Introspection (RFC 7662) and revocation (RFC 7009) by authenticated clients.

#include "integration/auth/service_fixture.h"

namespace authd::auth::testing_support {
namespace {

class IntrospectionTest : public AuthServiceTest {
 protected:
  void SetUp() override {
    AuthServiceTest::SetUp();
    if (HasFatalFailure()) return;  // e.g. no Postgres: fail, do not crash
    api_ =
        add_client("api", "api-secret", {"client_credentials"}, {"read"}, {kPermissionIntrospect});
    other_ = add_client("other", "other-secret", {"client_credentials"}, {"read"});
    authd_ = *service_->client("");
  }
  Client api_, other_, authd_;
};

TEST_P(IntrospectionTest, ALiveTokenIsActiveWithItsClaimsAndARevokedOneIsNot) {
  auto t = login();
  auto r = service_->introspect(api_, t.access_token);
  ASSERT_TRUE(r) << r.error().description;
  ASSERT_TRUE(r->has_value());
  const auto& claims = **r;
  EXPECT_EQ(claims["active"], true);
  EXPECT_EQ(claims["sub"], user_id_);
  EXPECT_EQ(claims["sid"], t.session_id);
  EXPECT_EQ(claims["client_id"], "authd");
  EXPECT_EQ(claims["token_type"], "Bearer");
  ASSERT_TRUE(service_->logout(*service_->authenticate(t.access_token)));
  auto after = service_->introspect(api_, t.access_token);
  ASSERT_TRUE(after);
  EXPECT_FALSE(after->has_value()) << "a revoked family's token is inactive";
}

TEST_P(IntrospectionTest, RefreshTokensAndGarbageAreInactive) {
  auto t = login();
  for (const std::string& token : {t.refresh_token, std::string("garbage"), t.access_token + "x"}) {
    auto r = service_->introspect(api_, token);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_value()) << token;
  }
  auto empty = service_->introspect(api_, "");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, Errc::kInvalidRequest);
}

TEST_P(IntrospectionTest, PublicClientsMayNotIntrospect) {
  auto r = service_->introspect(authd_, login().access_token);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidClient);
}

TEST_P(IntrospectionTest, ConfidentialClientsWithoutThePermissionMayNotIntrospect) {
  auto r = service_->introspect(other_, login().access_token);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kAccessDenied);
}

TEST_P(IntrospectionTest, RevokingAnAccessTokenEndsItEverywhereButNotItsSession) {
  const Client api = api_;
  auto t = service_->client_credentials(api, "");
  ASSERT_TRUE(t);
  auto foreign = service_->revoke(other_, t->access_token);
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, Errc::kUnauthorizedClient);
  ASSERT_TRUE(service_->revoke(api, t->access_token));
  auto r = service_->introspect(api, t->access_token);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
  EXPECT_TRUE(service_->revoke(api, t->access_token)) << "revoking twice is fine (RFC 7009 §2.2)";
}

TEST_P(IntrospectionTest, RevokingARefreshTokenEndsItsFamilyForItsClientOnly) {
  auto t = login();
  auto foreign = service_->revoke(api_, t.refresh_token);
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, Errc::kUnauthorizedClient);
  EXPECT_TRUE(refresh(t.refresh_token)) << "a refused revocation changed nothing";
  auto t2 = login();
  ASSERT_TRUE(service_->revoke(authd_, t2.refresh_token));
  EXPECT_FALSE(refresh(t2.refresh_token));
  EXPECT_FALSE(service_->authenticate(t2.access_token));
  EXPECT_TRUE(service_->revoke(authd_, std::string(43, 'A'))) << "unknown tokens succeed";
  auto empty = service_->revoke(authd_, "");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, Errc::kInvalidRequest);
}

AUTHD_INSTANTIATE_SERVICE_MODES(IntrospectionTest);

}  // namespace
}  // namespace authd::auth::testing_support
