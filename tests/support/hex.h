#pragma once
// Lower-case hex of raw bytes, for readable comparisons of hashes and known answers.

#include <string>
#include <string_view>

namespace authd::testing {

inline std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

}  // namespace authd::testing
