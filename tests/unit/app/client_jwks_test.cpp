// ClientJwks: private_key_jwt clients whose keys are at a jwks_uri, with an injected fetcher
// (the client's JWKS endpoint) and a fake clock: key rotation at the client, an outage served
// from the last good keys until the stale bound, forged assertions, the bound on the number of
// cached clients, and dropping a client's keys when the client changes.

#include "app/client_jwks.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>

#include "authd/jose/jws.h"
#include "authd/jose/key.h"

namespace authd::app {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr std::int64_t kT0 = 1'700'000'000;
constexpr const char* kIssuer = "https://auth.example.com";
const std::vector<std::string> kAudiences = {"https://auth.example.com/oauth2/token", kIssuer};

jose::KeyPtr new_key() {
  auto k = jose::Key::generate(jose::Alg::ES256);
  EXPECT_TRUE(k.has_value());
  return *k;
}

// The client's JWKS endpoint. Thread-safe.
class Endpoint {
 public:
  void publish(const std::vector<jose::KeyPtr>& keys) {
    json doc = {{"keys", json::array()}};
    for (const auto& k : keys) doc["keys"].push_back(k->public_jwk());
    std::lock_guard lock(mu_);
    body_ = doc.dump();
  }
  void set_down(bool down) { down_ = down; }
  int fetches() const { return fetches_; }
  std::vector<std::string> urls() const {
    std::lock_guard lock(mu_);
    return urls_;
  }
  verify::Fetcher fetcher() {
    return [this](const std::string& url, const verify::Headers&) {
      ++fetches_;
      verify::HttpResponse r;
      std::lock_guard lock(mu_);
      urls_.push_back(url);
      if (down_) {
        r.error = "connection refused";
        return r;
      }
      r.status = 200;
      r.headers = {{"Cache-Control", "max-age=300"}};
      r.body = body_;
      return r;
    };
  }

 private:
  mutable std::mutex mu_;
  std::string body_;
  std::vector<std::string> urls_;
  std::atomic<bool> down_{false};
  std::atomic<int> fetches_{0};
};

class ClientJwksTest : public ::testing::Test {
 protected:
  ClientJwksTest() {
    client_.id = "svc";
    client_.jwks_uri = "https://svc.example.com/jwks.json";
    client_.grant_types = {"client_credentials"};
    endpoint_.publish({key_});
  }

  ClientJwksOptions options() {
    ClientJwksOptions o;
    o.fetcher = endpoint_.fetcher();
    o.clock = [this] { return std::chrono::system_clock::time_point(std::chrono::seconds(now_)); };
    o.unknown_kid_cooldown = 10s;
    o.max_stale = 600s;
    return o;
  }

  std::string assertion(const jose::Key& key, const std::string& jti,
                        const std::string& id = "svc") {
    json c = {{"iss", id},  {"sub", id},          {"aud", kAudiences[0]},
              {"jti", jti}, {"iat", now_.load()}, {"exp", now_.load() + 60}};
    auto jwt = jose::sign(key, c, "JWT");
    EXPECT_TRUE(jwt.has_value());
    return jwt ? *jwt : std::string();
  }

  bool accepted(ClientJwks& keys, const std::string& jwt) {
    return keys.verify(client_, jwt, kAudiences).has_value();
  }

  std::atomic<std::int64_t> now_{kT0};
  Endpoint endpoint_;
  jose::KeyPtr key_ = new_key();
  auth::Client client_;
};

// This test verifies that an assertion signed by the published key is accepted with its
// claims, fetched once from the client's jwks_uri and then served from the cache.
TEST_F(ClientJwksTest, AssertionSignedByAPublishedKeyIsAcceptedAndTheSetCached) {
  ClientJwks keys(options());
  auto claims = keys.verify(client_, assertion(*key_, "a"), kAudiences);
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ(json::parse(*claims)["jti"], "a");
  EXPECT_TRUE(accepted(keys, assertion(*key_, "b")));
  EXPECT_EQ(endpoint_.fetches(), 1);
  EXPECT_EQ(endpoint_.urls().at(0), client_.jwks_uri);
}

// The operator sees each client's fetches and failures (authd_client_jwks_events_total and a
// warning): a client whose endpoint is down is visible before its keys go stale.
TEST_F(ClientJwksTest, FetchesAndFailuresAreReportedWithTheClient) {
  std::mutex mu;
  std::vector<std::string> seen;
  ClientJwksOptions o = options();
  o.on_event = [&](const std::string& client_id, const verify::CacheEventInfo& e) {
    std::lock_guard lock(mu);
    seen.push_back(client_id + ":" + std::string(verify::to_string(e.event)));
  };
  ClientJwks keys(std::move(o));
  EXPECT_TRUE(accepted(keys, assertion(*key_, "a")));
  endpoint_.set_down(true);
  now_ += 20;  // past the cool-down: a new kid may refetch, and that fetch fails
  EXPECT_FALSE(accepted(keys, assertion(*new_key(), "b")));
  std::lock_guard lock(mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"svc:fetched", "svc:unknown_kid_refetch",
                                            "svc:fetch_failed"}));
}

// This test verifies key rotation at the client: an assertion under a kid the cached set lacks
// triggers one refetch (after the cool-down) and is then accepted; a flood of invented kids
// within the cool-down fetches nothing more.
TEST_F(ClientJwksTest, RotationAtTheClientCostsOneRefetchForTheUnknownKid) {
  ClientJwks keys(options());
  ASSERT_TRUE(accepted(keys, assertion(*key_, "a")));
  ASSERT_EQ(endpoint_.fetches(), 1);
  now_ += 11;  // past the unknown-kid cool-down, well within max-age
  const auto rotated = new_key();
  endpoint_.publish({key_, rotated});
  EXPECT_TRUE(accepted(keys, assertion(*rotated, "b")));
  EXPECT_EQ(endpoint_.fetches(), 2) << "exactly one refetch for the new kid";
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(accepted(keys, assertion(*new_key(), "x")));
  EXPECT_EQ(endpoint_.fetches(), 2) << "invented kids within the cool-down fetch nothing";
  EXPECT_TRUE(accepted(keys, assertion(*key_, "c"))) << "the old key is still published";
}

// This test verifies that while the client's endpoint fails, the last good keys still verify
// past their freshness up to the stale bound, and that beyond it every assertion is refused.
TEST_F(ClientJwksTest, FetchFailureServesLastGoodKeysUntilStale) {
  ClientJwks keys(options());
  ASSERT_TRUE(accepted(keys, assertion(*key_, "a")));
  endpoint_.set_down(true);
  now_ += 300 + 60;  // expired (max-age 300), within max_stale (600)
  EXPECT_TRUE(accepted(keys, assertion(*key_, "b")));
  EXPECT_GE(endpoint_.fetches(), 2) << "a refresh was tried";
  now_ += 600;  // beyond the stale bound
  EXPECT_FALSE(accepted(keys, assertion(*key_, "c")));
  endpoint_.set_down(false);
  now_ += 10;  // past the retry interval
  EXPECT_TRUE(accepted(keys, assertion(*key_, "d"))) << "recovers with the endpoint";
}

// This test verifies that forged assertions are refused: signed by another key that claims
// the published key's kid, signed by the right key for another client, or with a tampered
// payload.
TEST_F(ClientJwksTest, ForgedAssertionIsRefused) {
  ClientJwks keys(options());
  const auto attacker = new_key();
  json c = {{"iss", "svc"},    {"sub", "svc"},       {"aud", kAudiences[0]},
            {"jti", "forged"}, {"iat", now_.load()}, {"exp", now_.load() + 60}};
  auto forged = jose::sign_jws(*attacker, c.dump(), json{{"kid", key_->kid()}, {"typ", "JWT"}});
  ASSERT_TRUE(forged.has_value());
  EXPECT_FALSE(accepted(keys, *forged));
  EXPECT_FALSE(accepted(keys, assertion(*key_, "other", "someone-else")))
      << "iss is not the client";
  std::string good = assertion(*key_, "t");
  const auto dot = good.find('.');
  good[dot + 2] = good[dot + 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(accepted(keys, good));
  json wrong_aud = c;
  wrong_aud["aud"] = "https://elsewhere.example.com/token";
  EXPECT_FALSE(accepted(keys, *jose::sign(*key_, wrong_aud, "JWT")));
  EXPECT_TRUE(accepted(keys, assertion(*key_, "genuine")));
}

// This test verifies that a client's cache is dropped when the client changes: a new jwks_uri
// is fetched at once (keys from the old location are not used), and forget() refetches.
TEST_F(ClientJwksTest, ChangedClientGetsAFreshKeySet) {
  ClientJwks keys(options());
  ASSERT_TRUE(accepted(keys, assertion(*key_, "a")));
  auto first = keys.cache_of("svc");
  ASSERT_NE(first, nullptr);
  client_.jwks_uri = "https://keys.svc.example.com/v2";
  ASSERT_TRUE(accepted(keys, assertion(*key_, "b")));
  EXPECT_EQ(endpoint_.urls().back(), client_.jwks_uri);
  EXPECT_NE(keys.cache_of("svc"), first);
  keys.forget("svc");
  EXPECT_EQ(keys.cache_of("svc"), nullptr);
  ASSERT_TRUE(accepted(keys, assertion(*key_, "c")));
  EXPECT_EQ(endpoint_.fetches(), 3);
  keys.forget("");
  EXPECT_EQ(keys.size(), 0u);
}

// This test verifies that the number of clients whose key sets are held is bounded: the least
// recently used one is dropped.
TEST_F(ClientJwksTest, CachedClientsAreBounded) {
  auto o = options();
  o.max_clients = 3;
  ClientJwks keys(o);
  for (int i = 0; i < 5; ++i) {
    auth::Client c = client_;
    c.id = "svc-" + std::to_string(i);
    ASSERT_TRUE(keys.verify(c, assertion(*key_, "a", c.id), kAudiences).has_value()) << i;
    EXPECT_LE(keys.size(), 3u);
  }
  EXPECT_EQ(keys.cache_of("svc-0"), nullptr);
  EXPECT_NE(keys.cache_of("svc-4"), nullptr);
}

// This test verifies what may be registered as a jwks_uri: https, or http on loopback only.
TEST(JwksUriRegistrableTest, HttpsOrLoopbackHttpOnly) {
  EXPECT_TRUE(jwks_uri_registrable("https://svc.example.com/.well-known/jwks.json"));
  EXPECT_TRUE(jwks_uri_registrable("https://[2001:db8::1]:8443/jwks"));
  EXPECT_TRUE(jwks_uri_registrable("http://127.0.0.1:8080/jwks"));
  EXPECT_TRUE(jwks_uri_registrable("http://localhost/jwks"));
  EXPECT_TRUE(jwks_uri_registrable("http://[::1]:9000/jwks"));
  EXPECT_FALSE(jwks_uri_registrable("http://svc.example.com/jwks"));
  EXPECT_FALSE(jwks_uri_registrable("https://user:pw@svc.example.com/jwks"));
  EXPECT_FALSE(jwks_uri_registrable("https://svc.example.com/jwks#frag"));
  EXPECT_FALSE(jwks_uri_registrable("https:///jwks"));
  EXPECT_FALSE(jwks_uri_registrable("ftp://svc.example.com/jwks"));
  EXPECT_FALSE(jwks_uri_registrable("https://svc.example.com/a b"));
  EXPECT_FALSE(jwks_uri_registrable(""));
}

// This test verifies that the real fetcher refuses plain http to a non-loopback host, and to
// loopback too unless allowed: no request leaves authd for such a URI.
TEST(ClientJwksFetchTest, PlainHttpIsRefusedUnlessLoopbackAndAllowed) {
  auth::Client c;
  c.id = "svc";
  c.jwks_uri = "http://127.0.0.1:1/jwks";
  ClientJwksOptions o;
  o.timeout = 500ms;
  ClientJwks keys(o);
  const auto key = new_key();
  json claims = {{"iss", "svc"}, {"sub", "svc"}, {"aud", kAudiences[0]},
                 {"jti", "j"},   {"iat", kT0},   {"exp", kT0 + 60}};
  EXPECT_FALSE(keys.verify(c, *jose::sign(*key, claims, "JWT"), kAudiences).has_value());
  auto cache = keys.cache_of("svc");
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(cache->stats().failures, 1u);
}

}  // namespace
}  // namespace authd::app
