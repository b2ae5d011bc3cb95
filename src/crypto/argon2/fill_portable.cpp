// The compression function G in plain C++: the reference every SIMD kernel is tested against.

#include "crypto/argon2/kernel.h"

namespace authd::crypto::argon2::detail {
namespace {

inline std::uint64_t rotr(std::uint64_t x, unsigned n) { return (x >> n) | (x << (64 - n)); }

// BlaMka: a + b + 2 * lo32(a) * lo32(b).
inline std::uint64_t blamka(std::uint64_t x, std::uint64_t y) {
  constexpr std::uint64_t kLow = 0xFFFFFFFFu;
  return x + y + 2 * ((x & kLow) * (y & kLow));
}

inline void gb(std::uint64_t& a, std::uint64_t& b, std::uint64_t& c, std::uint64_t& d) {
  a = blamka(a, b);
  d = rotr(d ^ a, 32);
  c = blamka(c, d);
  b = rotr(b ^ c, 24);
  a = blamka(a, b);
  d = rotr(d ^ a, 16);
  c = blamka(c, d);
  b = rotr(b ^ c, 63);
}

// The permutation P on 16 words given by their indices into `v`.
inline void permute(std::uint64_t* v, const std::size_t (&i)[16]) {
  gb(v[i[0]], v[i[4]], v[i[8]], v[i[12]]);
  gb(v[i[1]], v[i[5]], v[i[9]], v[i[13]]);
  gb(v[i[2]], v[i[6]], v[i[10]], v[i[14]]);
  gb(v[i[3]], v[i[7]], v[i[11]], v[i[15]]);
  gb(v[i[0]], v[i[5]], v[i[10]], v[i[15]]);
  gb(v[i[1]], v[i[6]], v[i[11]], v[i[12]]);
  gb(v[i[2]], v[i[7]], v[i[8]], v[i[13]]);
  gb(v[i[3]], v[i[4]], v[i[9]], v[i[14]]);
}

}  // namespace

void fill_portable(const Block* prev, const Block* ref, Block* next, bool with_xor,
                   Block* scratch) noexcept {
  Block& r = scratch[0];
  Block& w = scratch[1];
  for (std::size_t i = 0; i < kBlockWords; ++i) {
    r.v[i] = prev->v[i] ^ ref->v[i];
    w.v[i] = r.v[i];
  }
  // Rows: words 16k .. 16k + 15.
  for (std::size_t k = 0; k < 8; ++k) {
    std::size_t idx[16];
    for (std::size_t j = 0; j < 16; ++j) idx[j] = 16 * k + j;
    permute(w.v, idx);
  }
  // Columns: word pairs 2k, 2k + 1 of every row.
  for (std::size_t k = 0; k < 8; ++k) {
    std::size_t idx[16];
    for (std::size_t j = 0; j < 8; ++j) {
      idx[2 * j] = 2 * k + 16 * j;
      idx[2 * j + 1] = 2 * k + 16 * j + 1;
    }
    permute(w.v, idx);
  }
  for (std::size_t i = 0; i < kBlockWords; ++i) {
    const std::uint64_t out = w.v[i] ^ r.v[i];
    next->v[i] = with_xor ? next->v[i] ^ out : out;
  }
}

}  // namespace authd::crypto::argon2::detail
