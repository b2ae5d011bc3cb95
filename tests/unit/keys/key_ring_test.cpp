// KeyRing over the in-memory store, with a pinned clock and real keys.

#include "authd/keys/key_ring.h"

#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "authd/core/base64url.h"
#include "authd/jose/jwks.h"
#include "authd/jose/jws.h"
#include "authd/keys/kek.h"
#include "test_util.h"

namespace authd::keys {
namespace {

using testing::FakeClock;
using testing::FakeKeyStore;
using testing::kAhead;
using testing::kPeriod;
using testing::kRetention;
using testing::kT0;
using testing::other_kek;
using testing::test_kek;
using testing::test_settings;

std::set<std::string> jwks_kids(const JwksDocument& doc) {
  std::set<std::string> kids;
  // Parsed into a named value first: a range-for over a temporary's member would dangle.
  const auto parsed = nlohmann::json::parse(*doc.body);
  for (const auto& k : parsed.at("keys")) kids.insert(k.at("kid").get<std::string>());
  return kids;
}

std::string header_kid(const std::string& token) {
  const auto header = base64url::decode(token.substr(0, token.find('.')));
  return nlohmann::json::parse(header.value()).at("kid");
}

class KeysRingTest : public ::testing::Test {
 protected:
  /// rotate() that must succeed and have run; returns the new or promoted kid.
  std::string rotate(bool force, KeyRing& ring) {
    auto r = ring.rotate(force);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    if (!r) return {};
    EXPECT_TRUE(r->ran);
    return r->kid;
  }
  std::string rotate(bool force = false) { return rotate(force, ring_); }

  std::string signing_kid() {
    auto key = ring_.signing_key();
    EXPECT_TRUE(key.has_value()) << (key ? "" : key.error().message);
    return key ? (*key)->kid() : std::string();
  }

  FakeKeyStore store_;
  FakeClock clock_{kT0};
  KeyRing ring_{store_, test_kek(), clock_, test_settings()};
};

TEST_F(KeysRingTest, SigningBeforeLoadIsNotLoaded) {
  auto key = ring_.signing_key();
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code, Errc::kNotLoaded);
  EXPECT_FALSE(ring_.loaded());
  EXPECT_FALSE(ring_.ready());
}

TEST_F(KeysRingTest, EmptyStoreLoadsWithNoActiveKey) {
  ASSERT_TRUE(ring_.load().has_value());
  EXPECT_TRUE(ring_.loaded());
  EXPECT_FALSE(ring_.ready());
  auto key = ring_.signing_key();
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code, Errc::kNoActiveKey);
}

TEST_F(KeysRingTest, BootstrapCreatesOneActiveKey) {
  auto r = ring_.rotate(false);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->ran);
  EXPECT_EQ(r->outcome, RotationOutcome::kBootstrapped);
  const auto rows = store_.rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].kid, r->kid);
  EXPECT_EQ(rows[0].activate_at, kT0);
  EXPECT_TRUE(ring_.ready());  // rotate() reloaded: signing works at once
  EXPECT_EQ(signing_kid(), r->kid);
}

TEST_F(KeysRingTest, BootstrappedKeyUsesConfiguredAlg) {
  Settings s = test_settings();
  s.alg = s.id_token_alg = jose::Alg::EdDSA;
  KeyRing ring(store_, test_kek(), clock_, s);
  rotate(false, ring);
  auto key = ring.signing_key();
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ((*key)->alg(), jose::Alg::EdDSA);
  EXPECT_EQ(store_.rows()[0].alg, "EdDSA");
}

TEST_F(KeysRingTest, NoRotationBeforeDue) {
  rotate();
  clock_.set(kT0 + kPeriod - kAhead - 1);
  auto r = ring_.rotate(false);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, RotationOutcome::kNothingDue);
  EXPECT_EQ(store_.rows().size(), 1u);
}

TEST_F(KeysRingTest, RotationPublishesNextKeyExactlyPublishAheadBeforeItSigns) {
  const std::string a = rotate();
  clock_.set(kT0 + kPeriod - kAhead);
  const std::string b = rotate();
  ASSERT_NE(a, b);
  EXPECT_EQ(jwks_kids(*ring_.jwks()), (std::set<std::string>{a, b}));  // published now
  EXPECT_NE(ring_.find(b), nullptr);
  EXPECT_EQ(signing_kid(), a);  // not signing yet
  const auto info = ring_.describe();
  ASSERT_EQ(info.size(), 2u);
  EXPECT_EQ(info[1].kid, b);
  EXPECT_EQ(info[1].activate_at - clock_.now_unix(), kAhead);
}

TEST_F(KeysRingTest, SigningSwitchesToNewKidExactlyAtActivateAt) {
  const std::string a = rotate();
  clock_.set(kT0 + kPeriod - kAhead);
  const std::string b = rotate();
  const std::int64_t activate_at = kT0 + kPeriod;
  clock_.set(activate_at - 1);
  EXPECT_EQ(signing_kid(), a);
  clock_.set(activate_at);
  EXPECT_EQ(signing_kid(), b);  // no reload in between: decided at signing time
}

TEST_F(KeysRingTest, RetiredKeyStaysPublishedUntilRemoveAt) {
  const std::string a = rotate();
  clock_.set(kT0 + kPeriod - kAhead);
  rotate();
  const std::int64_t remove_at = kT0 + kPeriod + kRetention;
  clock_.set(remove_at - 1);
  EXPECT_NE(ring_.find(a), nullptr);
  EXPECT_EQ(jwks_kids(*ring_.jwks()).count(a), 1u);
}

TEST_F(KeysRingTest, RetiredKeyDisappearsAtRemoveAtWithoutReload) {
  const std::string a = rotate();
  clock_.set(kT0 + kPeriod - kAhead);
  const std::string b = rotate();
  clock_.set(kT0 + kPeriod + kRetention);
  EXPECT_EQ(ring_.find(a), nullptr);
  EXPECT_EQ(jwks_kids(*ring_.jwks()), std::set<std::string>{b});
}

TEST_F(KeysRingTest, RotationDeletesRemovedKeysFromTheStore) {
  const std::string a = rotate();
  clock_.set(kT0 + kPeriod - kAhead);
  rotate();
  clock_.set(kT0 + kPeriod + kRetention);
  auto r = ring_.rotate(false);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->deleted, 1u);
  ASSERT_EQ(store_.rows().size(), 1u);
  EXPECT_NE(store_.rows()[0].kid, a);
}

TEST_F(KeysRingTest, DescribeNamesStatesFromTheClock) {
  const std::string a = rotate();
  clock_.set(kT0 + kPeriod - kAhead);
  const std::string b = rotate();
  auto info = ring_.describe();
  ASSERT_EQ(info.size(), 2u);
  EXPECT_EQ(info[0].state, KeyState::kActive);
  EXPECT_TRUE(info[0].signing);
  EXPECT_EQ(info[1].state, KeyState::kNext);
  EXPECT_FALSE(info[1].signing);
  clock_.set(kT0 + kPeriod);
  info = ring_.describe();
  EXPECT_EQ(info[0].kid, a);
  EXPECT_EQ(info[0].state, KeyState::kRetiring);
  EXPECT_EQ(info[0].retire_at, kT0 + kPeriod);
  EXPECT_EQ(info[0].remove_at, kT0 + kPeriod + kRetention);
  EXPECT_EQ(info[1].kid, b);
  EXPECT_EQ(info[1].state, KeyState::kActive);
  EXPECT_TRUE(info[1].signing);
  EXPECT_EQ(info[1].alg, "ES256");
}

// What a caller that keeps the document (the JWKS route, one copy per I/O thread) relies on:
// the answer is jwks()'s for every instant of [from, until), and any load() that publishes
// changes published(), so nothing kept outlives a rotation or a key's removal.
TEST_F(KeysRingTest, CurrentJwksSaysForHowLongItIsTheAnswer) {
  const std::uint64_t before_load = ring_.published();
  const std::string a = rotate();
  EXPECT_NE(ring_.published(), before_load) << "a load publishes";
  EXPECT_NE(ring_.published(), 0u);
  clock_.set(kT0 + kPeriod - kAhead);
  const std::string b = rotate();
  const std::uint64_t published = ring_.published();
  const std::int64_t remove_a = kT0 + kPeriod + kRetention;

  const KeyRing::CurrentJwks both = ring_.current_jwks(clock_.now_unix());
  EXPECT_EQ(jwks_kids(*both.doc), (std::set<std::string>{a, b}));
  EXPECT_EQ(both.published, published);
  EXPECT_LE(both.from, clock_.now_unix());
  EXPECT_EQ(both.until, remove_a) << "a's removal ends this document";
  for (const std::int64_t t :
       {both.from == std::numeric_limits<std::int64_t>::min() ? clock_.now_unix() - 1000
                                                              : both.from,
        clock_.now_unix(), both.until - 1}) {
    clock_.set(t);
    EXPECT_EQ(ring_.jwks(), both.doc) << t;
  }
  const KeyRing::CurrentJwks after = ring_.current_jwks(remove_a);
  EXPECT_EQ(after.from, remove_a);
  EXPECT_EQ(jwks_kids(*after.doc), std::set<std::string>{b});

  ASSERT_TRUE(ring_.load().has_value());
  EXPECT_NE(ring_.published(), published) << "every load publishes anew";
}

TEST_F(KeysRingTest, JwksIsTheSameDocumentBetweenCalls) {
  rotate();
  const auto first = ring_.jwks();
  clock_.advance(100);
  const auto second = ring_.jwks();
  EXPECT_EQ(first, second);  // a pointer copy, not a rebuild
  EXPECT_EQ(first->etag, second->etag);
}

TEST_F(KeysRingTest, JwksUnchangedByReloadWithoutChanges) {
  rotate();
  const auto before = ring_.jwks();
  ASSERT_TRUE(ring_.load().has_value());
  const auto after = ring_.jwks();
  EXPECT_EQ(before->body, after->body);
  EXPECT_EQ(before->etag, after->etag);
}

TEST_F(KeysRingTest, JwksEtagChangesWhenAKeyIsAdded) {
  rotate();
  const auto before = ring_.jwks();
  rotate(true);
  const auto after = ring_.jwks();
  EXPECT_NE(before->etag, after->etag);
  EXPECT_NE(*before->body, *after->body);
}

TEST_F(KeysRingTest, JwksEtagChangesWhenAKeyIsRemoved) {
  rotate();
  clock_.set(kT0 + kPeriod - kAhead);
  rotate();
  const auto before = ring_.jwks();
  clock_.set(kT0 + kPeriod + kRetention);
  EXPECT_NE(ring_.jwks()->etag, before->etag);
}

TEST_F(KeysRingTest, JwksHasStrongEtagOfTheBody) {
  rotate();
  const auto doc = ring_.jwks();
  ASSERT_EQ(doc->etag.size(), 45u);  // '"' + 43 base64url chars of SHA-256 + '"'
  EXPECT_EQ(doc->etag.front(), '"');
  EXPECT_EQ(doc->etag.back(), '"');
  EXPECT_NE(doc->etag.substr(0, 2), "W/");
}

TEST_F(KeysRingTest, JwksCacheControlComesFromSettings) {
  rotate();
  EXPECT_EQ(ring_.jwks()->cache_control, "public, max-age=300, stale-while-revalidate=60");
}

TEST_F(KeysRingTest, JwksIsNoStoreBeforeLoad) {
  const auto doc = ring_.jwks();
  ASSERT_NE(doc, nullptr);
  EXPECT_EQ(*doc->body, R"({"keys":[]})");
  EXPECT_EQ(doc->cache_control, "no-store");
}

TEST_F(KeysRingTest, JwksIsNoStoreWhileEmpty) {
  ASSERT_TRUE(ring_.load().has_value());
  EXPECT_EQ(ring_.jwks()->cache_control, "no-store");
}

TEST_F(KeysRingTest, JwksListsKeysByActivateAtWithPublicMembersOnly) {
  const std::string a = rotate();
  const std::string b = rotate(true);
  const auto keys = nlohmann::json::parse(*ring_.jwks()->body).at("keys");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].at("kid"), a);
  EXPECT_EQ(keys[1].at("kid"), b);
  for (const auto& k : keys) {
    EXPECT_FALSE(k.contains("d"));
    EXPECT_EQ(k.at("use"), "sig");
    EXPECT_EQ(k.at("alg"), "ES256");
  }
  EXPECT_TRUE(jose::Jwks::parse(*ring_.jwks()->body).has_value());
}

TEST_F(KeysRingTest, ForcedRotationWithPendingKeyDoesNotCreateASecond) {
  rotate();
  rotate(true);
  auto r = ring_.rotate(true);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->ran);
  EXPECT_EQ(r->outcome, RotationOutcome::kAlreadyPending);
  EXPECT_TRUE(r->kid.empty());
  EXPECT_EQ(store_.rows().size(), 2u);
}

TEST_F(KeysRingTest, RotationWhileAnotherReplicaHoldsTheLockDoesNothing) {
  store_.set_lock_held_elsewhere(true);
  auto r = ring_.rotate(true);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->ran);
  EXPECT_TRUE(store_.rows().empty());
}

TEST_F(KeysRingTest, RotationWithStoreDownIsStoreError) {
  store_.set_unavailable(true);
  auto r = ring_.rotate(false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kStore);
  EXPECT_NE(r.error().message.find("unavailable"), std::string::npos);
}

TEST_F(KeysRingTest, WrongKekIsDetectedAtLoad) {
  const std::string a = rotate();
  KeyRing other(store_, other_kek(), clock_, test_settings());
  auto r = other.load();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kWrongKek);
  EXPECT_EQ(r.error().message,
            "the key-encryption key cannot decrypt signing key " + a + "; wrong KEK file?");
  EXPECT_FALSE(other.loaded());
}

TEST_F(KeysRingTest, WrongKekReplicaNeverAddsAKey) {
  rotate();
  KeyRing other(store_, other_kek(), clock_, test_settings());
  auto r = other.rotate(true);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kWrongKek);
  EXPECT_EQ(store_.rows().size(), 1u);
}

TEST_F(KeysRingTest, CorruptStoredKeyFailsLoad) {
  rotate();
  auto rows = store_.rows();
  // (Flipped ciphertext bits read as a wrong KEK, by design; a bad version byte does not.)
  rows[0].sealed_private[0] = 9;
  store_.set_rows(rows);
  KeyRing fresh(store_, test_kek(), clock_, test_settings());
  auto r = fresh.load();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kCorruptKey);
}

TEST_F(KeysRingTest, FailedReloadKeepsThePreviousSnapshot) {
  const std::string a = rotate();
  store_.set_unavailable(true);
  auto r = ring_.load();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kStore);
  EXPECT_EQ(signing_kid(), a);
  EXPECT_NE(ring_.find(a), nullptr);
}

TEST_F(KeysRingTest, ReloadReusesParsedKeys) {
  const std::string a = rotate();
  const auto before = ring_.find(a);
  ASSERT_TRUE(ring_.load().has_value());
  EXPECT_EQ(ring_.find(a), before);  // same object: not decrypted and parsed again
}

TEST_F(KeysRingTest, TwoRingsOnOneStoreConvergeAfterLoad) {
  KeyRing other(store_, test_kek(), clock_, test_settings());
  rotate();
  rotate(true);
  ASSERT_TRUE(other.load().has_value());
  EXPECT_EQ(other.jwks()->etag, ring_.jwks()->etag);
  EXPECT_EQ(*other.jwks()->body, *ring_.jwks()->body);
  EXPECT_EQ((*other.signing_key())->kid(), signing_kid());
  clock_.advance(kAhead);  // the pending key activates on both, with no further load
  EXPECT_EQ((*other.signing_key())->kid(), signing_kid());
  EXPECT_EQ(signing_kid(), store_.rows()[1].kid);
}

TEST_F(KeysRingTest, SignedTokensVerifyWithTheRingLookup) {
  const std::string a = rotate();
  auto token = ring_.sign({{"sub", "user-1"}, {"exp", kT0 + 600}});
  ASSERT_TRUE(token.has_value()) << token.error().message;
  EXPECT_EQ(header_kid(*token), a);
  auto v = jose::verify(*token, ring_.lookup(), clock_.now_unix());
  ASSERT_TRUE(v.has_value()) << jose::to_string(v.error());
  EXPECT_EQ(v->claims.at("sub"), "user-1");
  EXPECT_EQ(v->header.at("typ"), "at+jwt");
}

TEST_F(KeysRingTest, TokensOfARetiringKeyStillVerify) {
  rotate();
  auto token = ring_.sign({{"sub", "user-1"}, {"exp", kT0 + kPeriod + 600}});
  ASSERT_TRUE(token.has_value());
  clock_.set(kT0 + kPeriod - kAhead);
  rotate();
  clock_.set(kT0 + kPeriod + 1);  // the signing key is now retiring
  EXPECT_TRUE(jose::verify(*token, ring_.lookup(), clock_.now_unix()).has_value());
}

TEST_F(KeysRingTest, SignBeforeLoadIsNotLoaded) {
  auto token = ring_.sign({{"sub", "user-1"}});
  ASSERT_FALSE(token.has_value());
  EXPECT_EQ(token.error().code, Errc::kNotLoaded);
}

TEST_F(KeysRingTest, SigningNonObjectClaimsIsSignFailed) {
  rotate();
  auto token = ring_.sign(nlohmann::json::array());
  ASSERT_FALSE(token.has_value());
  EXPECT_EQ(token.error().code, Errc::kSignFailed);
}

TEST_F(KeysRingTest, FindUnknownOrEmptyKidIsNull) {
  rotate();
  EXPECT_EQ(ring_.find("no-such-kid"), nullptr);
  EXPECT_EQ(ring_.find(""), nullptr);
}

TEST_F(KeysRingTest, PendingKeyIsFoundForVerification) {
  rotate();
  const std::string b = rotate(true);
  EXPECT_NE(ring_.find(b), nullptr);
}

TEST_F(KeysRingTest, ReadersRunConcurrentlyWithReloadsAndRotations) {
  rotate();
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  auto reader = [&] {
    while (!done) {
      auto token = ring_.sign({{"sub", "u"}, {"exp", kT0 + 10 * kPeriod}});
      if (!token || !jose::verify(*token, ring_.lookup(), kT0).has_value()) ++failures;
      if (ring_.jwks()->body->empty()) ++failures;
      (void)ring_.describe();
    }
  };
  std::thread a(reader);
  std::thread b(reader);
  for (int i = 0; i < 20; ++i) {
    (void)ring_.rotate(true);  // alternately creates a next key and reports it pending
    (void)ring_.load();
  }
  done = true;
  a.join();
  b.join();
  EXPECT_EQ(failures, 0);
}

// --- the ID-token chain (keys.id_token_algorithm != keys.algorithm) ---

Settings two_chains() {
  Settings s = test_settings();
  s.alg = jose::Alg::ES256;
  s.id_token_alg = jose::Alg::RS256;
  return s;
}

std::string id_token_alg_of(const KeyRing& ring) {
  auto token = ring.sign_id_token([](jose::Alg) { return std::string(R"({"sub":"u"})"); });
  EXPECT_TRUE(token.has_value()) << (token ? "" : token.error().message);
  if (!token) return {};
  const auto header = base64url::decode(token->substr(0, token->find('.')));
  return nlohmann::json::parse(header.value()).at("alg");
}

TEST_F(KeysRingTest, IdTokensAreSignedByTheirOwnRs256KeyWhileAccessTokensStayEs256) {
  KeyRing ring(store_, test_kek(), clock_, two_chains());
  auto r = ring.rotate(false);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->outcome, RotationOutcome::kBootstrapped);
  EXPECT_EQ(r->id_token_outcome, RotationOutcome::kBootstrapped);
  EXPECT_EQ((*ring.signing_key())->alg(), jose::Alg::ES256);
  EXPECT_EQ((*ring.id_token_signing_key())->alg(), jose::Alg::RS256);
  EXPECT_EQ(id_token_alg_of(ring), "RS256");
  // Both are published: a verifier of either token finds its key in one JWKS.
  EXPECT_EQ(jwks_kids(*ring.jwks()), (std::set<std::string>{r->kid, r->id_token_kid}));
  auto token = ring.sign_id_token([](jose::Alg) { return std::string(R"({"sub":"u"})"); });
  ASSERT_TRUE(token.has_value());
  jose::VerifyOptions id_token;
  id_token.typ = "JWT";
  id_token.require_exp = false;
  EXPECT_TRUE(jose::verify(*token, ring.lookup(), kT0, id_token).has_value());
  for (const KeyInfo& k : ring.describe()) EXPECT_EQ(k.signs_id_tokens, k.alg == "RS256") << k.kid;
}

TEST_F(KeysRingTest, IdTokenChainAddedToARingInUseIsAnnouncedBeforeItSigns) {
  const std::string es = rotate();  // one chain, as before the upgrade
  KeyRing ring(store_, test_kek(), clock_, two_chains());
  auto r = ring.rotate(false);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->outcome, RotationOutcome::kNothingDue);
  EXPECT_EQ(r->id_token_outcome, RotationOutcome::kBootstrapped);
  // Published now, signing only once every cached JWKS has expired; until then the access
  // key signs ID tokens too, so there is never a token nobody can verify.
  EXPECT_TRUE(jwks_kids(*ring.jwks()).count(r->id_token_kid));
  EXPECT_EQ((*ring.id_token_signing_key())->kid(), es);
  clock_.advance(kAhead);
  EXPECT_EQ((*ring.id_token_signing_key())->kid(), r->id_token_kid);
  EXPECT_EQ((*ring.signing_key())->kid(), es);
}

TEST_F(KeysRingTest, BothChainsRotateAndNeitherSignsTheOthersTokens) {
  KeyRing ring(store_, test_kek(), clock_, two_chains());
  ASSERT_TRUE(ring.rotate(false).has_value());
  clock_.set(kT0 + kPeriod - kAhead);
  auto r = ring.rotate(false);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->outcome, RotationOutcome::kRotated);
  EXPECT_EQ(r->id_token_outcome, RotationOutcome::kRotated);
  clock_.set(kT0 + kPeriod);
  EXPECT_EQ((*ring.signing_key())->kid(), r->kid);
  EXPECT_EQ((*ring.id_token_signing_key())->kid(), r->id_token_kid);
  EXPECT_EQ((*ring.signing_key())->alg(), jose::Alg::ES256);
  EXPECT_EQ((*ring.id_token_signing_key())->alg(), jose::Alg::RS256);
  EXPECT_EQ(jwks_kids(*ring.jwks()).size(), 4u);  // the retiring pair still verifies
}

TEST_F(KeysRingTest, AccessAlgorithmChangeKeepsSigningThroughTheIdTokenKey) {
  Settings s = two_chains();
  KeyRing before(store_, test_kek(), clock_, s);
  ASSERT_TRUE(before.rotate(false).has_value());
  // The operator moves access tokens to EdDSA: the ES256 key stays in the access chain and
  // its EdDSA successor is announced ahead, like any rotation.
  s.alg = jose::Alg::EdDSA;
  KeyRing after(store_, test_kek(), clock_, s);
  ASSERT_TRUE(after.load().has_value());
  auto r = after.rotate(true);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ((*after.signing_key())->alg(), jose::Alg::ES256);
  clock_.advance(kAhead);
  EXPECT_EQ((*after.signing_key())->alg(), jose::Alg::EdDSA);
  EXPECT_EQ((*after.id_token_signing_key())->alg(), jose::Alg::RS256);
}

}  // namespace
}  // namespace authd::keys
