// The token endpoint's own work: client authentication and the client_credentials grant.

#include "integration/auth/service_fixture.h"

namespace authd::auth::testing_support {
namespace {

class TokenEndpointTest : public AuthServiceTest {
 protected:
  void SetUp() override {
    AuthServiceTest::SetUp();
    if (HasFatalFailure()) return;  // e.g. no Postgres: fail, do not crash
    add_client("svc", "svc-secret", {"client_credentials"}, {"read", "write"});
    add_client("spa", "", {"password", "refresh_token"});
  }
  ClientAuthRequest as(std::string id, std::string secret) {
    return ClientAuthRequest{std::move(id), std::move(secret)};
  }
};

TEST_P(TokenEndpointTest, ConfidentialClientAuthenticatesWithItsSecretOnly) {
  auto ok = service_->authenticate_client(as("svc", "svc-secret"));
  ASSERT_TRUE(ok) << ok.error().description;
  EXPECT_EQ(ok->id, "svc");
  for (const auto& bad : {as("svc", "wrong"), as("svc", ""), as("svc", std::string(5000, 'x'))}) {
    auto r = service_->authenticate_client(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalidClient);
  }
}

TEST_P(TokenEndpointTest, PublicClientsNameThemselvesAndMayNotPresentASecret) {
  EXPECT_TRUE(service_->authenticate_client(as("spa", "")));
  EXPECT_TRUE(service_->authenticate_client(as("", ""))) << "the default public client";
  auto with_secret = service_->authenticate_client(as("spa", "anything"));
  ASSERT_FALSE(with_secret);
  EXPECT_EQ(with_secret.error().code, Errc::kInvalidClient);
}

TEST_P(TokenEndpointTest, UnknownClientsLookLikeAWrongSecret) {
  auto unknown = service_->authenticate_client(as("nobody", "svc-secret"));
  auto wrong = service_->authenticate_client(as("svc", "nope"));
  ASSERT_FALSE(unknown);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(unknown.error().code, wrong.error().code);
  EXPECT_EQ(unknown.error().description, wrong.error().description);
  EXPECT_FALSE(service_->authenticate_client(as(std::string(200, 'c'), "")));
}

TEST_P(TokenEndpointTest, ClientCredentialsGrantsTheRequestedScopesOrAll) {
  const Client svc = *service_->authenticate_client(as("svc", "svc-secret"));
  auto all = service_->client_credentials(svc, "");
  ASSERT_TRUE(all) << all.error().description;
  EXPECT_EQ(all->scope, "read write");
  EXPECT_TRUE(all->refresh_token.empty()) << "no session, so no refresh token";
  auto some = service_->client_credentials(svc, " write ");
  ASSERT_TRUE(some);
  EXPECT_EQ(some->scope, "write");
  jose::VerifyOptions opts;
  opts.issuer = "https://auth.test";
  opts.audience = "authd";
  auto v = jose::verify(some->access_token, ring_->lookup(), clock_.now_unix(), opts);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->claims["sub"], "svc");
  EXPECT_EQ(v->claims["client_id"], "svc");
  EXPECT_EQ(v->claims["scope"], "write");
  EXPECT_FALSE(v->claims.contains("sid"));
  auto denied = service_->client_credentials(svc, "read admin");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, Errc::kInvalidScope);
}

TEST_P(TokenEndpointTest, PublicClientsMayNotUseClientCredentials) {
  Client spa = *service_->authenticate_client(as("spa", ""));
  spa.grant_types.push_back("client_credentials");  // even if misconfigured so
  auto r = service_->client_credentials(spa, "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnauthorizedClient);
}

TEST_P(TokenEndpointTest, ClientTokensAreNotSessionsForBearerRoutes) {
  const Client svc = *service_->authenticate_client(as("svc", "svc-secret"));
  auto t = service_->client_credentials(svc, "");
  ASSERT_TRUE(t);
  auto p = service_->authenticate(t->access_token);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, Errc::kInvalidToken);
}

AUTHD_INSTANTIATE_SERVICE_MODES(TokenEndpointTest);

}  // namespace
}  // namespace authd::auth::testing_support
