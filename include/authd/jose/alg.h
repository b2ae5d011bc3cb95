#pragma once
// The JWS algorithms authd signs and accepts (RFC 7518 §3, RFC 8037 §3.1).

#include <optional>
#include <string_view>

namespace authd::jose {

/// A JWS signature algorithm. Each Key is bound to exactly one of these.
/// There is deliberately no HS* and no "none": a verifier that knows only asymmetric
/// algorithms cannot be tricked into using a public key as an HMAC secret.
enum class Alg {
  RS256,  ///< RSASSA-PKCS1-v1_5 with SHA-256, RSA modulus 2048..8192 bits.
  ES256,  ///< ECDSA on P-256 with SHA-256; raw 64-byte R||S on the wire.
  EdDSA,  ///< Ed25519 (RFC 8037); the only curve accepted for "EdDSA".
};

/// The JOSE name of an algorithm: "RS256", "ES256", "EdDSA".
std::string_view to_string(Alg alg) noexcept;

/// Parses a JOSE algorithm name, case-sensitively as RFC 7515 §4.1.1 requires.
/// @return the algorithm, or std::nullopt for anything else (including "none" and HS*).
std::optional<Alg> alg_from_string(std::string_view name) noexcept;

}  // namespace authd::jose
