#include "authd/crypto/keyed_hash.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>

#include "unit/crypto/test_util.h"

namespace authd::crypto {
namespace {

using testing::counting_bytes;
using testing::hex;

KeyedHasher make_hasher(std::string_view key) {
  auto h = KeyedHasher::create(Secret(key));
  EXPECT_TRUE(h);
  return std::move(h).value();
}

TEST(KeyedHashTest, DigestIs32Bytes) {
  EXPECT_EQ(make_hasher(counting_bytes(32)).hash("x").size(), 32u);
  EXPECT_EQ(make_hasher(counting_bytes(32)).hash("").size(), 32u);
}

TEST(KeyedHashTest, Deterministic) {
  const KeyedHasher a = make_hasher(counting_bytes(32));
  const KeyedHasher b = make_hasher(counting_bytes(32));
  EXPECT_EQ(a.hash("refresh-token"), a.hash("refresh-token"));
  EXPECT_EQ(a.hash("refresh-token"), b.hash("refresh-token"));
}

TEST(KeyedHashTest, DifferentKeysDiffer) {
  const Secret k1 = Secret::random(32);
  const Secret k2 = Secret::random(32);
  EXPECT_NE(KeyedHasher(k1.clone()).hash("token"), KeyedHasher(k2.clone()).hash("token"));
}

TEST(KeyedHashTest, DifferentDataDiffer) {
  const KeyedHasher h = make_hasher(counting_bytes(32));
  EXPECT_NE(h.hash("token-a"), h.hash("token-b"));
}

// Known answer, cross-checked with an independent implementation:
//   hashlib.blake2b(b"abc", key=bytes(range(32)), digest_size=32).hexdigest()
TEST(KeyedHashTest, KnownAnswer) {
  EXPECT_EQ(hex(make_hasher(counting_bytes(32)).hash("abc")),
            "d63a32d3e44738d7907f964316c241adaba0abfeabc32349677578a15a203f7f");
}

// The reference BLAKE2 keyed KAT (blake2b-kat.txt: key 00..3f, input 000102, 64-byte output)
// pins the primitive; KeyedHasher must match that primitive called directly at 32 bytes.
TEST(KeyedHashTest, MatchesLibsodiumDirectCall) {
  const std::string key = counting_bytes(64);
  const std::string in = counting_bytes(3);
  unsigned char full[64];
  crypto_generichash(full, sizeof full, reinterpret_cast<const unsigned char*>(in.data()),
                     in.size(), reinterpret_cast<const unsigned char*>(key.data()), key.size());
  EXPECT_EQ(hex(std::string_view(reinterpret_cast<const char*>(full), sizeof full)),
            "33d0825dddf7ada99b0e7e307104ad07ca9cfd9692214f1561356315e784f3e5"
            "a17e364ae9dbb14cb2036df932b77f4b292761365fb328de7afdc6d8998f5fc1");

  const std::string data = "some refresh token bytes";
  unsigned char direct[32];
  crypto_generichash(direct, sizeof direct, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size(), reinterpret_cast<const unsigned char*>(key.data()), key.size());
  EXPECT_EQ(make_hasher(key).hash(data),
            std::string(reinterpret_cast<const char*>(direct), sizeof direct));
}

TEST(KeyedHashTest, ShortKeyRejected) {
  auto h = KeyedHasher::create(Secret(counting_bytes(31)));
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error(), Errc::InvalidKey);
}

TEST(KeyedHashTest, LongKeyRejected) {
  auto h = KeyedHasher::create(Secret(counting_bytes(65)));
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error(), Errc::InvalidKey);
}

TEST(KeyedHashTest, EmptyKeyRejected) {
  auto h = KeyedHasher::create(Secret());
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error(), Errc::InvalidKey);
}

TEST(KeyedHashDeathTest, ConstructorAbortsOnShortKey) {
  EXPECT_DEATH(KeyedHasher(Secret("short")), "KeyedHasher key must be");
}

// hashlib.blake2b(b"refresh-token-store\x00token", key=bytes(range(32)), digest_size=32)
TEST(KeyedDeriveTest, KnownAnswer) {
  EXPECT_EQ(hex(make_hasher(counting_bytes(32)).derive("refresh-token-store", "token")),
            "060f223aa10bad63d84a45fd92bb400694a9d2b39dd9c1bc9bde3c215cb55b63");
}

TEST(KeyedDeriveTest, EqualsHashOfContextNulData) {
  const KeyedHasher h = make_hasher(counting_bytes(48));
  EXPECT_EQ(h.derive("ctx", "data"), h.hash(std::string_view("ctx\0data", 8)));
}

TEST(KeyedDeriveTest, Deterministic) {
  const KeyedHasher h = make_hasher(counting_bytes(32));
  EXPECT_EQ(h.derive("refresh-successor", "tok"), h.derive("refresh-successor", "tok"));
}

TEST(KeyedDeriveTest, DifferentContextsDiffer) {
  const KeyedHasher h = make_hasher(counting_bytes(32));
  EXPECT_NE(h.derive("refresh-token-store", "tok"), h.derive("refresh-successor", "tok"));
}

TEST(KeyedDeriveTest, DiffersFromPlainHash) {
  const KeyedHasher h = make_hasher(counting_bytes(32));
  EXPECT_NE(h.derive("", "tok"), h.hash("tok"));
}

TEST(KeyedDeriveTest, BoundaryBetweenContextAndDataMatters) {
  const KeyedHasher h = make_hasher(counting_bytes(32));
  EXPECT_NE(h.derive("ab", "c"), h.derive("a", "bc"));
}

TEST(KeyedDeriveTest, DifferentKeysDiffer) {
  EXPECT_NE(make_hasher(counting_bytes(32)).derive("ctx", "tok"),
            make_hasher(counting_bytes(33)).derive("ctx", "tok"));
}

}  // namespace
}  // namespace authd::crypto
