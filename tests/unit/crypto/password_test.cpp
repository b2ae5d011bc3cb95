#include "authd/crypto/password.h"

#include <argon2.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>
#include <random>
#include <string>
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

// String compatibility with libsodium, both ways: the hashes in the database were written by
// crypto_pwhash_str, and a deployment rolled back to it must still verify ours.
TEST(PasswordCompatTest, LibsodiumVerifiesOurHashes) {
  std::mt19937_64 rng(0xc0ffee01);
  for (int round = 0; round < 12; ++round) {
    std::string password(rng() % 40, '\0');
    for (auto& c : password) c = static_cast<char>(rng());
    const PasswordParams params{.ops_limit = 1 + rng() % 3,
                                .mem_limit_bytes = (8 + rng() % 200) * 1024};
    auto hashed = hash_password(password, params);
    ASSERT_TRUE(hashed) << to_string(hashed.error());
    EXPECT_EQ(crypto_pwhash_str_verify(hashed->c_str(), password.data(), password.size()), 0)
        << *hashed;
    const std::string wrong = password + "x";
    EXPECT_NE(crypto_pwhash_str_verify(hashed->c_str(), wrong.data(), wrong.size()), 0);
    EXPECT_EQ(crypto_pwhash_argon2id_str_needs_rehash(hashed->c_str(), params.ops_limit,
                                                      params.mem_limit_bytes),
              0);
  }
}

TEST(PasswordCompatTest, WeVerifyLibsodiumHashes) {
  std::mt19937_64 rng(0xc0ffee02);
  for (int round = 0; round < 12; ++round) {
    std::string password(rng() % 40, '\0');
    for (auto& c : password) c = static_cast<char>(rng());
    const PasswordParams params{.ops_limit = 1 + rng() % 3,
                                .mem_limit_bytes = (8 + rng() % 200) * 1024};
    char encoded[crypto_pwhash_STRBYTES];
    ASSERT_EQ(crypto_pwhash_str_alg(encoded, password.data(), password.size(), params.ops_limit,
                                    params.mem_limit_bytes, crypto_pwhash_ALG_ARGON2ID13),
              0);
    EXPECT_TRUE(verify_password(encoded, password)) << encoded;
    EXPECT_FALSE(verify_password(encoded, password + "x")) << encoded;
    EXPECT_FALSE(needs_rehash(encoded, params)) << encoded;
    // Same shape as ours: the same prefix, salt and tag lengths.
    auto ours = hash_password(password, params);
    ASSERT_TRUE(ours);
    EXPECT_EQ(ours->size(), std::strlen(encoded));
    EXPECT_EQ(ours->substr(0, ours->rfind('$', ours->rfind('$') - 1)),
              std::string_view(encoded).substr(0, ours->rfind('$', ours->rfind('$') - 1)));
  }
}

TEST(PasswordCompatTest, WeVerifyLibsodiumArgon2iHashes) {
  char encoded[crypto_pwhash_STRBYTES];
  ASSERT_EQ(crypto_pwhash_str_alg(encoded, "legacy", 6, 3, 32 * 1024, crypto_pwhash_ALG_ARGON2I13),
            0);
  ASSERT_TRUE(std::string_view(encoded).starts_with("$argon2i$v=19$")) << encoded;
  EXPECT_TRUE(verify_password(encoded, "legacy"));
  EXPECT_FALSE(verify_password(encoded, "legacz"));
}

// Strings the reference implementation writes with several lanes verify too.
TEST(PasswordCompatTest, WeVerifyReferenceHashesWithLanes) {
  for (std::uint32_t lanes : {2u, 4u}) {
    const std::string password = "lanes-" + std::to_string(lanes);
    const unsigned char salt[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    char encoded[256];
    ASSERT_EQ(argon2id_hash_encoded(2, 64, lanes, password.data(), password.size(), salt,
                                    sizeof salt, 32, encoded, sizeof encoded),
              ARGON2_OK);
    EXPECT_TRUE(verify_password(encoded, password)) << encoded;
    EXPECT_FALSE(verify_password(encoded, password + "!")) << encoded;
    // Ours is p = 1, so such a hash is upgraded.
    EXPECT_TRUE(needs_rehash(encoded, {.ops_limit = 2, .mem_limit_bytes = 64 * 1024}));
  }
}

TEST(PasswordVerifyTest, AnyChangedTagOrSaltCharacterFails) {
  auto hashed = hash_password("pw", kFastParams);
  ASSERT_TRUE(hashed);
  const std::size_t salt_at = hashed->rfind('$', hashed->rfind('$') - 1) + 1;
  for (std::size_t i = salt_at; i < hashed->size(); ++i) {
    if ((*hashed)[i] == '$') continue;
    std::string changed = *hashed;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(verify_password(changed, "pw")) << changed;
  }
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
