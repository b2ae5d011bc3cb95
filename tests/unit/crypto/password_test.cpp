#include "authd/crypto/password.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <thread>
#include <vector>

#include "unit/crypto/test_util.h"

namespace authd::crypto {
namespace {

using testing::kFastParams;

TEST(PasswordHashTest, RoundTrip) {
  auto hashed = hash_password("correct horse battery staple", kFastParams);
  ASSERT_TRUE(hashed) << to_string(hashed.error());
  EXPECT_TRUE(hashed->starts_with("$argon2id$v=19$m=8,t=1,p=1$")) << *hashed;
  EXPECT_TRUE(verify_password(*hashed, "correct horse battery staple"));
}

TEST(PasswordHashTest, WrongPasswordFails) {
  auto hashed = hash_password("correct horse battery staple", kFastParams);
  ASSERT_TRUE(hashed);
  EXPECT_FALSE(verify_password(*hashed, "correct horse battery stapler"));
  EXPECT_FALSE(verify_password(*hashed, ""));
}

TEST(PasswordHashTest, SaltMakesHashesDiffer) {
  auto a = hash_password("same", kFastParams);
  auto b = hash_password("same", kFastParams);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
}

TEST(PasswordHashTest, EmbeddedNulIsPartOfPassword) {
  const std::string_view with_nul("pass\0word", 9);
  auto hashed = hash_password(with_nul, kFastParams);
  ASSERT_TRUE(hashed);
  EXPECT_TRUE(verify_password(*hashed, with_nul));
  EXPECT_FALSE(verify_password(*hashed, "pass"));
}

TEST(PasswordHashTest, DefaultParamsRoundTrip) {
  const PasswordParams defaults;
  EXPECT_EQ(defaults.ops_limit, 2u);
  EXPECT_EQ(defaults.mem_limit_bytes, 19u * 1024 * 1024);
  auto hashed = hash_password("s3cret!", defaults);
  ASSERT_TRUE(hashed) << to_string(hashed.error());
  // OWASP minimum: m = 19 MiB (19456 KiB), t = 2, p = 1.
  EXPECT_TRUE(hashed->starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << *hashed;
  EXPECT_TRUE(verify_password(*hashed, "s3cret!"));
  EXPECT_FALSE(needs_rehash(*hashed, defaults));
}

TEST(PasswordVerifyTest, MalformedHashIsFalse) {
  EXPECT_FALSE(verify_password("", "pw"));
  EXPECT_FALSE(verify_password("not a hash", "pw"));
  EXPECT_FALSE(verify_password("$argon2id$v=19$m=8,t=1,p=1$", "pw"));
  EXPECT_FALSE(
      verify_password("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", "pw"));
}

TEST(PasswordVerifyTest, TruncatedHashIsFalse) {
  auto hashed = hash_password("pw", kFastParams);
  ASSERT_TRUE(hashed);
  for (std::size_t n = 0; n < hashed->size(); ++n) {
    EXPECT_FALSE(verify_password(std::string_view(*hashed).substr(0, n), "pw")) << n;
  }
}

TEST(PasswordVerifyTest, OverlongOrNulHashIsFalse) {
  auto hashed = hash_password("pw", kFastParams);
  ASSERT_TRUE(hashed);
  EXPECT_FALSE(verify_password(*hashed + std::string(200, 'A'), "pw"));
  std::string with_nul = *hashed;
  with_nul[10] = '\0';
  EXPECT_FALSE(verify_password(with_nul, "pw"));
}

TEST(PasswordRehashTest, FalseForSameParams) {
  auto hashed = hash_password("pw", kFastParams);
  ASSERT_TRUE(hashed);
  EXPECT_FALSE(needs_rehash(*hashed, kFastParams));
}

TEST(PasswordRehashTest, TrueForStrongerOps) {
  auto hashed = hash_password("pw", kFastParams);
  ASSERT_TRUE(hashed);
  EXPECT_TRUE(needs_rehash(*hashed, {.ops_limit = 2, .mem_limit_bytes = 8 * 1024}));
}

TEST(PasswordRehashTest, TrueForStrongerMemory) {
  auto hashed = hash_password("pw", kFastParams);
  ASSERT_TRUE(hashed);
  EXPECT_TRUE(needs_rehash(*hashed, {.ops_limit = 1, .mem_limit_bytes = 16 * 1024}));
}

TEST(PasswordRehashTest, TrueForMalformed) {
  EXPECT_TRUE(needs_rehash("", kFastParams));
  EXPECT_TRUE(needs_rehash("garbage", kFastParams));
}

TEST(PasswordRehashTest, TrueForLegacyArgon2i) {
  // A legacy Argon2i hash with otherwise matching cost still verifies, but must be upgraded.
  char legacy[crypto_pwhash_STRBYTES];
  ASSERT_EQ(crypto_pwhash_str_alg(legacy, "pw", 2, kFastParams.ops_limit + 2,
                                  kFastParams.mem_limit_bytes, crypto_pwhash_ALG_ARGON2I13),
            0);
  ASSERT_TRUE(std::string_view(legacy).starts_with("$argon2i$"));
  EXPECT_TRUE(verify_password(legacy, "pw"));
  EXPECT_TRUE(needs_rehash(legacy, {.ops_limit = kFastParams.ops_limit + 2,
                                    .mem_limit_bytes = kFastParams.mem_limit_bytes}));
}

TEST(PasswordParamsTest, ZeroOpsRejected) {
  auto r = hash_password("pw", {.ops_limit = 0, .mem_limit_bytes = 8 * 1024});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::InvalidParams);
}

TEST(PasswordParamsTest, TooLittleMemoryRejected) {
  auto r = hash_password("pw", {.ops_limit = 1, .mem_limit_bytes = 8 * 1024 - 1});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::InvalidParams);
}

TEST(PasswordParamsTest, TooMuchMemoryRejected) {
  // Only representable where size_t is 64-bit, which is every platform authd targets.
  auto r = hash_password("pw", {.ops_limit = 1, .mem_limit_bytes = std::size_t{1} << 62});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::InvalidParams);
}

TEST(PasswordParamsTest, DefaultsValid) { EXPECT_TRUE(validate(PasswordParams{})); }

TEST(PasswordParamsTest, NeedsRehashTrueForInvalidParams) {
  auto hashed = hash_password("pw", kFastParams);
  ASSERT_TRUE(hashed);
  EXPECT_TRUE(needs_rehash(*hashed, {.ops_limit = 0, .mem_limit_bytes = 8 * 1024}));
}

TEST(DummyHashTest, IsValidHashWithSameParams) {
  auto dummy = dummy_hash(kFastParams);
  ASSERT_TRUE(dummy);
  EXPECT_FALSE(needs_rehash(*dummy, kFastParams));
  EXPECT_FALSE(verify_password(*dummy, ""));
  EXPECT_FALSE(verify_password(*dummy, "password"));
}

TEST(DummyHashTest, CachedPerParams) {
  auto a = dummy_hash(kFastParams);
  auto b = dummy_hash(kFastParams);
  auto other = dummy_hash({.ops_limit = 2, .mem_limit_bytes = 8 * 1024});
  ASSERT_TRUE(a && b && other);
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *other);
  EXPECT_FALSE(needs_rehash(*other, {.ops_limit = 2, .mem_limit_bytes = 8 * 1024}));
}

TEST(DummyHashTest, ConcurrentFirstCallsAgree) {
  const PasswordParams params{.ops_limit = 3, .mem_limit_bytes = 8 * 1024};
  std::vector<std::string> seen(4);
  std::vector<std::thread> threads;
  for (auto& out : seen) {
    threads.emplace_back([&out, params] {
      auto h = dummy_hash(params);
      if (h) out = *h;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : seen) EXPECT_EQ(s, seen[0]);
  EXPECT_FALSE(seen[0].empty());
}

TEST(DummyHashTest, InvalidParamsRejected) {
  auto r = dummy_hash({.ops_limit = 0, .mem_limit_bytes = 8 * 1024});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::InvalidParams);
}

}  // namespace
}  // namespace authd::crypto
