// authd's own Argon2 against RFC 9106's test vectors, libsodium's crypto_pwhash (p = 1) and the
// reference implementation libargon2 (any p), with every compression kernel this CPU runs.

#include "crypto/argon2/argon2.h"

#include <argon2.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "authd/crypto/init.h"
#include "crypto/argon2/arena.h"
#include "crypto/argon2/kernel.h"
#include "unit/crypto/test_util.h"

namespace authd::crypto::argon2 {
namespace {

using Bytes = std::vector<unsigned char>;
using testing::hex;

std::string str(const Bytes& b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// Every kernel this CPU can run: the portable one always, the SIMD ones where supported.
std::vector<Kernel> kernels() {
  std::vector<Kernel> out{Kernel::kPortable};
  for (Kernel k : {Kernel::kAvx2, Kernel::kAvx512}) {
    if (kernel_supported(k)) out.push_back(k);
  }
  return out;
}

class Argon2Test : public ::testing::TestWithParam<Kernel> {
 protected:
  void SetUp() override { ASSERT_TRUE(init()); }
};

INSTANTIATE_TEST_SUITE_P(Kernels, Argon2Test, ::testing::ValuesIn(kernels()),
                         [](const auto& info) { return std::string(kernel_name(info.param)); });

// RFC 9106 §5: P = 32 × 0x01, S = 16 × 0x02, K = 8 × 0x03, X = 12 × 0x04, m = 32 KiB,
// t = 3, p = 4, a 32-byte tag.
std::string rfc_vector(Type type, Kernel kernel) {
  const Bytes password(32, 0x01), salt(16, 0x02), secret(8, 0x03), associated(12, 0x04);
  Bytes tag(32);
  const bool ok =
      hash({.type = type, .t_cost = 3, .m_cost_kib = 32, .lanes = 4},
           {.password = password, .salt = salt, .secret = secret, .associated = associated}, tag,
           kernel);
  return ok ? hex(str(tag)) : "failed";
}

TEST_P(Argon2Test, Rfc9106Argon2idVector) {
  EXPECT_EQ(rfc_vector(Type::kArgon2id, GetParam()),
            "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659");
}

TEST_P(Argon2Test, Rfc9106Argon2iVector) {
  EXPECT_EQ(rfc_vector(Type::kArgon2i, GetParam()),
            "c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8");
}

TEST_P(Argon2Test, Rfc9106Argon2dVector) {
  EXPECT_EQ(rfc_vector(Type::kArgon2d, GetParam()),
            "512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb");
}

Bytes random_bytes(std::mt19937_64& rng, std::size_t n) {
  Bytes out(n);
  for (auto& b : out) b = static_cast<unsigned char>(rng());
  return out;
}

// libsodium's crypto_pwhash: p = 1, a 16-byte salt, t >= 3 for Argon2i.
TEST_P(Argon2Test, MatchesLibsodiumOnRandomInputs) {
  std::mt19937_64 rng(0x5eed0001);
  for (int round = 0; round < 40; ++round) {
    const bool id = round % 4 != 3;
    const Bytes password = random_bytes(rng, rng() % 80);
    const Bytes salt = random_bytes(rng, crypto_pwhash_SALTBYTES);
    const std::uint32_t t = static_cast<std::uint32_t>((id ? 1 : 3) + rng() % 3);
    const std::uint32_t m = static_cast<std::uint32_t>(8 + rng() % 600);
    const std::size_t tag_len = 16 + rng() % 113;
    SCOPED_TRACE(::testing::Message() << "round " << round << " t=" << t << " m=" << m
                                      << " tag=" << tag_len << " id=" << id);
    Bytes expected(tag_len);
    // libsodium declares the password pointer nonnull, even for an empty one.
    const char* pw = password.empty() ? "" : reinterpret_cast<const char*>(password.data());
    ASSERT_EQ(crypto_pwhash(expected.data(), tag_len, pw, password.size(), salt.data(), t,
                            std::size_t{m} * 1024,
                            id ? crypto_pwhash_ALG_ARGON2ID13 : crypto_pwhash_ALG_ARGON2I13),
              0);
    Bytes tag(tag_len);
    ASSERT_TRUE(hash(
        {.type = id ? Type::kArgon2id : Type::kArgon2i, .t_cost = t, .m_cost_kib = m, .lanes = 1},
        {.password = password, .salt = salt}, tag, GetParam()));
    EXPECT_EQ(hex(str(tag)), hex(str(expected)));
  }
}

// The reference implementation for what libsodium cannot do: several lanes, secret and
// associated data, other salt lengths, Argon2d.
TEST_P(Argon2Test, MatchesReferenceLibargon2WithLanes) {
  std::mt19937_64 rng(0x5eed0002);
  for (int round = 0; round < 40; ++round) {
    const auto type = static_cast<Type>(round % 3);
    const std::uint32_t lanes = static_cast<std::uint32_t>(1 + rng() % 8);
    const std::uint32_t t = static_cast<std::uint32_t>(1 + rng() % 3);
    const std::uint32_t m = static_cast<std::uint32_t>(8 * lanes + rng() % 700);
    Bytes password = random_bytes(rng, rng() % 64);
    Bytes salt = random_bytes(rng, 8 + rng() % 40);
    Bytes secret = random_bytes(rng, round % 2 == 0 ? 0 : 1 + rng() % 32);
    Bytes associated = random_bytes(rng, round % 5 == 0 ? 0 : 1 + rng() % 32);
    const std::size_t tag_len = 16 + rng() % 100;
    SCOPED_TRACE(::testing::Message() << "round " << round << " lanes=" << lanes << " t=" << t
                                      << " m=" << m << " tag=" << tag_len);
    Bytes expected(tag_len);
    argon2_context ctx{};
    ctx.out = expected.data();
    ctx.outlen = static_cast<std::uint32_t>(tag_len);
    ctx.pwd = password.empty() ? nullptr : password.data();
    ctx.pwdlen = static_cast<std::uint32_t>(password.size());
    ctx.salt = salt.data();
    ctx.saltlen = static_cast<std::uint32_t>(salt.size());
    ctx.secret = secret.empty() ? nullptr : secret.data();
    ctx.secretlen = static_cast<std::uint32_t>(secret.size());
    ctx.ad = associated.empty() ? nullptr : associated.data();
    ctx.adlen = static_cast<std::uint32_t>(associated.size());
    ctx.t_cost = t;
    ctx.m_cost = m;
    ctx.lanes = lanes;
    ctx.threads = 1;
    ctx.version = ARGON2_VERSION_13;
    ctx.flags = ARGON2_DEFAULT_FLAGS;
    ASSERT_EQ(argon2_ctx(&ctx, static_cast<argon2_type>(type)), ARGON2_OK);
    Bytes tag(tag_len);
    ASSERT_TRUE(
        hash({.type = type, .t_cost = t, .m_cost_kib = m, .lanes = lanes},
             {.password = password, .salt = salt, .secret = secret, .associated = associated}, tag,
             GetParam()));
    EXPECT_EQ(hex(str(tag)), hex(str(expected)));
  }
}

// Each SIMD kernel against the portable one on random blocks, with and without the xor of
// later passes: a mismatch here names the kernel before any end-to-end test does.
TEST_P(Argon2Test, KernelMatchesPortableOnRandomBlocks) {
  using detail::Block;
  const detail::FillFn fill = GetParam() == Kernel::kAvx512 ? detail::fill_avx512
                              : GetParam() == Kernel::kAvx2 ? detail::fill_avx2
                                                            : detail::fill_portable;
  std::mt19937_64 rng(0x5eed0003);
  for (int round = 0; round < 50; ++round) {
    Block prev, ref, base, expected, got, scratch[2];
    for (std::size_t i = 0; i < detail::kBlockWords; ++i) {
      prev.v[i] = rng();
      ref.v[i] = rng();
      base.v[i] = rng();
    }
    const bool with_xor = round % 2 == 1;
    expected = base;
    got = base;
    detail::fill_portable(&prev, &ref, &expected, with_xor, scratch);
    fill(&prev, &ref, &got, with_xor, scratch);
    ASSERT_EQ(std::memcmp(&expected, &got, sizeof(Block)), 0) << "round " << round;
  }
}

TEST(Argon2ParamsTest, InvalidInputsAreRefused) {
  const Bytes salt(16, 1);
  Bytes tag(32);
  EXPECT_FALSE(hash({.t_cost = 0, .m_cost_kib = 8, .lanes = 1}, {.salt = salt}, tag));
  EXPECT_FALSE(hash({.t_cost = 1, .m_cost_kib = 15, .lanes = 2}, {.salt = salt}, tag));
  EXPECT_FALSE(hash({.t_cost = 1, .m_cost_kib = 8, .lanes = 0}, {.salt = salt}, tag));
  const Bytes short_salt(7, 1);
  EXPECT_FALSE(hash({.t_cost = 1, .m_cost_kib = 8, .lanes = 1}, {.salt = short_salt}, tag));
  Bytes short_tag(15);
  EXPECT_FALSE(hash({.t_cost = 1, .m_cost_kib = 8, .lanes = 1}, {.salt = salt}, short_tag));
  EXPECT_TRUE(hash({.t_cost = 1, .m_cost_kib = 16, .lanes = 2}, {.salt = salt}, tag));
}

TEST(Argon2ArenaTest, ArenaIsWipedAndReusedAfterAHash) {
  ASSERT_TRUE(init());
  const Bytes password(20, 0x55), salt(16, 0x66);
  Bytes tag(32);
  const Params p{.t_cost = 1, .m_cost_kib = 256, .lanes = 1};
  ASSERT_TRUE(hash(p, {.password = password, .salt = salt}, tag));
  const std::size_t mapped = arena_bytes();
  EXPECT_GT(mapped, 0u);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(hash(p, {.password = password, .salt = salt}, tag));
  EXPECT_EQ(arena_bytes(), mapped) << "a hash of the same size must reuse the idle arena";
  // The most recently released arena comes back first: every byte the hash wrote is zero.
  detail::Arena arena = detail::Arena::acquire(256 * 1024);
  ASSERT_NE(arena.data(), nullptr);
  const auto* bytes = static_cast<const unsigned char*>(arena.data());
  std::size_t nonzero = 0;
  for (std::size_t i = 0; i < arena.capacity(); ++i) nonzero += bytes[i] != 0;
  EXPECT_EQ(nonzero, 0u);
  EXPECT_EQ(arena_bytes(), mapped);
}

TEST(Argon2ThreadsTest, ConcurrentHashesAgreeWithLibsodium) {
  ASSERT_TRUE(init());
  constexpr int kThreads = 4;
  std::vector<std::string> got(kThreads), want(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const Bytes password(static_cast<std::size_t>(10 + i), static_cast<unsigned char>(i));
      const Bytes salt(16, static_cast<unsigned char>(0x80 + i));
      for (int round = 0; round < 5; ++round) {
        Bytes tag(32), expected(32);
        const std::uint32_t m = static_cast<std::uint32_t>(64 + 64 * round);
        if (!hash({.t_cost = 2, .m_cost_kib = m, .lanes = 1}, {.password = password, .salt = salt},
                  tag)) {
          return;
        }
        if (crypto_pwhash(expected.data(), 32, reinterpret_cast<const char*>(password.data()),
                          password.size(), salt.data(), 2, std::size_t{m} * 1024,
                          crypto_pwhash_ALG_ARGON2ID13) != 0) {
          return;
        }
        got[static_cast<std::size_t>(i)] += hex(str(tag));
        want[static_cast<std::size_t>(i)] += hex(str(expected));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_FALSE(got[static_cast<std::size_t>(i)].empty());
    EXPECT_EQ(got[static_cast<std::size_t>(i)], want[static_cast<std::size_t>(i)]) << i;
  }
}

}  // namespace
}  // namespace authd::crypto::argon2
