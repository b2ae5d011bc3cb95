// The compression function G with AVX2: a 256-bit register holds four words of one
// permutation, and two permutations run interleaved so the core has independent work while a
// multiply or shuffle is in flight. Compiled for AVX2 by target attributes, so only this
// function needs the instruction set; argon2.cpp calls it only where the CPU has it.

#include <immintrin.h>

#include "crypto/argon2/kernel.h"

#define AUTHD_AVX2 __attribute__((target("avx2"), always_inline)) inline

namespace authd::crypto::argon2::detail {
namespace {

AUTHD_AVX2 __m256i blamka(__m256i x, __m256i y) {
  const __m256i z = _mm256_mul_epu32(x, y);
  return _mm256_add_epi64(_mm256_add_epi64(x, y), _mm256_add_epi64(z, z));
}

AUTHD_AVX2 __m256i rotr32(__m256i x) { return _mm256_shuffle_epi32(x, _MM_SHUFFLE(2, 3, 0, 1)); }

AUTHD_AVX2 __m256i rotr24(__m256i x) {
  const __m256i m = _mm256_setr_epi8(3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10, 3, 4, 5,
                                     6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10);
  return _mm256_shuffle_epi8(x, m);
}

AUTHD_AVX2 __m256i rotr16(__m256i x) {
  const __m256i m = _mm256_setr_epi8(2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9, 2, 3, 4,
                                     5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9);
  return _mm256_shuffle_epi8(x, m);
}

AUTHD_AVX2 __m256i rotr63(__m256i x) {
  return _mm256_xor_si256(_mm256_srli_epi64(x, 63), _mm256_add_epi64(x, x));
}

// GB on four columns at once: a, b, c, d hold words 0-3, 4-7, 8-11, 12-15 of one permutation.
AUTHD_AVX2 void gb(__m256i& a, __m256i& b, __m256i& c, __m256i& d) {
  a = blamka(a, b);
  d = rotr32(_mm256_xor_si256(d, a));
  c = blamka(c, d);
  b = rotr24(_mm256_xor_si256(b, c));
  a = blamka(a, b);
  d = rotr16(_mm256_xor_si256(d, a));
  c = blamka(c, d);
  b = rotr63(_mm256_xor_si256(b, c));
}

// Moves (b, c, d) so that the next gb() works on the diagonals, and back.
AUTHD_AVX2 void diagonalize(__m256i& b, __m256i& c, __m256i& d) {
  b = _mm256_permute4x64_epi64(b, _MM_SHUFFLE(0, 3, 2, 1));
  c = _mm256_permute4x64_epi64(c, _MM_SHUFFLE(1, 0, 3, 2));
  d = _mm256_permute4x64_epi64(d, _MM_SHUFFLE(2, 1, 0, 3));
}

AUTHD_AVX2 void undiagonalize(__m256i& b, __m256i& c, __m256i& d) {
  b = _mm256_permute4x64_epi64(b, _MM_SHUFFLE(2, 1, 0, 3));
  c = _mm256_permute4x64_epi64(c, _MM_SHUFFLE(1, 0, 3, 2));
  d = _mm256_permute4x64_epi64(d, _MM_SHUFFLE(0, 3, 2, 1));
}

// The permutation P on two independent 16-word states, x[0..3] and x[4..7].
AUTHD_AVX2 void permute2(__m256i (&x)[8]) {
  gb(x[0], x[1], x[2], x[3]);
  gb(x[4], x[5], x[6], x[7]);
  diagonalize(x[1], x[2], x[3]);
  diagonalize(x[5], x[6], x[7]);
  gb(x[0], x[1], x[2], x[3]);
  gb(x[4], x[5], x[6], x[7]);
  undiagonalize(x[1], x[2], x[3]);
  undiagonalize(x[5], x[6], x[7]);
}

AUTHD_AVX2 __m256i load(const std::uint64_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

AUTHD_AVX2 void store(std::uint64_t* p, __m256i x) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), x);
}

// Words p[0], p[1] in the low half and p[16], p[17] in the high half: four words of a column.
AUTHD_AVX2 __m256i load_column(const std::uint64_t* p) {
  return _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)), 1);
}

AUTHD_AVX2 void store_column(std::uint64_t* p, __m256i x) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(x));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p + 16), _mm256_extracti128_si256(x, 1));
}

}  // namespace

__attribute__((target("avx2"))) void fill_avx2(const Block* prev, const Block* ref, Block* next,
                                               bool with_xor, Block* scratch) noexcept {
  std::uint64_t* r = scratch[0].v;  // prev ^ ref, for the final xor
  std::uint64_t* w = scratch[1].v;  // the working state between the two rounds
  // Rows 2k and 2k + 1: each is one 16-word permutation input.
  for (std::size_t k = 0; k < 8; k += 2) {
    __m256i x[8];
    for (std::size_t j = 0; j < 8; ++j) {
      const std::size_t at = 16 * k + 4 * j;
      x[j] = _mm256_xor_si256(load(prev->v + at), load(ref->v + at));
      store(r + at, x[j]);
    }
    permute2(x);
    for (std::size_t j = 0; j < 8; ++j) store(w + 16 * k + 4 * j, x[j]);
  }
  // Columns c and c + 1: word pairs 2c, 2c + 1 of rows 0-7, four words per register.
  for (std::size_t c = 0; c < 8; c += 2) {
    __m256i x[8];
    for (std::size_t j = 0; j < 4; ++j) {
      x[j] = load_column(w + 2 * c + 32 * j);
      x[4 + j] = load_column(w + 2 * (c + 1) + 32 * j);
    }
    permute2(x);
    // The output, xored with prev ^ ref (and the old block after the first pass).
    for (std::size_t j = 0; j < 4; ++j) {
      for (std::size_t half = 0; half < 2; ++half) {
        const std::size_t at = 2 * (c + half) + 32 * j;
        __m256i out = _mm256_xor_si256(x[4 * half + j], load_column(r + at));
        if (with_xor) out = _mm256_xor_si256(out, load_column(next->v + at));
        store_column(next->v + at, out);
      }
    }
  }
}

}  // namespace authd::crypto::argon2::detail
