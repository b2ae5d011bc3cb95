// Per-client policy on every grant: the scope parameter narrows (never widens), audiences
// (RFC 8707) come from the client's allowed list, and the client's own token lifetime.

#include "integration/auth/service_fixture.h"

namespace authd::auth::testing_support {
namespace {

constexpr const char* kApi = "https://api.example.com";

class ClientPolicyTest : public AuthServiceTest {
 protected:
  void SetUp() override {
    AuthServiceTest::SetUp();
    Client app;  // a public app with extra scopes, an API audience and short tokens
    app.id = "app";
    app.grant_types = {"password", "refresh_token"};
    app.scopes = {"profile", "invoices.read"};
    app.audiences = {kApi};
    app.access_ttl_seconds = 120;
    app.created_at = clock_.now_unix();
    ASSERT_TRUE(tdb_->db().clients().upsert(app));
    Client svc = add_client("svc", "svc-secret", {"client_credentials"}, {"read", "write"});
    svc.audiences = {kApi, "billing"};
    svc.access_ttl_seconds = 60;
    ASSERT_TRUE(tdb_->db().clients().upsert(svc));
  }

  AuthResult<TokenPair> login_as_app(std::string scope, std::vector<std::string> audiences = {}) {
    LoginRequest req{"alice@example.com", kPassword, "app", "test-agent", "127.0.0.1"};
    req.scope = std::move(scope);
    req.audiences = std::move(audiences);
    return service_->login(req);
  }
  AuthResult<TokenPair> refresh_as_app(const std::string& token, std::string scope,
                                       std::vector<std::string> audiences = {}) {
    RefreshRequest req{token, "app", "127.0.0.1"};
    req.scope = std::move(scope);
    req.audiences = std::move(audiences);
    return service_->refresh(req);
  }
  nlohmann::json claims(const std::string& token) {
    jose::VerifyOptions opts;
    opts.issuer = "https://auth.test";
    auto v = jose::verify(token, ring_->lookup(), clock_.now_unix(), opts);
    EXPECT_TRUE(v);
    return v ? v->claims : nlohmann::json();
  }
};

// This test verifies that a login's scope parameter narrows within "openid offline_access"
// and the client's scopes, that an empty one grants all of them, and that a scope outside
// them is refused before any password hash.
TEST_P(ClientPolicyTest, LoginScopeNarrowsWithinTheClientsScopes) {
  auto all = login_as_app("");
  ASSERT_TRUE(all) << all.error().description;
  EXPECT_EQ(all->scope, "openid offline_access profile invoices.read");
  auto some = login_as_app("invoices.read  openid");
  ASSERT_TRUE(some);
  EXPECT_EQ(some->scope, "invoices.read openid");
  EXPECT_EQ(claims(some->access_token)["scope"], "invoices.read openid");
  auto hashes_before = events_.password_hashes.load();
  auto wider = login_as_app("openid admin");
  ASSERT_FALSE(wider);
  EXPECT_EQ(wider.error().code, Errc::kInvalidScope);
  EXPECT_EQ(events_.password_hashes.load(), hashes_before) << "refused before hashing";
  auto default_client =
      service_->login(LoginRequest{"alice@example.com", kPassword, "", "test-agent", "127.0.0.1"});
  ASSERT_TRUE(default_client);
  EXPECT_EQ(default_client->scope, "openid offline_access") << "unchanged for the default";
}

// This test verifies RFC 6749 §6 on refresh: a scope parameter narrows the access token within
// what the login granted, an empty one gives that whole grant back, and anything more (even a
// scope the client has but the session was not granted) is invalid_scope.
TEST_P(ClientPolicyTest, RefreshNarrowsWithinTheSessionsScopeAndNeverWidens) {
  auto t = login_as_app("openid invoices.read");
  ASSERT_TRUE(t) << t.error().description;
  auto narrowed = refresh_as_app(t->refresh_token, "openid");
  ASSERT_TRUE(narrowed) << narrowed.error().description;
  EXPECT_EQ(narrowed->scope, "openid");
  EXPECT_EQ(claims(narrowed->access_token)["scope"], "openid");

  auto not_the_clients = refresh_as_app(narrowed->refresh_token, "admin");
  ASSERT_FALSE(not_the_clients);
  EXPECT_EQ(not_the_clients.error().code, Errc::kInvalidScope);
  auto back = refresh_as_app(narrowed->refresh_token, "");
  ASSERT_TRUE(back) << "a refusal before the rotation cost nothing: " << back.error().description;
  EXPECT_EQ(back->scope, "openid invoices.read") << "the session's grant, not the last token's";

  auto not_granted = refresh_as_app(back->refresh_token, "profile");
  ASSERT_FALSE(not_granted);
  EXPECT_EQ(not_granted.error().code, Errc::kInvalidScope);
  auto retry = refresh_as_app(back->refresh_token, "invoices.read");
  ASSERT_TRUE(retry) << "a retry within the grace window: " << retry.error().description;
  EXPECT_EQ(retry->scope, "invoices.read");
}

// This test verifies the client's access-token lifetime and audiences on the user grants: aud
// is one of the allowed ones, expires_in and exp follow the client's lifetime, an audience the
// client may not ask for is invalid_target, and authd's own bearer routes accept only tokens
// for authd's audience.
TEST_P(ClientPolicyTest, UserTokensFollowTheClientsLifetimeAndAudiences) {
  auto t = login_as_app("", {kApi});
  ASSERT_TRUE(t) << t.error().description;
  EXPECT_EQ(t->expires_in, 120);
  auto c = claims(t->access_token);
  EXPECT_EQ(c["aud"], kApi);
  EXPECT_EQ(c["exp"].get<std::int64_t>() - c["iat"].get<std::int64_t>(), 120);
  EXPECT_FALSE(service_->authenticate(t->access_token)) << "not a token for authd itself";

  auto own = login_as_app("");
  ASSERT_TRUE(own);
  EXPECT_EQ(claims(own->access_token)["aud"], "authd");
  EXPECT_TRUE(service_->authenticate(own->access_token));

  auto both = refresh_as_app(own->refresh_token, "", {"authd", kApi});
  ASSERT_TRUE(both) << both.error().description;
  EXPECT_EQ(claims(both->access_token)["aud"], nlohmann::json::array({"authd", kApi}));
  EXPECT_EQ(both->expires_in, 120);

  auto foreign = login_as_app("", {"https://evil.example.com"});
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, Errc::kInvalidTarget);
  auto foreign_refresh = refresh_as_app(both->refresh_token, "", {"billing"});
  ASSERT_FALSE(foreign_refresh);
  EXPECT_EQ(foreign_refresh.error().code, Errc::kInvalidTarget);
}

// This test verifies the same policy on client_credentials, and that introspection reports a
// token authd issued for another audience as active.
TEST_P(ClientPolicyTest, ClientCredentialsFollowTheClientsLifetimeAndAudiences) {
  const Client svc = *service_->authenticate_client({"svc", "svc-secret", "192.0.2.1"});
  auto t = service_->client_credentials(svc, "read", {"billing"});
  ASSERT_TRUE(t) << t.error().description;
  EXPECT_EQ(t->expires_in, 60);
  auto c = claims(t->access_token);
  EXPECT_EQ(c["aud"], "billing");
  EXPECT_EQ(c["exp"].get<std::int64_t>() - c["iat"].get<std::int64_t>(), 60);
  EXPECT_EQ(c["scope"], "read");
  auto denied = service_->client_credentials(svc, "", {"https://evil.example.com"});
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, Errc::kInvalidTarget);

  Client rs = add_client("rs", "rs-secret", {"client_credentials"}, {}, {kPermissionIntrospect});
  auto info = service_->introspect(rs, t->access_token);
  ASSERT_TRUE(info);
  ASSERT_TRUE(info->has_value()) << "active whatever its audience";
  EXPECT_EQ((**info)["aud"], "billing");
}

// The header `typ` of a token whose signature verifies, whatever its typ.
std::string typ_of(const keys::KeyRing& ring, std::int64_t now, const std::string& token) {
  jose::VerifyOptions opts;
  opts.typ = std::nullopt;
  auto v = jose::verify(token, ring.lookup(), now, opts);
  EXPECT_TRUE(v) << (v ? "" : std::string(jose::to_string(v.error())));
  return v && v->header.contains("typ") ? v->header["typ"].get<std::string>() : "";
}

// This test verifies auth.legacy_typ_audiences: off by default (every token at+jwt); when
// set, tokens naming a listed audience (alone or among others) get typ JWT and the rest keep
// at+jwt, on client_credentials and on user grants; authd accepts a JWT-typed token back only
// if its aud names a listed audience.
TEST_P(ClientPolicyTest, LegacyTypAudiencesGetTypJwtAndOnlyThey) {
  const auto typ = [this](const AuthResult<TokenPair>& t) {
    EXPECT_TRUE(t) << (t ? "" : t.error().description);
    return t ? typ_of(*ring_, clock_.now_unix(), t->access_token) : std::string();
  };
  const Client svc = *service_->authenticate_client({"svc", "svc-secret", "192.0.2.1"});
  EXPECT_EQ(typ(service_->client_credentials(svc, "read", {"billing"})), "at+jwt");
  EXPECT_EQ(typ(login_as_app("")), "at+jwt");

  settings_.legacy_typ_audiences = {"billing"};
  build_service(nullptr);
  auto legacy = service_->client_credentials(svc, "read", {"billing"});
  EXPECT_EQ(typ(legacy), "JWT");
  EXPECT_EQ(typ(service_->client_credentials(svc, "read", {kApi, "billing"})), "JWT");
  EXPECT_EQ(typ(service_->client_credentials(svc, "read", {kApi})), "at+jwt");
  EXPECT_EQ(typ(service_->client_credentials(svc, "read")), "at+jwt") << "aud authd";
  EXPECT_EQ(typ(login_as_app("", {kApi})), "at+jwt");

  Client rs = add_client("rs", "rs-secret", {"client_credentials"}, {}, {kPermissionIntrospect});
  auto active = [&](const std::string& token) {
    auto info = service_->introspect(rs, token);
    EXPECT_TRUE(info);
    return info && info->has_value();
  };
  ASSERT_TRUE(legacy);
  EXPECT_TRUE(active(legacy->access_token)) << "authd accepts its own JWT-typed tokens";
  // Signed by authd's key, but typ JWT for an audience that is not listed: not one authd issues.
  const std::int64_t now = clock_.now_unix();
  const std::string claims = nlohmann::json{
      {"iss", "https://auth.test"},
      {"sub", "svc"},
      {"aud", kApi},
      {"iat", now},
      {"exp", now + 60},
      {"jti", make_uuid_v4(random_)},
      {"client_id", "svc"}}.dump();
  auto odd = ring_->sign_claims_json(claims, "JWT");
  ASSERT_TRUE(odd);
  EXPECT_FALSE(active(*odd));
  auto proper = ring_->sign_claims_json(claims);
  ASSERT_TRUE(proper);
  EXPECT_TRUE(active(*proper)) << "the same claims as an at+jwt are fine";

  // authd's own audience listed: user tokens are JWT-typed and still work on bearer routes.
  settings_.legacy_typ_audiences = {"authd"};
  build_service(nullptr);
  auto user = login();
  EXPECT_EQ(typ_of(*ring_, clock_.now_unix(), user.access_token), "JWT");
  EXPECT_TRUE(service_->authenticate(user.access_token));
}

AUTHD_INSTANTIATE_SERVICE_MODES(ClientPolicyTest);

}  // namespace
}  // namespace authd::auth::testing_support
