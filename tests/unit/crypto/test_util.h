#pragma once
// Helpers shared by the crypto tests.

#include <ostream>
#include <string>
#include <string_view>

#include "authd/crypto/errc.h"
#include "authd/crypto/password.h"
#include "support/hex.h"

namespace authd::crypto::testing {

/// Cheapest Argon2id cost libsodium accepts, so most tests run in microseconds.
inline constexpr PasswordParams kFastParams{.ops_limit = 1, .mem_limit_bytes = 8 * 1024};

/// Lowercase hex, for readable known-answer comparisons.
inline std::string hex(std::string_view bytes) { return authd::testing::to_hex(bytes); }

/// `n` bytes counting up from 0x00 (wrapping at 0xff): every byte of a key differs.
inline std::string counting_bytes(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i);
  return s;
}

}  // namespace authd::crypto::testing

namespace authd::crypto {
// GoogleTest prints Errc by name instead of as an integer.
inline void PrintTo(Errc e, std::ostream* os) { *os << to_string(e); }
}  // namespace authd::crypto
