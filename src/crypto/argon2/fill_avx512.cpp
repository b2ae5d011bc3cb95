// The compression function G with AVX-512F: a 512-bit register holds four words of each of two
// permutations, and the whole block's eight row (then column) permutations run at once in 16
// registers. Compiled for AVX-512F by target attributes; argon2.cpp calls it only where the
// CPU has it.

// GCC 12's AVX-512 intrinsics fill "don't care" operands with a self-initialised variable,
// which -Wuninitialized reports at the header's line once inlined (GCC bug 105593, fixed in
// GCC 13); the diagnostic is silenced for the header's lines only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "crypto/argon2/kernel.h"

#define AUTHD_AVX512 __attribute__((target("avx512f"), always_inline)) inline

namespace authd::crypto::argon2::detail {
namespace {

AUTHD_AVX512 __m512i blamka(__m512i x, __m512i y) {
  const __m512i z = _mm512_mul_epu32(x, y);
  return _mm512_add_epi64(_mm512_add_epi64(x, y), _mm512_add_epi64(z, z));
}

AUTHD_AVX512 void gb(__m512i& a, __m512i& b, __m512i& c, __m512i& d) {
  a = blamka(a, b);
  d = _mm512_ror_epi64(_mm512_xor_si512(d, a), 32);
  c = blamka(c, d);
  b = _mm512_ror_epi64(_mm512_xor_si512(b, c), 24);
  a = blamka(a, b);
  d = _mm512_ror_epi64(_mm512_xor_si512(d, a), 16);
  c = blamka(c, d);
  b = _mm512_ror_epi64(_mm512_xor_si512(b, c), 63);
}

// Word positions of the two states in a register, as lane indices for vpermq: `rot1[i]` is
// the lane whose word moves to lane i when each state's four words rotate left by one.
struct Layout {
  __m512i rot1, rot2, rot3;
};

// Rows: state one in lanes 0-3, state two in lanes 4-7.
AUTHD_AVX512 Layout row_layout() {
  return {_mm512_set_epi64(4, 7, 6, 5, 0, 3, 2, 1), _mm512_set_epi64(5, 4, 7, 6, 1, 0, 3, 2),
          _mm512_set_epi64(6, 5, 4, 7, 2, 1, 0, 3)};
}

// Columns: state one in lanes 0, 1, 4, 5 and state two in lanes 2, 3, 6, 7 (a register holds
// words 2c .. 2c + 3 and 2c + 16 .. 2c + 19 of the block: two words of columns c and c + 1).
AUTHD_AVX512 Layout column_layout() {
  return {_mm512_set_epi64(2, 7, 0, 5, 6, 3, 4, 1), _mm512_set_epi64(3, 2, 1, 0, 7, 6, 5, 4),
          _mm512_set_epi64(6, 3, 4, 1, 2, 7, 0, 5)};
}

// P on the eight 16-word states of one half-round, two per group of four registers.
AUTHD_AVX512 void permute8(__m512i (&x)[16], const Layout& l) {
  for (std::size_t g = 0; g < 16; g += 4) gb(x[g], x[g + 1], x[g + 2], x[g + 3]);
  for (std::size_t g = 0; g < 16; g += 4) {
    x[g + 1] = _mm512_permutexvar_epi64(l.rot1, x[g + 1]);
    x[g + 2] = _mm512_permutexvar_epi64(l.rot2, x[g + 2]);
    x[g + 3] = _mm512_permutexvar_epi64(l.rot3, x[g + 3]);
  }
  for (std::size_t g = 0; g < 16; g += 4) gb(x[g], x[g + 1], x[g + 2], x[g + 3]);
  for (std::size_t g = 0; g < 16; g += 4) {
    x[g + 1] = _mm512_permutexvar_epi64(l.rot3, x[g + 1]);
    x[g + 2] = _mm512_permutexvar_epi64(l.rot2, x[g + 2]);
    x[g + 3] = _mm512_permutexvar_epi64(l.rot1, x[g + 3]);
  }
}

// Words p[0..3] in the low half and p[16..19] in the high half.
AUTHD_AVX512 __m512i load(const std::uint64_t* p) {
  return _mm512_inserti64x4(
      _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))),
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16)), 1);
}

AUTHD_AVX512 void store(std::uint64_t* p, __m512i x) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_castsi512_si256(x));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + 16), _mm512_extracti64x4_epi64(x, 1));
}

// Offsets of the 16 registers' low halves, in the order permute8() groups them (a, b, c, d of
// one pair of states, then the next pair). Rows 2k, 2k + 1 start at 32k; column pairs at 2c.
constexpr std::size_t row_offset(std::size_t i) { return 32 * (i / 4) + 4 * (i % 4); }
constexpr std::size_t column_offset(std::size_t i) { return 4 * (i / 4) + 32 * (i % 4); }

}  // namespace

__attribute__((target("avx512f"))) void fill_avx512(const Block* prev, const Block* ref,
                                                    Block* next, bool with_xor,
                                                    Block* scratch) noexcept {
  std::uint64_t* r = scratch[0].v;  // prev ^ ref, for the final xor
  std::uint64_t* w = scratch[1].v;  // the state between the row and the column half-rounds
  __m512i x[16];
  for (std::size_t i = 0; i < 16; ++i) {
    const std::size_t at = row_offset(i);
    x[i] = _mm512_xor_si512(load(prev->v + at), load(ref->v + at));
    store(r + at, x[i]);
  }
  permute8(x, row_layout());
  for (std::size_t i = 0; i < 16; ++i) store(w + row_offset(i), x[i]);
  for (std::size_t i = 0; i < 16; ++i) x[i] = load(w + column_offset(i));
  permute8(x, column_layout());
  for (std::size_t i = 0; i < 16; ++i) {
    const std::size_t at = column_offset(i);
    __m512i out = _mm512_xor_si512(x[i], load(r + at));
    if (with_xor) out = _mm512_xor_si512(out, load(next->v + at));
    store(next->v + at, out);
  }
}

}  // namespace authd::crypto::argon2::detail
