#pragma once
// Helpers shared by the crypto tests.

#include <ostream>
#include <string>
#include <string_view>

#include "authd/crypto/errc.h"
#include "authd/crypto/password.h"

namespace authd::crypto::testing {

/// Cheapest Argon2id cost libsodium accepts, so most tests run in microseconds.
inline constexpr PasswordParams kFastParams{.ops_limit = 1, .mem_limit_bytes = 8 * 1024};

/// Lowercase hex, for readable known-answer comparisons.
inline std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

}  // namespace authd::crypto::testing

namespace authd::crypto {
// GoogleTest prints Errc by name instead of as an integer.
inline void PrintTo(Errc e, std::ostream* os) { *os << to_string(e); }
}  // namespace authd::crypto
