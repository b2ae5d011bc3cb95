// Login: email + password → a session and its first tokens.

#include "integration/auth/service_fixture.h"

namespace authd::auth::testing_support {
namespace {

class LoginTest : public AuthServiceTest {};

TEST_P(LoginTest, LoginIssuesVerifiableAccessTokenAndOpaqueRefreshToken) {
  auto t = login();
  EXPECT_EQ(t.expires_in, 600);
  EXPECT_TRUE(AuthService::looks_like_refresh_token(t.refresh_token));
  jose::VerifyOptions opts;
  opts.issuer = "https://auth.test";
  opts.audience = "authd";
  auto v = jose::verify(t.access_token, ring_->lookup(), clock_.now_unix(), opts);
  ASSERT_TRUE(v) << jose::to_string(v.error());
  EXPECT_EQ(v->header["typ"], "at+jwt");
  EXPECT_EQ(v->claims["sub"], user_id_);
  EXPECT_EQ(v->claims["sid"], t.session_id);
  EXPECT_EQ(v->claims["client_id"], "authd");
  EXPECT_EQ(v->claims["roles"], nlohmann::json::array({"user"}));
  EXPECT_FALSE(v->claims.contains("email")) << "no personal data in access tokens";
  auto p = service_->authenticate(t.access_token);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->session_id, t.session_id);
}

// This test verifies that naming a confidential client is not enough to log in or refresh as
// it: without the caller's authentication of the client the request is kInvalidClient before
// the password is checked or the token rotated, and with it both work.
TEST_P(LoginTest, ConfidentialClientMustBeAuthenticatedToLogInAndRefresh) {
  add_client("web", "web-secret", {"password", "refresh_token"});
  LoginRequest req{"alice@example.com", kPassword, "web", "test-agent", "127.0.0.1"};
  auto named = service_->login(req);
  ASSERT_FALSE(named);
  EXPECT_EQ(named.error().code, Errc::kInvalidClient);
  EXPECT_EQ(events_.logins_ok + events_.logins_failed, 0) << "no password was checked";
  req.client_authenticated = true;
  auto t = service_->login(req);
  ASSERT_TRUE(t) << t.error().description;

  RefreshRequest rr{t->refresh_token, "web", "127.0.0.1"};
  auto unauthenticated = service_->refresh(rr);
  ASSERT_FALSE(unauthenticated);
  EXPECT_EQ(unauthenticated.error().code, Errc::kInvalidClient);
  rr.client_authenticated = true;
  auto rotated = service_->refresh(rr);
  ASSERT_TRUE(rotated) << rotated.error().description << " (the refusal must not cost the family)";
}

TEST_P(LoginTest, RolesAndTenantNeedingJsonEscapesReachTheTokenIntact) {
  User u;
  u.id = make_uuid_v4(random_);
  u.email = "bob@example.com";
  u.password_hash = *crypto::hash_password(kPassword, kFastParams);
  u.roles = {"ops \"night\"", "back\\slash", "caf\xC3\xA9 \xF0\x9F\x94\x91"};
  u.tenant_id = "tenant/\t1";
  u.created_at = u.updated_at = clock_.now_unix();
  ASSERT_TRUE(tdb_->db().users().create(u));
  auto t = login("bob@example.com");
  jose::VerifyOptions opts;
  opts.issuer = "https://auth.test";
  opts.audience = "authd";
  auto v = jose::verify(t.access_token, ring_->lookup(), clock_.now_unix(), opts);
  ASSERT_TRUE(v) << jose::to_string(v.error());
  EXPECT_EQ(v->claims["roles"], nlohmann::json(u.roles));
  EXPECT_EQ(v->claims["tenant_id"], u.tenant_id);
}

TEST_P(LoginTest, EmailIsCaseAndSpaceInsensitive) {
  auto r = service_->login(LoginRequest{"  Alice@Example.COM ", kPassword, "", "", ""});
  EXPECT_TRUE(r);
}

TEST_P(LoginTest, WrongPasswordAndUnknownUserAreIndistinguishable) {
  auto wrong = service_->login(LoginRequest{"alice@example.com", "nope-nope", "", "", ""});
  auto unknown = service_->login(LoginRequest{"bob@example.com", "nope-nope", "", "", ""});
  ASSERT_FALSE(wrong);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(wrong.error().code, Errc::kInvalidGrant);
  EXPECT_EQ(unknown.error().code, wrong.error().code);
  EXPECT_EQ(unknown.error().description, wrong.error().description);
  EXPECT_EQ(events_.logins_failed.load(), 2);
}

TEST_P(LoginTest, DisabledAccountIsRefusedOnlyAfterCorrectPassword) {
  ASSERT_TRUE(tdb_->db().users().set_disabled(user_id_, true, clock_.now_unix()));
  auto right = service_->login(LoginRequest{"alice@example.com", kPassword, "", "", ""});
  ASSERT_FALSE(right);
  EXPECT_EQ(right.error().code, Errc::kAccessDenied);
  auto wrong = service_->login(LoginRequest{"alice@example.com", "bad-password", "", "", ""});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::kInvalidGrant);
}

TEST_P(LoginTest, MissingFieldsAndUnknownClientAreRejected) {
  EXPECT_EQ(service_->login(LoginRequest{"", kPassword, "", "", ""}).error().code,
            Errc::kInvalidRequest);
  EXPECT_EQ(service_->login(LoginRequest{"alice@example.com", "", "", "", ""}).error().code,
            Errc::kInvalidRequest);
  EXPECT_EQ(
      service_->login(LoginRequest{"alice@example.com", kPassword, "nope", "", ""}).error().code,
      Errc::kInvalidClient);
  EXPECT_EQ(service_->login(LoginRequest{"alice@example.com", std::string(5000, 'x'), "", "", ""})
                .error()
                .code,
            Errc::kInvalidRequest);
}

TEST_P(LoginTest, WeakHashIsUpgradedAtLogin) {
  settings_.password = crypto::PasswordParams{2, 16 * 1024};
  AuthService stronger(
      AuthService::Deps{tdb_->db().users(), tdb_->db().sessions(), tdb_->db().clients(),
                        *ring_keys_, clock_, random_, *hasher_, nullptr},
      settings_);
  auto before = (*tdb_->db().users().find_by_id(user_id_))->password_hash;
  ASSERT_TRUE(crypto::needs_rehash(before, settings_.password));
  ASSERT_TRUE(stronger.login(LoginRequest{"alice@example.com", kPassword, "", "", ""}));
  auto after = (*tdb_->db().users().find_by_id(user_id_))->password_hash;
  EXPECT_NE(before, after);
  EXPECT_FALSE(crypto::needs_rehash(after, settings_.password));
  EXPECT_TRUE(crypto::verify_password(after, kPassword));
}

AUTHD_INSTANTIATE_SERVICE_MODES(LoginTest);

}  // namespace
}  // namespace authd::auth::testing_support
