// The token endpoint's own work: client authentication and the client_credentials grant.

#include <unistd.h>

#include "authd/cache/redis_used_assertions.h"
#include "authd/jose/key.h"
#include "integration/auth/service_fixture.h"
#include "support/counting_limiter.h"
#include "support/redis_server.h"

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
    return ClientAuthRequest{std::move(id), std::move(secret), "192.0.2.1"};
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

// Machine tokens are answered on the event loop only for a cached confidential client whose
// keyed secret matches; anything else is "not here" and charges nothing, so the worker that
// then runs authenticate_client() decides (and limits) it exactly once.
TEST_P(TokenEndpointTest, OnlyACachedClientWithAKeyedSecretAuthenticatesWithoutBlocking) {
  EXPECT_FALSE(service_->authenticate_cached_client(as("svc", "svc-secret"))) << "not cached";
  ASSERT_TRUE(service_->authenticate_client(as("svc", "svc-secret")));  // cached from now on
  auto fast = service_->authenticate_cached_client(as("svc", "svc-secret"));
  ASSERT_TRUE(fast);
  ASSERT_TRUE(*fast) << fast->error().description;
  EXPECT_EQ((*fast)->id, "svc");
  // A wrong secret may be a rotated one (the store decides), a public or unknown client is
  // the worker's too: none of them is answered here.
  for (const auto& other :
       {as("svc", "wrong"), as("svc", ""), as("nobody", "svc-secret"), as("spa", ""), as("", "")})
    EXPECT_FALSE(service_->authenticate_cached_client(other)) << other.client_id;
  ClientAuthRequest assertion = as("svc", "");
  assertion.client_assertion_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
  assertion.client_assertion = "a.b.c";
  EXPECT_FALSE(service_->authenticate_cached_client(assertion));
  add_client("legacy", "legacy-secret", {"client_credentials"}, {}, {}, /*legacy_hash=*/true);
  EXPECT_FALSE(service_->authenticate_cached_client(as("legacy", "legacy-secret")));
  EXPECT_EQ(events_.password_hashes, 0);
}

TEST_P(TokenEndpointTest, ALimiterThatWaitsOnIoKeepsClientAuthenticationOffTheLoop) {
  authd::testing::ThreadedLimiter shared;  // blocks() like the Redis limiter
  build_service(nullptr, &shared);
  ASSERT_TRUE(service_->authenticate_client(as("svc", "svc-secret")));
  const int charged = shared.sync_calls.load();
  EXPECT_FALSE(service_->authenticate_cached_client(as("svc", "svc-secret")));
  EXPECT_EQ(shared.sync_calls.load(), charged) << "nothing charged when not answered";
}

// This test verifies that secrets authd generated are checked without a password hash, and
// that an unknown client (with or without a secret) costs none either.
TEST_P(TokenEndpointTest, GeneratedSecretsAndUnknownClientsCostNoPasswordHash) {
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(service_->authenticate_client(as("svc", "svc-secret")));
    EXPECT_FALSE(service_->authenticate_client(as("svc", "wrong")));
    EXPECT_FALSE(service_->authenticate_client(as("nobody-" + std::to_string(i), "svc-secret")));
    EXPECT_FALSE(service_->authenticate_client(as("nobody-" + std::to_string(i), "")));
  }
  EXPECT_EQ(events_.password_hashes, 0);
  (void)login();
  EXPECT_EQ(events_.password_hashes, 1) << "a login does cost one: the counter counts";
}

// This test verifies that a legacy Argon2id client hash still authenticates, once with the
// password hash, and is then replaced in the store by the keyed hash, so that later checks
// cost none; a wrong secret neither authenticates nor upgrades anything.
TEST_P(TokenEndpointTest, LegacyArgon2idSecretWorksAndIsUpgradedOnFirstUse) {
  add_client("old", "old-secret-from-2025", {"client_credentials"}, {}, {}, /*legacy_hash=*/true);
  EXPECT_FALSE(service_->authenticate_client(as("old", "not-the-secret")));
  EXPECT_EQ(events_.password_hashes, 1);
  auto before = tdb_->db().clients().find("old");
  ASSERT_TRUE(before && before->has_value());
  EXPECT_FALSE(ClientSecretCodec::is_keyed((*before)->secret_hash)) << "no upgrade on a failure";

  auto ok = service_->authenticate_client(as("old", "old-secret-from-2025"));
  ASSERT_TRUE(ok) << ok.error().description;
  EXPECT_EQ(events_.password_hashes, 2);
  auto after = tdb_->db().clients().find("old");
  ASSERT_TRUE(after && after->has_value());
  EXPECT_TRUE(ClientSecretCodec::is_keyed((*after)->secret_hash));
  EXPECT_EQ((*after)->grant_types, std::vector<std::string>{"client_credentials"});

  EXPECT_TRUE(service_->authenticate_client(as("old", "old-secret-from-2025")));
  EXPECT_FALSE(service_->authenticate_client(as("old", "not-the-secret")));
  EXPECT_EQ(events_.password_hashes, 2) << "upgraded: no more password hashes";
}

// This test verifies that a secret replaced in the store (authctl client rotate-secret) works
// at once although the old client is cached, and that the old one stops working.
TEST_P(TokenEndpointTest, ANewSecretWorksAtOnceDespiteTheCache) {
  ASSERT_TRUE(service_->authenticate_client(as("svc", "svc-secret")));  // now cached
  add_client("svc", "svc-secret-2", {"client_credentials"}, {"read", "write"});
  EXPECT_TRUE(service_->authenticate_client(as("svc", "svc-secret-2")));
  EXPECT_FALSE(service_->authenticate_client(as("svc", "svc-secret")));
}

// This test verifies a rotation with an overlap: the previous secret works until the end of
// its window and not after; the new one works at once; a forgotten (changed elsewhere) client
// is read again from the store.
TEST_P(TokenEndpointTest, APreviousSecretWorksUntilItsOverlapEnds) {
  ASSERT_TRUE(service_->authenticate_client(as("svc", "svc-secret")));  // cached
  auto stored = tdb_->db().clients().find("svc");
  ASSERT_TRUE(stored && stored->has_value());
  Client svc = **stored;
  svc.previous_secret_hash = svc.secret_hash;
  svc.previous_secret_expires_at = clock_.now_unix() + 60;
  svc.secret_hash = ClientSecretCodec(*hasher_).store_hash("svc", "svc-secret-2");
  ASSERT_TRUE(tdb_->db().clients().upsert(svc));
  service_->forget_client("svc");
  EXPECT_TRUE(service_->authenticate_client(as("svc", "svc-secret-2")));
  EXPECT_TRUE(service_->authenticate_client(as("svc", "svc-secret"))) << "within the overlap";
  clock_.advance(61);
  EXPECT_FALSE(service_->authenticate_client(as("svc", "svc-secret"))) << "after the overlap";
  EXPECT_TRUE(service_->authenticate_client(as("svc", "svc-secret-2")));
  EXPECT_EQ(events_.password_hashes, 0);
}

// This test verifies that a deleted client stops working as soon as the replica forgets its
// cached copy (the Redis event's job), not at the cache's expiry.
TEST_P(TokenEndpointTest, ADeletedClientStopsOnceForgotten) {
  ASSERT_TRUE(service_->authenticate_client(as("svc", "svc-secret")));  // cached
  ASSERT_TRUE(tdb_->db().clients().remove("svc"));
  EXPECT_TRUE(service_->authenticate_client(as("svc", "svc-secret"))) << "the cache's copy";
  service_->forget_client("svc");
  auto r = service_->authenticate_client(as("svc", "svc-secret"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidClient);
}

class PrivateKeyJwtTest : public TokenEndpointTest {
 protected:
  void SetUp() override {
    TokenEndpointTest::SetUp();
    key_ = *jose::Key::generate(jose::Alg::ES256);
    Client c;
    c.id = "jwt-svc";
    c.grant_types = {"client_credentials"};
    c.jwk = key_->public_jwk().dump();
    c.created_at = clock_.now_unix();
    ASSERT_TRUE(tdb_->db().clients().upsert(c));
  }
  nlohmann::json claims(const std::string& jti) const {
    const std::int64_t now = clock_.now_unix();
    return {{"iss", "jwt-svc"}, {"sub", "jwt-svc"}, {"aud", "https://auth.test/oauth2/token"},
            {"iat", now},       {"exp", now + 60},  {"jti", jti}};
  }
  std::string assertion(const nlohmann::json& c, const jose::Key* key = nullptr) const {
    return *jose::sign(key ? *key : *key_, c, "");
  }
  AuthResult<Client> present(const std::string& jwt, std::string id = "") {
    ClientAuthRequest r{std::move(id), "", "192.0.2.1"};
    r.client_assertion_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    r.client_assertion = jwt;
    return service_->authenticate_client(r);
  }
  jose::KeyPtr key_;
};

// This test verifies private_key_jwt: a fresh assertion signed by the registered key
// authenticates (the client named by client_id or only by the assertion's sub) and its
// client may use client_credentials; the same assertion presented again is refused.
TEST_P(PrivateKeyJwtTest, AFreshAssertionAuthenticatesOnceOnly) {
  const std::string jwt = assertion(claims("jti-1"));
  auto ok = present(jwt);
  ASSERT_TRUE(ok) << ok.error().description;
  EXPECT_EQ(ok->id, "jwt-svc");
  EXPECT_TRUE(service_->client_credentials(*ok, "", {}));
  auto replay = present(jwt, "jwt-svc");
  ASSERT_FALSE(replay) << "a jti is accepted once";
  EXPECT_EQ(replay.error().code, Errc::kInvalidClient);
  auto other = claims("jti-2");
  other["aud"] = "https://auth.test";  // the issuer is an accepted audience too
  EXPECT_TRUE(present(assertion(other), "jwt-svc"));
  EXPECT_EQ(events_.password_hashes, 0);
}

// This test verifies every refusal of an assertion: another key, another client's claims, a
// wrong audience, expired, too long-lived, without iat or jti, a wrong type, a secret with it.
TEST_P(PrivateKeyJwtTest, BadAssertionsAreRefused) {
  auto refused = [&](const std::string& why, const std::string& jwt, std::string id = "") {
    auto r = present(jwt, std::move(id));
    EXPECT_FALSE(r) << why;
    if (!r) {
      EXPECT_EQ(r.error().code, Errc::kInvalidClient) << why;
    }
  };
  auto other_key = *jose::Key::generate(jose::Alg::ES256);
  refused("another key", assertion(claims("a"), other_key.get()));
  auto c = claims("b");
  c["iss"] = "svc";
  refused("iss is not the client", assertion(c));
  c = claims("c");
  c["aud"] = "https://elsewhere.example/token";
  refused("wrong audience", assertion(c));
  c = claims("d");
  c["exp"] = clock_.now_unix() - 100;
  refused("expired", assertion(c));
  c = claims("e");
  c["exp"] = clock_.now_unix() + 7200;
  refused("lives two hours", assertion(c));
  c = claims("f");
  c.erase("iat");
  refused("no iat", assertion(c));
  c = claims("g");
  c.erase("jti");
  refused("no jti", assertion(c));
  refused("named for another client", assertion(claims("h")), "svc");
  refused("garbage", "not.a.jwt");
  ClientAuthRequest wrong_type{"jwt-svc", "", "192.0.2.1"};
  wrong_type.client_assertion_type = "urn:example:other";
  wrong_type.client_assertion = assertion(claims("i"));
  EXPECT_FALSE(service_->authenticate_client(wrong_type));
  ClientAuthRequest with_secret{"jwt-svc", "a-secret", "192.0.2.1"};
  with_secret.client_assertion_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
  with_secret.client_assertion = assertion(claims("j"));
  EXPECT_FALSE(service_->authenticate_client(with_secret));
  EXPECT_FALSE(service_->authenticate_client(as("jwt-svc", "any-secret")))
      << "a key-only client has no secret to guess";
  EXPECT_EQ(events_.password_hashes, 0);
  EXPECT_TRUE(present(assertion(claims("fresh")))) << "the key still works";
}

// A client's published key set, as the daemon's ClientJwks would verify against it: the
// signature with the one key, and the claims' issuer and audience as the port promises.
class OneKeySet final : public ClientKeySets {
 public:
  explicit OneKeySet(jose::KeyPtr key) : key_(std::move(key)) {}
  std::optional<std::string> verify(const Client& client, std::string_view assertion,
                                    const std::vector<std::string>& audiences) override {
    ++calls;
    jose::VerifyOptions o;
    o.typ = std::nullopt;
    o.require_exp = true;
    const jose::KeyPtr k = key_;
    auto v = jose::verify(
        assertion, [k](std::string_view) { return k; }, now, o);
    if (!v || v->claims.value("iss", "") != client.id) return std::nullopt;
    const std::string aud = v->claims.value("aud", "");
    if (std::find(audiences.begin(), audiences.end(), aud) == audiences.end()) return std::nullopt;
    return v->claims.dump();
  }
  void forget(const std::string& client_id) override { forgotten.push_back(client_id); }
  std::int64_t now = 0;
  int calls = 0;
  std::vector<std::string> forgotten;

 private:
  jose::KeyPtr key_;
};

// This test verifies a client registered with a jwks_uri: without the key-set port it cannot
// authenticate; with it, its assertion passes the same claim checks and replay prevention as
// an inline key's, and forgetting the client drops its key set too.
TEST_P(PrivateKeyJwtTest, AJwksUriClientAuthenticatesThroughTheKeySetPort) {
  Client c;
  c.id = "jwt-svc";
  c.grant_types = {"client_credentials"};
  c.jwks_uri = "https://jwt-svc.example/jwks.json";
  c.created_at = clock_.now_unix();
  ASSERT_TRUE(tdb_->db().clients().upsert(c));
  service_->forget_client("jwt-svc");
  auto without = present(assertion(claims("p-1")));
  ASSERT_FALSE(without) << "no key-set port: nobody fetches the keys";
  EXPECT_EQ(without.error().code, Errc::kInvalidClient);

  OneKeySet keys(key_);
  keys.now = clock_.now_unix();
  AuthService::Deps deps = deps_over(tdb_->db());
  deps.client_keys = &keys;
  AuthService service(deps, settings_);
  ClientAuthRequest r{"", "", "192.0.2.1"};
  r.client_assertion_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
  r.client_assertion = assertion(claims("p-2"));
  auto ok = service.authenticate_client(r);
  ASSERT_TRUE(ok) << ok.error().description;
  EXPECT_EQ(ok->id, "jwt-svc");
  EXPECT_FALSE(service.authenticate_client(r)) << "replayed";
  auto no_iat = claims("p-3");
  no_iat.erase("iat");
  r.client_assertion = assertion(no_iat);
  EXPECT_FALSE(service.authenticate_client(r)) << "the domain's claim checks still apply";
  EXPECT_EQ(keys.calls, 3);
  service.forget_client("jwt-svc");
  EXPECT_EQ(keys.forgotten, std::vector<std::string>{"jwt-svc"});
}

AUTHD_INSTANTIATE_SERVICE_MODES(PrivateKeyJwtTest);

// Two replicas, each with its own store, sharing the real Redis of scripts/services: the jti
// of an assertion is decided by one SET NX there, so a replay on the other replica is refused
// though its store never saw the assertion. Without an answer from Redis, the store decides.
class PrivateKeyJwtRedisTest : public PrivateKeyJwtTest {
 protected:
  void SetUp() override {
    PrivateKeyJwtTest::SetUp();
    if (HasFatalFailure()) return;
    prefix_ = "authd:test:jti:" + std::to_string(::getpid()) + ":" +
              std::to_string(clock_.now_unix()) + ":" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ":";
    other_db_ = std::make_unique<testing::TestDatabase>(GetParam().backend);
    ASSERT_TRUE(other_db_->ok()) << other_db_->error();
    Client c;
    c.id = "jwt-svc";
    c.grant_types = {"client_credentials"};
    c.jwk = key_->public_jwk().dump();
    c.created_at = clock_.now_unix();
    ASSERT_TRUE(other_db_->db().clients().upsert(c));
  }
  std::unique_ptr<AuthService> replica(store::Database& db, UsedAssertions* used) {
    AuthService::Deps deps = deps_over(db);
    deps.used_assertions = used;
    return std::make_unique<AuthService>(deps, settings_);
  }
  AuthResult<Client> present_to(AuthService& s, const std::string& jwt) {
    ClientAuthRequest r{"jwt-svc", "", "192.0.2.1"};
    r.client_assertion_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    r.client_assertion = jwt;
    return s.authenticate_client(r);
  }
  std::string prefix_;
  std::unique_ptr<testing::TestDatabase> other_db_;
};

// This test verifies that the same assertion replayed on a second replica is refused by Redis
// (the second replica's store has no record of it), and that a fresh one is accepted there.
TEST_P(PrivateKeyJwtRedisTest, ReplayOnAnotherReplicaIsRefusedThroughRedis) {
  auto redis_a = testing::connect_or_fail(testing::shared_redis_options());
  auto redis_b = testing::connect_or_fail(testing::shared_redis_options());
  ASSERT_TRUE(redis_a && redis_b);
  cache::RedisUsedAssertions used_a(*redis_a, prefix_), used_b(*redis_b, prefix_);
  auto a = replica(tdb_->db(), &used_a);
  auto b = replica(other_db_->db(), &used_b);
  const std::string jwt = assertion(claims("shared-1"));
  auto first = present_to(*a, jwt);
  ASSERT_TRUE(first) << first.error().description;
  auto replay = present_to(*b, jwt);
  ASSERT_FALSE(replay) << "the second replica accepted a replayed assertion";
  EXPECT_EQ(replay.error().code, Errc::kInvalidClient);
  EXPECT_FALSE(present_to(*a, jwt)) << "nor does the first accept it twice";
  auto stored = other_db_->db().clients().use_assertion("jwt-svc\nshared-1",
                                                        clock_.now_unix() + 600, clock_.now_unix());
  ASSERT_TRUE(stored);
  EXPECT_TRUE(*stored) << "Redis decided: the store was not asked";
  EXPECT_TRUE(present_to(*b, assertion(claims("shared-2"))));
  auto ttl = redis_a->command({"PTTL", prefix_ + "jwt-svc\nshared-1"});
  ASSERT_TRUE(ttl);
  EXPECT_GT(ttl->integer, 0) << "the key expires with the assertion";
}

// This test verifies the fallback: with Redis unreachable the store records the jti, so a
// replay on the same store is still refused.
TEST_P(PrivateKeyJwtRedisTest, WithRedisDownTheStoreDecides) {
  cache::RedisOptions dead;
  dead.endpoint = {"127.0.0.1", testing::free_port()};
  dead.connect_timeout = std::chrono::milliseconds(100);
  auto client = cache::RedisClient::create(dead);
  ASSERT_TRUE(client);
  cache::RedisUsedAssertions used(**client, prefix_);
  auto a = replica(tdb_->db(), &used);
  const std::string jwt = assertion(claims("down-1"));
  auto first = present_to(*a, jwt);
  ASSERT_TRUE(first) << first.error().description;
  auto replay = present_to(*a, jwt);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code, Errc::kInvalidClient);
}

AUTHD_INSTANTIATE_SERVICE_MODES(PrivateKeyJwtRedisTest);

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
