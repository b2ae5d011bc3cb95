// The refresh-token format: what a successor shares with its predecessor and what it doesn't.

#include "authd/auth/refresh_token.h"

#include <gtest/gtest.h>

#include <set>

#include "authd/core/base64url.h"
#include "authd/crypto/init.h"

namespace authd::auth {
namespace {

class RefreshTokenCodecTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(crypto::init()); }
  crypto::KeyedHasher pepper_{crypto::Secret::random(32)};
  RefreshTokenCodec codec_{pepper_};
  SystemRandom random_;
};

std::string family_tag(const std::string& token) {
  return base64url::decode(token)->substr(0, RefreshTokenCodec::kFamilyTagBytes);
}

TEST_F(RefreshTokenCodecTest, MintedTokensAre256RandomBitsInBase64url) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string t = codec_.mint(random_);
    EXPECT_EQ(t.size(), 43u);
    EXPECT_TRUE(RefreshTokenCodec::well_formed(t));
    EXPECT_EQ(
        t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST_F(RefreshTokenCodecTest, MalformedTokensAreRecognised) {
  const std::string good = codec_.mint(random_);
  EXPECT_FALSE(RefreshTokenCodec::well_formed(""));
  EXPECT_FALSE(RefreshTokenCodec::well_formed(good.substr(1)));
  EXPECT_FALSE(RefreshTokenCodec::well_formed(good + "A"));
  EXPECT_FALSE(RefreshTokenCodec::well_formed(std::string(42, 'A') + "="));
  EXPECT_FALSE(RefreshTokenCodec::well_formed(std::string(42, 'A') + "+"));
}

TEST_F(RefreshTokenCodecTest, SuccessorIsDeterministicKeepsTheFamilyTagAndIsNew) {
  const std::string t = codec_.mint(random_);
  const std::string next = codec_.successor(t);
  EXPECT_TRUE(RefreshTokenCodec::well_formed(next));
  EXPECT_NE(next, t);
  EXPECT_EQ(codec_.successor(t), next);  // a replay gets the very same successor
  EXPECT_EQ(family_tag(next), family_tag(t));
  EXPECT_NE(codec_.successor(next), next);
}

TEST_F(RefreshTokenCodecTest, SuccessorDependsOnThePepper) {
  const std::string t = codec_.mint(random_);
  crypto::KeyedHasher other(crypto::Secret::random(32));
  EXPECT_NE(RefreshTokenCodec(other).successor(t), codec_.successor(t));
}

TEST_F(RefreshTokenCodecTest, StoreHashIsKeyedAndNeverTheTokenOrItsSuccessor) {
  const std::string t = codec_.mint(random_);
  const std::string h = codec_.store_hash(t);
  EXPECT_EQ(h.size(), crypto::KeyedHasher::kDigestBytes);
  EXPECT_EQ(codec_.store_hash(t), h);
  EXPECT_EQ(refresh_token_store_hash(pepper_, t), h);
  EXPECT_NE(h, *base64url::decode(t));
  EXPECT_NE(h, *base64url::decode(codec_.successor(t)));
  crypto::KeyedHasher other(crypto::Secret::random(32));
  EXPECT_NE(RefreshTokenCodec(other).store_hash(t), h);
}

TEST_F(RefreshTokenCodecTest, FamilyLimitKeyIsSharedByTheChainAndDiffersBetweenFamilies) {
  const std::string a = codec_.mint(random_), b = codec_.mint(random_);
  const std::string key = codec_.family_limit_key(a);
  EXPECT_EQ(key.rfind("refresh:fam:", 0), 0u);
  std::string t = a;
  for (int i = 0; i < 10; ++i) {
    t = codec_.successor(t);
    EXPECT_EQ(codec_.family_limit_key(t), key);
  }
  EXPECT_NE(codec_.family_limit_key(b), key);
  // The key is keyed: the tag itself never appears in it.
  EXPECT_EQ(key.find(base64url::encode(family_tag(a))), std::string::npos);
}

TEST_F(RefreshTokenCodecTest, TokensAuthdMadeAreAuthenticAndForgeriesAreNot) {
  const std::string t = codec_.mint(random_);
  EXPECT_TRUE(codec_.authentic(t));
  EXPECT_TRUE(codec_.authentic(codec_.successor(t)));
  // A forgery keeps a family's tag and guesses the rest.
  std::string forged = family_tag(t) + random_.bytes(RefreshTokenCodec::kTokenBytes -
                                                     RefreshTokenCodec::kFamilyTagBytes);
  EXPECT_FALSE(codec_.authentic(base64url::encode(forged)));
  // Changing any byte of a real token breaks it.
  std::string raw = *base64url::decode(t);
  raw[12] = static_cast<char>(raw[12] ^ 1);
  EXPECT_FALSE(codec_.authentic(base64url::encode(raw)));
  // Another server's pepper makes other MACs.
  crypto::KeyedHasher other{crypto::Secret::random(32)};
  EXPECT_FALSE(RefreshTokenCodec(other).authentic(t));
  EXPECT_FALSE(codec_.authentic("not a token"));
}

}  // namespace
}  // namespace authd::auth
