#pragma once
// Error codes of the jose module: one value per reason a token, key or key set is refused.

#include <string_view>

namespace authd::jose {

/// Why a jose operation failed. Every rejection in the verifier has its own value so that
/// callers (metrics, logs, tests) can tell attacks apart; only `http/` maps them to a status.
///
/// jose reports every failure as an Errc. No exception leaves the module except
/// std::bad_alloc, as from any std container; verify() and verify_jws() convert even that,
/// and anything a throwing KeyLookup raises, into Errc::Internal.
enum class Errc {
  // --- token shape ---
  Malformed,       ///< Not exactly three '.'-separated segments, or an empty header/payload.
  TokenTooLarge,   ///< Token longer than VerifyOptions::max_token_bytes.
  HeaderTooLarge,  ///< Protected-header segment longer than kMaxHeaderSegment.
  BadBase64,       ///< A segment is not strict unpadded base64url.
  // --- JSON ---
  BadHeaderJson,    ///< Header is not a JSON object, or a header member has the wrong type.
  BadClaimsJson,    ///< Payload is not a JSON object.
  DuplicateMember,  ///< A JSON object (at any depth) repeats a member name.
  JsonTooDeep,      ///< JSON nesting deeper than kMaxJsonDepth.
  // --- header policy ---
  AlgNone,          ///< `alg` is "none" (any case): unsecured JWS is never accepted.
  AlgNotAllowed,    ///< `alg` absent, not a string, HS*, or any algorithm we do not implement.
  AlgKeyMismatch,   ///< Header `alg` differs from the algorithm the key is bound to.
  CritUnsupported,  ///< `crit` present: we understand no extensions (RFC 7515 §4.1.11).
  B64False,         ///< `b64` is false (RFC 7797 unencoded payload), which we refuse.
  TypMismatch,      ///< `typ` absent or not the expected media type.
  KidInvalid,       ///< `kid` present but not a non-empty string.
  KidTooLong,       ///< `kid` longer than kMaxKidLength.
  UnknownKid,       ///< No key for this `kid` (or no `kid` and no single default key).
  // --- signature ---
  BadSignatureLength,  ///< Signature is not exactly the size the key's algorithm produces.
  EcdsaRangeInvalid,   ///< ES256 r or s is 0 or >= the group order (CVE-2022-21449).
  SignatureInvalid,    ///< The signature does not verify.
  // --- claims ---
  InvalidClaim,      ///< A registered claim has the wrong JSON type (e.g. `exp` as a string).
  MissingClaim,      ///< A claim required by the options (`exp`, `iss`, `aud`) is absent.
  Expired,           ///< now >= exp + leeway.
  NotYetValid,       ///< now + leeway < nbf.
  IssuedInFuture,    ///< now + leeway < iat.
  IssuerMismatch,    ///< `iss` differs from VerifyOptions::issuer.
  AudienceMismatch,  ///< VerifyOptions::audience is not `aud` nor an element of it.
  // --- keys ---
  BadJwk,          ///< JWK/JWKS text or members malformed (or private members in a JWKS).
  BadPem,          ///< Not an unencrypted PKCS#8 "PRIVATE KEY" PEM for the requested alg.
  UnsupportedKey,  ///< Well-formed key we do not use (kty/crv/alg/use/key_ops), or > 8192-bit.
  WeakKey,         ///< RSA modulus below 2048 bits or a bad public exponent.
  DuplicateKid,    ///< Two keys of one JWKS share a `kid`.
  JwksTooLarge,    ///< JWKS text or key count above its cap.
  NoPrivateKey,    ///< Signing or private export asked of a public-only key.
  KeyGenFailed,    ///< OpenSSL could not generate a key.
  // --- signing ---
  BadClaims,   ///< Claims to sign are not a JSON object or not serialisable (bad UTF-8).
  SignFailed,  ///< OpenSSL refused to sign.
  Internal,    ///< Unexpected OpenSSL failure (e.g. allocation); never a verdict on input.
};

/// Stable, snake_case name of an error code, for logs and metrics labels.
std::string_view to_string(Errc e) noexcept;

}  // namespace authd::jose
