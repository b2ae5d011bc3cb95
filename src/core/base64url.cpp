#include "authd/core/base64url.h"

#include <array>
#include <cstring>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace authd::base64url {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> make_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i)
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr auto kTable = make_table();

std::string encode_raw(const unsigned char* p, std::size_t n) {
  std::string out;
  out.reserve((n * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const std::uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (n - i == 1) {
    const std::uint32_t v = p[i] << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (n - i == 2) {
    const std::uint32_t v = (p[i] << 16) | (p[i + 1] << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define AUTHD_BASE64URL_SSSE3 1
// Sixteen characters into twelve bytes, or false when one is outside the alphabet (the
// scalar loop then finds it): a token's ~700 characters cost more one by one than its scan.
// Ranges classify and translate (SSE2); SSSE3 packs. Called only when the CPU has SSSE3.
__attribute__((target("ssse3"), always_inline)) inline bool decode16(const unsigned char* in,
                                                                     unsigned char* out) noexcept {
  const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
  // Signed compares: bytes >= 0x80 are negative and fall in no range.
  const __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('A' - 1)),
                                      _mm_cmplt_epi8(c, _mm_set1_epi8('Z' + 1)));
  const __m128i lower = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('a' - 1)),
                                      _mm_cmplt_epi8(c, _mm_set1_epi8('z' + 1)));
  const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('0' - 1)),
                                      _mm_cmplt_epi8(c, _mm_set1_epi8('9' + 1)));
  const __m128i dash = _mm_cmpeq_epi8(c, _mm_set1_epi8('-'));
  const __m128i under = _mm_cmpeq_epi8(c, _mm_set1_epi8('_'));
  const __m128i valid =
      _mm_or_si128(_mm_or_si128(_mm_or_si128(upper, lower), digit), _mm_or_si128(dash, under));
  if (_mm_movemask_epi8(valid) != 0xFFFF) return false;
  // Added to each character for its value: 'A' -> 0, 'a' -> 26, '0' -> 52, '-' -> 62, '_' -> 63.
  const __m128i delta =
      _mm_or_si128(_mm_or_si128(_mm_and_si128(upper, _mm_set1_epi8(-65)),
                                _mm_and_si128(lower, _mm_set1_epi8(-71))),
                   _mm_or_si128(_mm_or_si128(_mm_and_si128(digit, _mm_set1_epi8(4)),
                                             _mm_and_si128(dash, _mm_set1_epi8(17))),
                                _mm_and_si128(under, _mm_set1_epi8(-32))));
  const __m128i v = _mm_add_epi8(c, delta);
  // Pairs of 6-bit values into 12 bits (a * 64 + b), pairs of those into a group's 24 bits,
  // then each group's three bytes, most significant first.
  const __m128i ab = _mm_maddubs_epi16(v, _mm_set1_epi32(0x01400140));
  const __m128i abcd = _mm_madd_epi16(ab, _mm_set1_epi32(0x00011000));
  const __m128i bytes =
      _mm_shuffle_epi8(abcd, _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), bytes);
  const auto tail = static_cast<std::uint32_t>(_mm_cvtsi128_si32(_mm_srli_si128(bytes, 8)));
  std::memcpy(out + 8, &tail, 4);
  return true;
}

// Whole blocks of sixteen characters from `in` (`n` of them at most) into `out` while all are
// in the alphabet; the number of characters decoded. A loop of its own, so that decode16()
// is inlined (a function of another target is not inlined into one without it).
__attribute__((target("ssse3"))) std::size_t decode_blocks(const unsigned char* in, std::size_t n,
                                                           unsigned char* out) noexcept {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16, out += 12)
    if (!decode16(in + i, out)) break;
  return i;
}

// Checked once, when the library loads.
const bool kHasSsse3 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("ssse3") != 0;
}();
#endif

}  // namespace

std::string encode(std::string_view bytes) {
  return encode_raw(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::string encode(const std::vector<std::uint8_t>& bytes) {
  return encode_raw(bytes.data(), bytes.size());
}

std::optional<std::size_t> decode_into(std::string_view text, unsigned char* out) noexcept {
  if (text.size() % 4 == 1) return std::nullopt;
  // Whole groups of four characters at a time: this runs three times per token verification,
  // and a byte-at-a-time push_back cost more than the parsing.
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  unsigned char* o = out;
  const std::size_t full = text.size() / 4 * 4;
  std::size_t i = 0;
#if defined(AUTHD_BASE64URL_SSSE3)
  if (kHasSsse3) {
    i = decode_blocks(in, full, o);  // up to a character outside the alphabet, found below
    o += i / 4 * 3;
  }
#endif
  for (; i < full; i += 4) {
    const int a = kTable[in[i]], b = kTable[in[i + 1]], c = kTable[in[i + 2]],
              d = kTable[in[i + 3]];
    if ((a | b | c | d) < 0) return std::nullopt;
    const auto v = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6) | d);
    *o++ = static_cast<unsigned char>(v >> 16);
    *o++ = static_cast<unsigned char>(v >> 8);
    *o++ = static_cast<unsigned char>(v);
  }
  std::uint32_t acc = 0;
  int bits = 0;
  for (; i < text.size(); ++i) {
    const int v = kTable[in[i]];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *o++ = static_cast<unsigned char>((acc >> bits) & 0xFF);
    }
  }
  // Leftover bits must be zero, or two different strings would decode to the same bytes.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return static_cast<std::size_t>(o - out);
}

std::optional<std::string> decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out(decoded_size(text.size()), '\0');
  if (!decode_into(text, reinterpret_cast<unsigned char*>(out.data()))) return std::nullopt;
  return out;
}

}  // namespace authd::base64url
