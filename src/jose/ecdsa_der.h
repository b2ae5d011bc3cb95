#pragma once
// ES256 signature encoding: JWS carries raw R||S (RFC 7518 §3.4), OpenSSL wants DER.
// Internal to src/jose.

#include <array>
#include <cstddef>
#include <cstring>

#include "jose/openssl_util.h"

namespace authd::jose::detail {

/// Largest DER ECDSA-Sig-Value for P-256: SEQUENCE { INTEGER(33), INTEGER(33) }.
inline constexpr std::size_t kMaxEcdsaDer = 72;

// Appends one DER INTEGER holding the unsigned 32-byte big-endian `v`: minimal length, with
// a 0x00 in front when the top bit is set (DER integers are signed).
inline std::size_t der_integer(const unsigned char* v, unsigned char* out) {
  std::size_t skip = 0;
  while (skip + 1 < kP256ScalarBytes && v[skip] == 0) ++skip;
  const bool pad = (v[skip] & 0x80) != 0;
  const std::size_t len = kP256ScalarBytes - skip + (pad ? 1 : 0);
  out[0] = 0x02;
  out[1] = static_cast<unsigned char>(len);
  std::size_t o = 2;
  if (pad) out[o++] = 0x00;
  std::memcpy(out + o, v + skip, kP256ScalarBytes - skip);
  return 2 + len;
}

// Raw R||S -> DER ECDSA-Sig-Value, written directly: it is fixed-shape and this runs on every
// verification (BIGNUM + i2d would allocate four times).
inline std::size_t ecdsa_raw_to_der(const unsigned char* raw,
                                    std::array<unsigned char, kMaxEcdsaDer>& der) {
  std::size_t n = 2;
  n += der_integer(raw, der.data() + n);
  n += der_integer(raw + kP256ScalarBytes, der.data() + n);
  der[0] = 0x30;  // SEQUENCE; body <= 70 bytes, so the short length form applies
  der[1] = static_cast<unsigned char>(n - 2);
  return n;
}

}  // namespace authd::jose::detail
