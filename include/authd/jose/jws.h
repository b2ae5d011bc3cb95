#pragma once
// JWS compact serialization (RFC 7515 §7.1): signing, and the strict verifier used for
// authd's access tokens (RFC 9068) by bearer-protected routes, introspection and resource
// servers. Pure: no I/O, no clock, no logging; `now` is an argument.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "authd/core/result.h"
#include "authd/jose/errc.h"
#include "authd/jose/jwks.h"
#include "authd/jose/key.h"

namespace authd::jose {

/// Default cap on the whole compact token, in bytes.
inline constexpr std::size_t kDefaultMaxTokenBytes = 8 * 1024;
/// Cap on the base64url protected-header segment: ours is ~100 characters.
inline constexpr std::size_t kMaxHeaderSegment = 2048;
/// Cap on JSON nesting (objects and arrays) in headers, claims and JWKs.
inline constexpr std::size_t kMaxJsonDepth = 32;

/// Maps a header `kid` to a key, or to nullptr when unknown. `kid` is empty when the header
/// had none; it is otherwise 1..kMaxKidLength characters of untrusted input, to be used only
/// as a lookup key. Must be callable concurrently if verify() is.
using KeyLookup = std::function<KeyPtr(std::string_view kid)>;

/// What the verifier checks besides the signature. Defaults suit authd access tokens.
struct VerifyOptions {
  /// Clock skew tolerated on exp, nbf and iat, in seconds; negative counts as 0.
  std::int64_t leeway_s = 30;
  /// Required exact `iss`, if set.
  std::optional<std::string> issuer;
  /// Required audience, if set: equal to `aud` (string) or to one element of it (array).
  std::optional<std::string> audience;
  /// Required header `typ`, compared case-insensitively, "application/" prefix optional
  /// (RFC 7515 §4.1.9). std::nullopt disables the check (plain JWS, RFC test vectors).
  std::optional<std::string> typ = "at+jwt";
  /// Tokens longer than this are refused before any parsing.
  std::size_t max_token_bytes = kDefaultMaxTokenBytes;
  /// Refuse tokens without `exp`. Access tokens must expire.
  bool require_exp = true;
};

/// A verified JWS: its protected header, raw payload bytes and the key that verified it.
struct VerifiedJws {
  nlohmann::json header;
  std::string payload;
  KeyPtr key;
};

/// A verified JWT: its protected header, its claims (a JSON object) and the key.
struct Verified {
  nlohmann::json header;
  nlohmann::json claims;
  KeyPtr key;
};

/// Signs `claims` as a JWT with header {"alg", "kid", "typ"} (typ omitted when empty).
/// Members are serialised in sorted order, compactly.
/// @return Errc::NoPrivateKey, Errc::BadClaims (not an object, or invalid UTF-8),
///         Errc::SignFailed.
Result<std::string, Errc> sign(const Key& key, const nlohmann::json& claims,
                               std::string_view typ = "at+jwt");

/// As sign(), for claims already serialised as one compact JSON object (json::ObjectWriter
/// writes them without a DOM): the text is signed as given.
/// @return Errc::BadClaims if the text is not delimited as an object, Errc::NoPrivateKey,
///         Errc::SignFailed.
Result<std::string, Errc> sign_claims(const Key& key, std::string_view claims_json,
                                      std::string_view typ = "at+jwt");

/// Signs arbitrary payload bytes. The protected header is `header` plus "alg" from the key;
/// nothing else is added (no kid), so RFC examples can be reproduced byte for byte.
/// @return Errc::AlgKeyMismatch if `header` names another alg, Errc::BadHeaderJson if it is
///         not an object, Errc::NoPrivateKey, Errc::SignFailed.
Result<std::string, Errc> sign_jws(const Key& key, std::string_view payload,
                                   const nlohmann::json& header = nlohmann::json::object());

/// Low-level: the JWS signature (raw bytes, not base64url) of `signing_input`
/// (= base64url(header) '.' base64url(payload)). ES256 yields R||S, 64 bytes.
Result<std::string, Errc> sign_bytes(const Key& key, std::string_view signing_input);

/// Low-level: checks a raw JWS signature of `signing_input` with `key`: exact length first,
/// then (ES256) 0 < r, s < n, then OpenSSL; success only when OpenSSL returns exactly 1.
/// @return Errc::BadSignatureLength, Errc::EcdsaRangeInvalid, Errc::SignatureInvalid.
Result<void, Errc> verify_bytes(const Key& key, std::string_view signing_input,
                                std::string_view signature);

/// Verifies a compact JWS, in this order, stopping at the first failure:
///  1. size <= opts.max_token_bytes (TokenTooLarge); exactly three segments, header and
///     payload non-empty (Malformed; JSON serialization is Malformed too); header segment
///     <= kMaxHeaderSegment (HeaderTooLarge); strict base64url (BadBase64).
///  2. header: a JSON object without duplicate members at any depth (BadHeaderJson,
///     DuplicateMember, JsonTooDeep); `alg` "none" (AlgNone) or not RS256/ES256/EdDSA
///     (AlgNotAllowed); any `crit` (CritUnsupported); `b64` false (B64False); `typ` per
///     opts.typ (TypMismatch); `kid` a 1..kMaxKidLength string (KidInvalid, KidTooLong).
///     `jku`, `x5u`, `jwk`, `x5c`, `x5t` are ignored: a key never comes from the token.
///  3. key = keys(kid) (UnknownKid); header alg must equal key->alg() (AlgKeyMismatch):
///     the algorithm comes from the key, never from the token.
///  4. verify_bytes() (BadSignatureLength, EcdsaRangeInvalid, SignatureInvalid).
/// Only `typ` and size limits of `opts` are used here; claims are not looked at.
Result<VerifiedJws, Errc> verify_jws(std::string_view token, const KeyLookup& keys,
                                     const VerifyOptions& opts);

/// Verifies a JWT: verify_jws(), then, only once the signature is good, the claims:
/// a JSON object without duplicate members (BadClaimsJson, DuplicateMember, JsonTooDeep);
/// exp/nbf/iat must be numbers (InvalidClaim); exp required if opts.require_exp
/// (MissingClaim); now >= exp + leeway is Expired; now + leeway < nbf is NotYetValid;
/// now + leeway < iat is IssuedInFuture; `iss` must be a string equal to opts.issuer
/// (MissingClaim, InvalidClaim, IssuerMismatch); `aud`, a string or array of strings, must
/// contain opts.audience (MissingClaim, InvalidClaim, AudienceMismatch).
/// @param now  current time, Unix seconds, from the caller's Clock.
/// Thread-safe: keeps no state; `keys` must be safe to call concurrently.
Result<Verified, Errc> verify(std::string_view token, const KeyLookup& keys, std::int64_t now,
                              const VerifyOptions& opts = {});

/// verify() against a key set (Jwks::find semantics for the kid).
Result<Verified, Errc> verify(std::string_view token, const Jwks& keys, std::int64_t now,
                              const VerifyOptions& opts = {});

}  // namespace authd::jose
