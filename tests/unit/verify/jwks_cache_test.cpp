// The JWKS cache with a fake endpoint (the injectable fetcher) and a fake clock: freshness,
// ETag revalidation, the unknown-kid cool-down under a flood, serving the last good keys
// through an outage up to the stale bound, discovery, and a rotation under load.

#include <gtest/gtest.h>

#include <random>

#include "test_util.h"
#include "verify/cache_impl.h"

namespace authd::verify {
namespace {

using namespace std::chrono_literals;
using jose::testing::other_key;
using jose::testing::public_of;
using jose::testing::test_key;
using testing::Clock;
using testing::FakeEndpoint;
using testing::json;
using testing::jwks_of;
using testing::kNow;
using testing::options_for;
using testing::token_for;

class VerifyCacheTest : public ::testing::Test {
 protected:
  VerifyCacheTest() {
    endpoint_.set_jwks(jwks_of({public_of(test_key(jose::Alg::ES256))}));
    endpoint_.set_cache_control("public, max-age=60");
  }
  CacheOptions cache_options() {
    CacheOptions o;
    o.jwks_uri = "https://auth.example.com/.well-known/jwks.json";
    o.fetcher = endpoint_.fetcher();
    o.clock = clock_.fn();
    o.max_stale = 600s;
    o.on_event = [this](const CacheEventInfo& e) {
      std::lock_guard lock(events_mu_);
      events_.push_back(e.event);
    };
    return o;
  }
  std::shared_ptr<JwksCache> cache(CacheOptions o) { return std::make_shared<JwksCache>(o); }
  int count(CacheEvent e) {
    std::lock_guard lock(events_mu_);
    return static_cast<int>(std::count(events_.begin(), events_.end(), e));
  }

  Clock clock_;
  FakeEndpoint endpoint_;
  std::mutex events_mu_;
  std::vector<CacheEvent> events_;
};

TEST(VerifyCacheControlTest, MaxAgeParsed) {
  EXPECT_EQ(cache_control_max_age("public, max-age=300, stale-while-revalidate=60"), 300);
  EXPECT_EQ(cache_control_max_age("MAX-AGE=\"42\""), 42);
  EXPECT_EQ(cache_control_max_age("no-store"), 0);
  EXPECT_EQ(cache_control_max_age("public, no-cache"), 0);
  EXPECT_EQ(cache_control_max_age("public"), std::nullopt);
  EXPECT_EQ(cache_control_max_age("max-age=abc"), std::nullopt);
  EXPECT_EQ(cache_control_max_age(""), std::nullopt);
}

// This test verifies that the key set is fetched once, used for max-age, then revalidated
// with If-None-Match, a 304 extending it without a new download.
TEST_F(VerifyCacheTest, FetchesOnceHonoursMaxAgeAndRevalidatesWithEtag) {
  auto keys = cache(cache_options());
  Verifier v(options_for(clock_), keys);
  const auto key = test_key(jose::Alg::ES256);
  for (int s = 0; s < 60; ++s, clock_.advance(1s))
    ASSERT_TRUE(v.verify(token_for(*key, clock_.now_s()))) << s;
  EXPECT_EQ(endpoint_.requests(), 1);
  ASSERT_TRUE(v.verify(token_for(*key, clock_.now_s())));  // t0 + 60: expired, revalidated
  EXPECT_EQ(endpoint_.requests(), 2);
  const Headers sent = endpoint_.request_headers().back();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, "If-None-Match");
  EXPECT_EQ(keys->stats().not_modified, 1u);
  EXPECT_EQ(keys->stats().fetched, 1u);
  EXPECT_EQ(count(CacheEvent::kNotModified), 1);
}

TEST_F(VerifyCacheTest, MaxAgeIsClampedAndNoStoreStillFetchesAtMostOncePerMinimum) {
  endpoint_.set_cache_control("no-store");
  CacheOptions o = cache_options();
  o.min_max_age = 10s;
  Verifier v(options_for(clock_), cache(o));
  const auto key = test_key(jose::Alg::ES256);
  for (int i = 0; i < 100; ++i, clock_.advance(200ms))  // 20 s
    ASSERT_TRUE(v.verify(token_for(*key, clock_.now_s())));
  EXPECT_EQ(endpoint_.requests(), 2);
}

// This test verifies that a flood of tokens with invented kids causes at most one JWKS fetch
// per cool-down, over simulated time and from concurrent threads.
TEST_F(VerifyCacheTest, UnknownKidFloodFetchesAtMostOncePerCooldown) {
  endpoint_.set_cache_control("max-age=86400");
  auto keys = cache(cache_options());
  Verifier v(options_for(clock_), keys);
  ASSERT_TRUE(keys->refresh());
  std::mt19937_64 rng(7);
  const auto attacker = other_key(jose::Alg::ES256);
  int refused = 0;
  for (int i = 0; i <= 3000; ++i, clock_.advance(100ms)) {  // 300 s, 10 tokens a second
    const json header = {{"alg", "ES256"}, {"kid", std::to_string(rng())}, {"typ", "at+jwt"}};
    const std::string payload =
        *base64url::decode(jose::testing::split(token_for(*attacker, clock_.now_s())).payload);
    auto r = v.verify(jose::testing::make_token(*attacker, header.dump(), payload));
    refused += !r.ok() && r.error() == Error::kUnknownKid;
  }
  EXPECT_EQ(refused, 3001);
  // One initial fetch, then one per 30 s cool-down: 300 s / 30 s = 10.
  EXPECT_EQ(endpoint_.requests(), 1 + 10);
  EXPECT_EQ(keys->stats().unknown_kid_refetches, 10u);
  EXPECT_EQ(keys->stats().refetches_suppressed, 3001u - 10u);

  // Concurrently, at one instant past the cool-down: one fetch, however many threads.
  clock_.advance(31s);
  endpoint_.set_delay(20ms);  // the fetch is in flight while the others arrive
  const int before = endpoint_.requests();
  std::vector<std::thread> threads;
  std::atomic<int> unknown{0};
  for (int t = 0; t < 16; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto r = v.verify(token_for(*other_key(jose::Alg::EdDSA), clock_.now_s(),
                                    {{"jti", std::to_string(t * 100 + i)}}));
        unknown += !r.ok() && r.error() == Error::kUnknownKid;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(unknown, 16 * 50);
  EXPECT_EQ(endpoint_.requests() - before, 1);
}

// This test verifies that a token signed by a key published after the cache's last fetch is
// accepted at once when the cool-down allows one refetch.
TEST_F(VerifyCacheTest, NewKidPickedUpByOneRefetch) {
  endpoint_.set_cache_control("max-age=3600");
  auto keys = cache(cache_options());
  Verifier v(options_for(clock_), keys);
  ASSERT_TRUE(keys->refresh());
  clock_.advance(31s);
  endpoint_.set_jwks(
      jwks_of({public_of(test_key(jose::Alg::ES256)), public_of(test_key(jose::Alg::RS256))}));
  auto r = v.verify(token_for(*test_key(jose::Alg::RS256), clock_.now_s()));
  EXPECT_TRUE(r) << to_string(r.error());
  EXPECT_EQ(keys->stats().unknown_kid_refetches, 1u);
}

// This test verifies that when the JWKS endpoint goes down, the last good keys are used until
// max-age + max_stale, retries are spaced by retry_interval, and then every token is refused
// with kKeysStale (reported once); recovery needs no restart.
TEST_F(VerifyCacheTest, EndpointDownServesLastGoodKeysUntilTheStaleBoundThenFailsClearly) {
  auto keys = cache(cache_options());  // max-age 60, max_stale 600, retry every 5 s
  Verifier v(options_for(clock_), keys);
  const auto key = test_key(jose::Alg::ES256);
  ASSERT_TRUE(v.verify(token_for(*key, clock_.now_s())));
  endpoint_.set_down(true);
  const std::int64_t t0 = clock_.now_s();
  for (; clock_.now_s() < t0 + 660; clock_.advance(500ms)) {
    auto r = v.verify(token_for(*key, clock_.now_s()));
    ASSERT_TRUE(r) << "at +" << clock_.now_s() - t0 << " s: " << to_string(r.error());
  }
  // Failed attempts from +60 s to +660 s, one per 5 s.
  EXPECT_EQ(keys->stats().failures, 120u);
  EXPECT_EQ(count(CacheEvent::kStale), 0);
  auto r = v.verify(token_for(*key, clock_.now_s()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Error::kKeysStale);
  EXPECT_FALSE(keys->ok());
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(v.verify(token_for(*key, clock_.now_s())));
  EXPECT_EQ(count(CacheEvent::kStale), 1);

  endpoint_.set_down(false);
  clock_.advance(5s);
  EXPECT_TRUE(v.verify(token_for(*key, clock_.now_s())));
  EXPECT_TRUE(keys->ok());
}

TEST_F(VerifyCacheTest, NoKeysYetIsKeysUnavailableAndRetriesAreSpaced) {
  endpoint_.set_down(true);
  Verifier v(options_for(clock_), cache(cache_options()));
  const auto key = test_key(jose::Alg::ES256);
  for (int i = 0; i < 100; ++i, clock_.advance(100ms)) {  // 10 s
    auto r = v.verify(token_for(*key, clock_.now_s()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), Error::kKeysUnavailable);
  }
  EXPECT_EQ(endpoint_.requests(), 2);  // at 0 s and 5 s
}

TEST_F(VerifyCacheTest, ErrorStatusUnusableDocumentAndThrowingFetcherAreFailures) {
  auto keys = cache(cache_options());
  ASSERT_TRUE(keys->refresh());
  clock_.advance(61s);
  endpoint_.set_status(500);
  EXPECT_TRUE(keys->refresh()) << "still within the stale bound";
  EXPECT_EQ(keys->stats().failures, 1u);
  endpoint_.set_status(200);
  endpoint_.set_jwks(R"({"keys":[{"kty":"RSA","d":"secret"}]})");
  clock_.advance(6s);
  keys->refresh();
  EXPECT_EQ(keys->stats().failures, 2u);
  EXPECT_EQ(keys->stats().keys, 1u) << "the last good set is kept";

  CacheOptions o = cache_options();
  o.fetcher = [](const std::string&, const Headers&) -> HttpResponse {
    throw std::runtime_error("boom");
  };
  auto throwing = cache(o);
  EXPECT_FALSE(throwing->refresh());
  EXPECT_EQ(throwing->stats().failures, 1u);
}

TEST_F(VerifyCacheTest, DiscoveryDocumentGivesTheJwksUri) {
  endpoint_.set_discovery(
      json{{"issuer", testing::kIssuer}, {"jwks_uri", "https://keys.example.com/jwks"}}.dump());
  CacheOptions o = cache_options();
  o.jwks_uri.clear();
  o.issuer = std::string(testing::kIssuer) + "/";
  o.on_event = nullptr;
  // The discovery document's issuer must be the configured one, exactly.
  EXPECT_FALSE(cache(o)->refresh());
  o.issuer = testing::kIssuer;
  auto keys = cache(o);
  ASSERT_TRUE(keys->refresh());
  const auto urls = endpoint_.urls();
  ASSERT_GE(urls.size(), 2u);
  EXPECT_EQ(urls[urls.size() - 2],
            std::string(testing::kIssuer) + "/.well-known/openid-configuration");
  EXPECT_EQ(urls.back(), "https://keys.example.com/jwks");
}

TEST_F(VerifyCacheTest, NoDiscoveryDocumentFallsBackToTheWellKnownJwks) {
  CacheOptions o = cache_options();
  o.jwks_uri.clear();
  o.issuer = testing::kIssuer;
  auto keys = cache(o);
  ASSERT_TRUE(keys->refresh());
  EXPECT_EQ(endpoint_.urls().back(), std::string(testing::kIssuer) + "/.well-known/jwks.json");
}

TEST_F(VerifyCacheTest, DiscoveredPlainHttpJwksUriRefusedForAnHttpsIssuer) {
  endpoint_.set_discovery(
      json{{"issuer", testing::kIssuer}, {"jwks_uri", "http://keys.example.com/jwks"}}.dump());
  CacheOptions o = cache_options();
  o.jwks_uri.clear();
  o.issuer = testing::kIssuer;
  EXPECT_FALSE(cache(o)->refresh());
}

// This test verifies that keys rotating under load (published ahead of signing by more than
// the cache's max-age, as authd does) cause no rejection of a valid token, while threads
// verify continuously and the cache refreshes on expiry.
TEST_F(VerifyCacheTest, RotationUnderLoadRejectsNoValidToken) {
  constexpr int kKeys = 40, kAhead = 6;  // a new key every simulated second, published 6 s ahead
  std::vector<jose::KeyPtr> ring;
  std::vector<std::string> tokens;
  for (int i = 0; i < kKeys + kAhead + 1; ++i) {
    ring.push_back(*jose::Key::generate(jose::Alg::ES256));
    tokens.push_back(token_for(*ring.back(), kNow, json::object(), 1'000'000));
  }
  std::atomic<int> signing{0};
  auto publish = [&](int i) {
    std::vector<jose::KeyPtr> published;
    for (int k = 0; k <= i + kAhead; ++k) published.push_back(public_of(ring[k]));
    endpoint_.set_jwks(jwks_of(published));
  };
  publish(0);
  endpoint_.set_cache_control("max-age=5");
  endpoint_.set_delay(2ms);
  auto keys = cache(cache_options());
  Verifier v(options_for(clock_), keys);
  std::atomic<bool> stop{false};
  std::atomic<long> verified{0}, rejected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      while (!stop) {
        const int i = signing.load();
        auto r = v.verify(tokens[i]);
        (r ? verified : rejected)++;
        if (!r) ADD_FAILURE() << "key " << i << ": " << to_string(r.error());
      }
    });
  // Each simulated second lasts until the threads have verified 50 more tokens (observed
  // state, not a sleep, so a loaded machine only slows the test down).
  auto let_verify = [&] {
    const long target = verified + rejected + 50;
    while (verified + rejected < target) std::this_thread::yield();
  };
  for (int i = 1; i < kKeys; ++i) {
    let_verify();
    clock_.advance(1s);
    publish(i);  // key i+kAhead appears
    signing = i;
  }
  let_verify();
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(rejected, 0);
  EXPECT_GE(verified, 50L * kKeys);
  EXPECT_EQ(keys->stats().unknown_kid_refetches, 0u) << "publish-ahead covered the cache";
  EXPECT_GE(keys->stats().fetches, static_cast<std::uint64_t>(kKeys / 5 - 1));
}

}  // namespace
}  // namespace authd::verify
