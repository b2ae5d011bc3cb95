#include "authd/crypto/secretbox.h"

#include <gtest/gtest.h>

#include <string>

#include "unit/crypto/test_util.h"

namespace authd::crypto {
namespace {

constexpr std::string_view kPlain =
    "-----BEGIN PRIVATE KEY----- not really -----END PRIVATE KEY-----";

TEST(SecretboxTest, RoundTrip) {
  const Secret key = Secret::random(kSealKeyBytes);
  auto sealed = seal(key, kPlain);
  ASSERT_TRUE(sealed) << to_string(sealed.error());
  auto opened = open(key, *sealed);
  ASSERT_TRUE(opened) << to_string(opened.error());
  EXPECT_EQ(opened->view(), kPlain);
}

TEST(SecretboxTest, EmptyPlaintextRoundTrip) {
  const Secret key = Secret::random(kSealKeyBytes);
  auto sealed = seal(key, "");
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->size(), kSealOverheadBytes);
  auto opened = open(key, *sealed);
  ASSERT_TRUE(opened) << to_string(opened.error());
  EXPECT_TRUE(opened->empty());
}

TEST(SecretboxTest, LayoutIsVersionNonceCiphertext) {
  const Secret key = Secret::random(kSealKeyBytes);
  auto sealed = seal(key, kPlain);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->size(), 1 + kSealNonceBytes + kPlain.size() + kSealMacBytes);
  EXPECT_EQ(static_cast<std::uint8_t>((*sealed)[0]), kSealVersion);
  EXPECT_EQ(sealed->find(kPlain), std::string::npos);
}

TEST(SecretboxTest, FreshNonceEachSeal) {
  const Secret key = Secret::random(kSealKeyBytes);
  auto a = seal(key, kPlain);
  auto b = seal(key, kPlain);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->substr(1, kSealNonceBytes), b->substr(1, kSealNonceBytes));
  EXPECT_NE(*a, *b);
}

// Every single-bit change is rejected: in the version byte as an unknown version, anywhere
// else (nonce, ciphertext, MAC) as an authentication failure.
TEST(SecretboxTest, FlippedBitAnywhereFails) {
  const Secret key = Secret::random(kSealKeyBytes);
  auto sealed = seal(key, "short secret");
  ASSERT_TRUE(sealed);
  for (std::size_t i = 0; i < sealed->size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string tampered = *sealed;
      tampered[i] = static_cast<char>(tampered[i] ^ (1 << bit));
      auto r = open(key, tampered);
      ASSERT_FALSE(r) << "byte " << i << " bit " << bit;
      EXPECT_EQ(r.error(), i == 0 ? Errc::UnsupportedVersion : Errc::DecryptFailed)
          << "byte " << i << " bit " << bit;
    }
  }
}

TEST(SecretboxTest, WrongKeyFails) {
  auto sealed = seal(Secret::random(kSealKeyBytes), kPlain);
  ASSERT_TRUE(sealed);
  auto r = open(Secret::random(kSealKeyBytes), *sealed);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::DecryptFailed);
}

TEST(SecretboxTest, TruncatedIsMalformed) {
  const Secret key = Secret::random(kSealKeyBytes);
  auto sealed = seal(key, "");
  ASSERT_TRUE(sealed);
  for (std::size_t n = 1; n < kSealOverheadBytes; ++n) {
    auto r = open(key, sealed->substr(0, n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), Errc::Malformed) << n;
  }
}

TEST(SecretboxTest, EmptyIsMalformed) {
  auto r = open(Secret::random(kSealKeyBytes), "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::Malformed);
}

TEST(SecretboxTest, TruncatedCiphertextFailsAuthentication) {
  // Long enough to parse, but bytes are missing: the MAC catches it.
  const Secret key = Secret::random(kSealKeyBytes);
  auto sealed = seal(key, kPlain);
  ASSERT_TRUE(sealed);
  auto r = open(key, sealed->substr(0, sealed->size() - 1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::DecryptFailed);
}

TEST(SecretboxTest, UnknownVersionRejected) {
  const Secret key = Secret::random(kSealKeyBytes);
  auto sealed = seal(key, kPlain);
  ASSERT_TRUE(sealed);
  (*sealed)[0] = 2;
  auto r = open(key, *sealed);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::UnsupportedVersion);
}

TEST(SecretboxTest, SealRejectsWrongKeyLength) {
  auto r = seal(Secret::random(16), kPlain);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::InvalidKey);
}

TEST(SecretboxTest, OpenRejectsWrongKeyLength) {
  const Secret key = Secret::random(kSealKeyBytes);
  auto sealed = seal(key, kPlain);
  ASSERT_TRUE(sealed);
  auto r = open(Secret::random(64), *sealed);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::InvalidKey);
}

}  // namespace
}  // namespace authd::crypto
