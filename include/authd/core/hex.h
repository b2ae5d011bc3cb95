#pragma once
// Lower-case hexadecimal, the one encoder every module uses (ids, digests, JSON \u escapes).

#include <string>
#include <string_view>

namespace authd::hex {

inline constexpr char kDigits[] = "0123456789abcdef";

/// Appends the two lower-case hex digits of `byte`.
inline void append_byte(std::string& out, unsigned char byte) {
  out.push_back(kDigits[byte >> 4]);
  out.push_back(kDigits[byte & 15]);
}

/// Every byte of `bytes` as two lower-case hex digits.
inline std::string encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) append_byte(out, static_cast<unsigned char>(c));
  return out;
}

}  // namespace authd::hex
