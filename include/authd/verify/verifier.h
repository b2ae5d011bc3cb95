#pragma once
// authd::verify: verification of authd access tokens (RFC 9068 at+jwt) in resource servers.
//
// This header and the others under authd/verify/ use only the standard library: a service
// that links authd::verify does not inherit Boost, OpenSSL or nlohmann/json through them.
// The verifier behind it is the strict one authd uses for its own bearer routes (jose).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "authd/verify/export.h"

namespace authd::verify {

/// A signature algorithm a verifier may accept. There is no HS* and no "none".
enum class Alg { RS256, ES256, EdDSA };

/// Why a token was refused. Every value has a stable name (to_string) for logs and metrics
/// and a message (message()) safe to show a client: neither contains token contents.
enum class Error {
  kMalformed,         ///< not a compact JWS, bad base64url or JSON, duplicate members, too large
  kAlgNotAllowed,     ///< `alg` none, HS*, unknown, or not in Options::algorithms
  kAlgKeyMismatch,    ///< header `alg` differs from the key's algorithm (alg confusion)
  kHeaderRejected,    ///< `crit`, `b64:false` or a `kid` of the wrong type or length
  kTypMismatch,       ///< `typ` is not Options::typ (at+jwt by default)
  kUnknownKid,        ///< no key with this `kid`, even after a refetch allowed by the cool-down
  kBadSignature,      ///< the signature does not verify (or has the wrong length or range)
  kExpired,           ///< now >= exp + leeway
  kNotYetValid,       ///< now + leeway < nbf
  kIssuedInFuture,    ///< now + leeway < iat
  kIssuerMismatch,    ///< `iss` is not Options::issuer
  kAudienceMismatch,  ///< `aud` names none of Options::audiences
  kMissingClaim,      ///< a required claim (exp, iss, aud, sub) is absent
  kInvalidClaim,      ///< a registered claim has the wrong JSON type
  kKeysUnavailable,   ///< no key set has ever been fetched (the JWKS endpoint is unreachable)
  kKeysStale,         ///< the last good key set is older than its stale bound
  kInternal,          ///< unexpected failure inside the library; never a verdict on the token
};

/// Stable snake_case name of an error ("expired", "unknown_kid", ...).
AUTHD_VERIFY_API std::string_view to_string(Error e) noexcept;
/// A short English sentence for the error, safe for a WWW-Authenticate error_description.
AUTHD_VERIFY_API std::string_view message(Error e) noexcept;

/// The claims of a verified token. The registered and authd claims are typed; every claim,
/// including any other, is available as JSON text.
struct AUTHD_VERIFY_API Claims {
  std::string iss;
  std::string sub;
  std::vector<std::string> aud;  ///< one element when `aud` was a string
  std::string client_id;         ///< empty when absent
  std::string scope;             ///< space-separated; empty when absent
  std::string jti;               ///< empty when absent
  std::int64_t exp = 0;
  std::int64_t iat = 0;  ///< 0 when absent
  std::int64_t nbf = 0;  ///< 0 when absent
  std::string kid;       ///< the `kid` of the key that verified the token
  std::string json;      ///< the whole claims object, compact JSON

  /// The member `name` of the claims as compact JSON text (e.g. `"acme"`, `["a","b"]`), or
  /// std::nullopt when absent. Parses `json` on each call.
  std::optional<std::string> claim_json(std::string_view name) const;
  /// The member `name` when it is a JSON string.
  std::optional<std::string> claim_string(std::string_view name) const;
  /// True when `scope` holds `s` as one of its space-separated values.
  bool has_scope(std::string_view s) const noexcept;
};

/// The outcome of verify(): claims, or an error.
class AUTHD_VERIFY_API Result {
 public:
  Result(Claims claims) : claims_(std::move(claims)) {}  // NOLINT: implicit by design
  Result(Error error) : error_(error) {}                 // NOLINT: implicit by design

  bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  /// The error; only meaningful when !ok().
  Error error() const noexcept { return error_.value_or(Error::kInternal); }
  /// The claims; empty when !ok().
  const Claims& claims() const noexcept { return claims_; }
  const Claims* operator->() const noexcept { return &claims_; }

 private:
  Claims claims_;
  std::optional<Error> error_;
};

/// Wall-clock time source. Tests pass a fake; the default is std::chrono::system_clock.
using ClockFn = std::function<std::chrono::system_clock::time_point()>;

/// What a token must satisfy besides its signature.
struct AUTHD_VERIFY_API Options {
  /// Required exact `iss` (authd's auth.issuer). Empty disables the check: do not, unless the
  /// key set belongs to one issuer only.
  std::string issuer;
  /// Accepted audiences: `aud` must equal one of them (or, as an array, contain one). Empty
  /// disables the check: a token for another API of the same issuer would then pass.
  std::vector<std::string> audiences;
  /// Algorithms accepted; a key of another algorithm is never used. All three by default.
  std::vector<Alg> algorithms = {Alg::ES256, Alg::RS256, Alg::EdDSA};
  /// Clock skew tolerated on exp, nbf and iat.
  std::chrono::seconds leeway{30};
  /// Required header `typ` ("at+jwt", RFC 9068). Set "JWT" for an audience authd issues
  /// `typ: JWT` to (listed in its auth.legacy_typ_audiences); empty accepts any or none.
  std::string typ = "at+jwt";
  /// Require a non-empty `sub` (every authd access token has one).
  bool require_sub = true;
  /// Tokens longer than this are refused before any parsing.
  std::size_t max_token_bytes = 8 * 1024;
  /// Time source for exp/nbf/iat (and the JWKS cache, unless it has its own).
  ClockFn clock;
};

class JwksCache;  // authd/verify/jwks_cache.h

/// Verifies tokens against a key cache. Thread-safe: verify() may be called from any number
/// of threads at once; it takes no lock on the path where the keys are known.
class AUTHD_VERIFY_API Verifier {
 public:
  /// Verifies against a JWKS cache, which several verifiers (e.g. one per audience) may share.
  Verifier(Options options, std::shared_ptr<JwksCache> keys);
  /// Verifies against a fixed JWKS document (`{"keys":[...]}`); a malformed document gives a
  /// verifier that refuses every token with kKeysUnavailable (see keys_ok()).
  static Verifier with_jwks(Options options, std::string_view jwks_json);

  Verifier(Verifier&&) noexcept;
  Verifier& operator=(Verifier&&) noexcept;
  ~Verifier();

  /// Verifies a compact JWS (the bearer token, without "Bearer ").
  Result verify(std::string_view token) const;

  /// False when the verifier was built from a JWKS document that did not parse.
  bool keys_ok() const noexcept;

 private:
  struct Impl;
  explicit Verifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace authd::verify
