#include "authd/core/base64url.h"

#include <array>

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

}  // namespace

std::string encode(std::string_view bytes) {
  return encode_raw(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::string encode(const std::vector<std::uint8_t>& bytes) {
  return encode_raw(bytes.data(), bytes.size());
}

std::optional<std::string> decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  // Whole groups of four characters at a time into a pre-sized buffer: this runs three times
  // per token verification, and a byte-at-a-time push_back cost more than the parsing.
  std::string out(text.size() / 4 * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1), '\0');
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  const std::size_t full = text.size() / 4 * 4;
  std::size_t i = 0;
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
  return out;
}

}  // namespace authd::base64url
