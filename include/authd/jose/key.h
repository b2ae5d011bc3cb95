#pragma once
// Key: one parsed asymmetric JOSE key (RSA, P-256 or Ed25519) bound to one algorithm.

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "authd/core/result.h"
#include "authd/jose/alg.h"
#include "authd/jose/errc.h"

namespace authd::jose {

namespace detail {
struct KeyNative;  // OpenSSL state (src/jose/key_native.h); kept out of this header on purpose.
}

class Key;
using KeyPtr = std::shared_ptr<const Key>;

/// Smallest RSA modulus accepted anywhere (generation, JWK, PEM).
inline constexpr int kMinRsaBits = 2048;
/// Largest RSA modulus accepted: bounds the cost of one verification.
inline constexpr int kMaxRsaBits = 8192;
/// Longest `kid` accepted, in a JWK and in a token header. `kid` is only a lookup key.
inline constexpr std::size_t kMaxKidLength = 128;
/// Largest JWK (or private PEM) text accepted by the parsers.
inline constexpr std::size_t kMaxJwkBytes = 64 * 1024;
/// Largest JWKS text accepted by Jwks::parse.
inline constexpr std::size_t kMaxJwksBytes = 512 * 1024;
/// Most keys one JWKS may hold.
inline constexpr std::size_t kMaxJwksKeys = 100;

/// An asymmetric signing key (public, or public + private) bound to one Alg and, for EC and
/// OKP, one curve.
///
/// The OpenSSL key is parsed once at creation and kept, because parsing keys in OpenSSL 3 is
/// far slower than using them. A Key is immutable after creation; share it as KeyPtr between
/// threads freely: signing and verifying only read it.
///
/// Key identity: `kid()` is the JWK's own "kid" when the key came from a JWK that had one,
/// otherwise the RFC 7638 thumbprint. Keys authd generates always use the thumbprint.
class Key {
 public:
  /// Generates a fresh key: RSA (`rsa_bits`, default 2048, e = 65537) for RS256,
  /// P-256 for ES256, Ed25519 for EdDSA.
  /// @return Errc::WeakKey or Errc::UnsupportedKey for an RSA size outside
  ///         [kMinRsaBits, kMaxRsaBits]; Errc::KeyGenFailed if OpenSSL fails.
  static Result<KeyPtr, Errc> generate(Alg alg, int rsa_bits = kMinRsaBits);

  /// Parses one JWK (RFC 7517/7518, RFC 8037 for OKP), public or private.
  /// The algorithm follows from kty/crv: RSA -> RS256, EC P-256 -> ES256, OKP Ed25519 -> EdDSA;
  /// an "alg" member, if present, must name that same algorithm, "use", if present, must be
  /// "sig" and "key_ops", if present, must allow "verify" or "sign" (else
  /// Errc::UnsupportedKey). Strict: RSA n and e must be minimal big-endian, EC coordinates and
  /// private scalars exactly 32 bytes, duplicate members are refused, and a private key must
  /// match its public half. An RSA private key must carry all of p, q, dp, dq, qi (else
  /// Errc::UnsupportedKey; they make signing ~3x faster and let us check d); "oth"
  /// (multi-prime RSA) is unsupported.
  /// @return Errc::BadJwk, Errc::DuplicateMember, Errc::UnsupportedKey, Errc::WeakKey,
  ///         Errc::KidInvalid, Errc::KidTooLong.
  static Result<KeyPtr, Errc> from_jwk(std::string_view json);

  /// As from_jwk(), for a JWK already parsed (e.g. one entry of a JWKS). The caller is
  /// responsible for having parsed `jwk` with duplicate detection. (A distinct name because
  /// nlohmann::json and std::string_view convert into each other.)
  static Result<KeyPtr, Errc> from_jwk_object(const nlohmann::json& jwk);

  /// Imports an unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), as written by
  /// private_pem(). The key type must suit `alg` (RSA >= 2048 bits, P-256, Ed25519).
  /// Never prompts for a passphrase: encrypted PEM is refused with Errc::BadPem.
  /// @return Errc::BadPem, Errc::AlgKeyMismatch (another key type), Errc::WeakKey,
  ///         Errc::UnsupportedKey (e.g. another curve).
  static Result<KeyPtr, Errc> from_private_pem(std::string_view pem, Alg alg);

  Key(const Key&) = delete;
  Key& operator=(const Key&) = delete;
  ~Key();

  /// The one algorithm this key signs and verifies with.
  Alg alg() const noexcept { return alg_; }
  /// The lookup key (see class comment). At most kMaxKidLength characters.
  const std::string& kid() const noexcept { return kid_; }
  /// RFC 7638 JWK thumbprint: base64url(SHA-256(canonical required members)).
  const std::string& thumbprint() const noexcept { return thumbprint_; }
  /// True when the key can sign.
  bool has_private() const noexcept { return has_private_; }
  /// Exact signature length in bytes: 64 for ES256 and EdDSA, the modulus size for RS256.
  std::size_t signature_size() const noexcept { return signature_size_; }

  /// Public JWK with "kid", "alg" and "use":"sig"; never contains private members.
  const nlohmann::json& public_jwk() const noexcept { return public_jwk_; }

  /// Private JWK (public members plus d, and for RSA p, q, dp, dq, qi).
  /// Secret material: never log it. @return Errc::NoPrivateKey for a public key.
  Result<nlohmann::json, Errc> private_jwk() const;

  /// Unencrypted PKCS#8 PEM of the private key, for the key ring to encrypt at rest.
  /// Secret material: the caller must encrypt it and should wipe it after use.
  /// @return Errc::NoPrivateKey for a public key, Errc::Internal if OpenSSL fails.
  Result<std::string, Errc> private_pem() const;

  /// The OpenSSL state, for this module's sign/verify code (an incomplete type elsewhere).
  const detail::KeyNative& native() const noexcept { return *native_; }

 private:
  friend class KeyBuilder;  // the factories' common assembly step (key.cpp)
  Key(std::unique_ptr<const detail::KeyNative> native, Alg alg, bool has_private, std::string kid,
      std::string thumbprint, nlohmann::json public_jwk, std::size_t signature_size);

  std::unique_ptr<const detail::KeyNative> native_;
  Alg alg_;
  bool has_private_;
  std::string kid_;
  std::string thumbprint_;
  nlohmann::json public_jwk_;
  std::size_t signature_size_;
};

}  // namespace authd::jose
