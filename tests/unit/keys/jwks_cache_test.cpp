// The publishing invariant end to end: a resource server that caches the JWKS for as long as
// its Cache-Control allows never meets an unknown kid, and never loses a key whose tokens are
// still valid. Three consecutive rotations, the clock stepped one second at a time.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "authd/core/base64url.h"
#include "authd/jose/jwks.h"
#include "authd/jose/jws.h"
#include "authd/keys/key_ring.h"
#include "test_util.h"

namespace authd::keys {
namespace {

using testing::FakeClock;
using testing::FakeKeyStore;
using testing::kT0;
using testing::test_kek;

// Small numbers so that three rotations take a few hundred steps.
Settings fast_settings() {
  Settings s;
  s.access_ttl_s = 60;
  s.jwks_max_age_s = 30;
  s.jwks_stale_while_revalidate_s = 10;
  s.rotation_period_s = 120;
  s.leeway_s = 5;
  s.id_token_alg = s.alg;
  return s;
}

struct Step {
  std::int64_t now = 0;
  JwksDocumentPtr fetched;  // what a resource server fetching at `now` got
  std::string token;        // signed at `now`
  std::string kid;
};

/// Runs the ring the way the service does (a rotation check every second) and records, at
/// every second, the JWKS a resource server would fetch and a token the ring signs.
std::vector<Step> simulate(std::int64_t seconds) {
  FakeKeyStore store;
  FakeClock clock(kT0);
  KeyRing ring(store, test_kek(), clock, fast_settings());
  std::vector<Step> steps;
  for (std::int64_t t = kT0; t <= kT0 + seconds; ++t) {
    clock.set(t);
    auto r = ring.rotate(false);
    EXPECT_TRUE(r.has_value()) << r.error().message;
    Step step;
    step.now = t;
    step.fetched = ring.jwks();
    auto token = ring.sign({{"sub", "s"}, {"iat", t}, {"exp", t + fast_settings().access_ttl_s}});
    EXPECT_TRUE(token.has_value());
    step.token = token.has_value() ? *token : "";
    step.kid = (*ring.signing_key())->kid();
    steps.push_back(std::move(step));
  }
  return steps;
}

std::set<std::string> kids_of(const JwksDocument& doc) {
  std::set<std::string> kids;
  // Parsed into a named value first: a range-for over a temporary's member would dangle.
  const auto parsed = nlohmann::json::parse(*doc.body);
  for (const auto& k : parsed.at("keys")) kids.insert(k.at("kid").get<std::string>());
  return kids;
}

class KeysJwksCacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Bootstrap at +0; successors written at +80, +200, +320 activate at +120, +240, +360.
    // Run 100 s past the third activation (a fourth successor is then pending).
    steps_ = new std::vector<Step>(simulate(3 * 120 + 100));
  }
  static void TearDownTestSuite() {
    delete steps_;
    steps_ = nullptr;
  }
  static std::vector<Step>* steps_;
};
std::vector<Step>* KeysJwksCacheTest::steps_ = nullptr;

TEST_F(KeysJwksCacheTest, SimulationCoversThreeRotations) {
  std::set<std::string> signing;
  for (const Step& s : *steps_) signing.insert(s.kid);
  EXPECT_EQ(signing.size(), 4u);  // the bootstrapped key and three successors
}

TEST_F(KeysJwksCacheTest, CachedJwksAlwaysHoldsTheSigningKid) {
  const std::int64_t cache = publish_ahead(fast_settings());  // max-age + swr = 40 s
  for (std::size_t i = 0; i < steps_->size(); ++i) {
    const Step& signed_at = (*steps_)[i];
    // Every document fetched in [now - cache, now] may still be in use (boundary included).
    for (std::size_t j = 0; j <= i; ++j) {
      const Step& fetched_at = (*steps_)[j];
      if (fetched_at.now < signed_at.now - cache) continue;
      ASSERT_EQ(kids_of(*fetched_at.fetched).count(signed_at.kid), 1u)
          << "token signed at +" << signed_at.now - kT0 << " by " << signed_at.kid
          << " is unknown to a JWKS fetched at +" << fetched_at.now - kT0;
    }
  }
}

TEST_F(KeysJwksCacheTest, TokensVerifyAgainstTheOldestUsableCachedJwks) {
  const std::int64_t cache = publish_ahead(fast_settings());
  for (std::size_t i = 0; i < steps_->size(); ++i) {
    const Step& signed_at = (*steps_)[i];
    const Step& oldest = (*steps_)[i >= static_cast<std::size_t>(cache) ? i - cache : 0];
    auto jwks = jose::Jwks::parse(*oldest.fetched->body);
    ASSERT_TRUE(jwks.has_value());
    auto v = jose::verify(signed_at.token, *jwks, signed_at.now);
    ASSERT_TRUE(v.has_value()) << "at +" << signed_at.now - kT0 << ": "
                               << jose::to_string(v.error());
  }
}

TEST_F(KeysJwksCacheTest, FreshJwksHoldsTheKidOfEveryUnexpiredToken) {
  const Settings s = fast_settings();
  for (std::size_t i = 0; i < steps_->size(); ++i) {
    const Step& signed_at = (*steps_)[i];
    // Until exp + leeway a verifier may accept the token, so a fresh fetch must know its kid.
    for (std::size_t j = i; j < steps_->size(); ++j) {
      const Step& fetched_at = (*steps_)[j];
      if (fetched_at.now > signed_at.now + s.access_ttl_s + s.leeway_s) break;
      ASSERT_EQ(kids_of(*fetched_at.fetched).count(signed_at.kid), 1u)
          << "token signed at +" << signed_at.now - kT0 << " by " << signed_at.kid
          << " is unverifiable with a JWKS fetched at +" << fetched_at.now - kT0;
    }
  }
}

TEST_F(KeysJwksCacheTest, RetiredKeysAreEventuallyUnpublished) {
  const std::string first = steps_->front().kid;
  EXPECT_EQ(kids_of(*steps_->back().fetched).count(first), 0u);
  EXPECT_LE(kids_of(*steps_->back().fetched).size(), 3u);
}

}  // namespace
}  // namespace authd::keys
