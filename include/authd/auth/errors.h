#pragma once
// Outcomes of auth operations, mapped to HTTP once, in src/http (RFC 6749 §5.2 names).

#include <string>
#include <string_view>

#include "authd/core/result.h"

namespace authd::auth {

enum class Errc {
  kInvalidRequest,      ///< 400 malformed or missing fields
  kInvalidClient,       ///< 401 unknown client or bad client secret
  kUnauthorizedClient,  ///< 400 client may not use this grant
  kUnsupportedGrant,    ///< 400
  kInvalidScope,        ///< 400 a requested scope is not allowed
  kInvalidTarget,       ///< 400 a requested audience/resource is not allowed (RFC 8707)
  kInvalidGrant,        ///< 400/401 bad credentials, unknown/expired/revoked/reused refresh token
  kInvalidToken,        ///< 401 bad, expired or revoked bearer access token
  kAccessDenied,        ///< 403 disabled account
  kUnsupportedResponseType,  ///< 400 /oauth2/authorize: only response_type=code
  kLoginRequired,            ///< /oauth2/authorize with prompt=none and no usable sign-in
  kInsufficientScope,        ///< 403 the access token lacks a scope the route needs
  kNotFound,                 ///< 404
  kCsrf,                     ///< 403 cookie request without Origin/CSRF header
  kRateLimited,              ///< 429
  kUnavailable,              ///< 503 store or dependency down; retry
  kInternal,                 ///< 500
};

std::string_view to_string(Errc e);

/// An auth failure. `description` is safe to show the client; it never says whether an
/// account exists, and never contains secrets.
struct Error {
  Errc code = Errc::kInternal;
  std::string description;
  long retry_after_s = 0;  ///< for kRateLimited and kUnavailable
  /// For kRateLimited: the limit that was hit, for RateLimit-Policy / RateLimit headers.
  long limit = 0;
  long window_s = 0;
  long reset_s = 0;
  /// kUnavailable because the store had no writable primary (not a limit, not the key ring):
  /// the HTTP edge may hold the request until the store answers and run it again.
  bool store_unavailable = false;
  /// The internal cause (a store or key-ring message) for the operator's log: never sent to
  /// the client. The HTTP edge logs it with the request id when it answers 5xx.
  std::string debug{};  // {}: initialisers that omit it stay free of -Wmissing-field-initializers
};

template <class T>
using AuthResult = Result<T, Error>;

inline Unexpected<Error> fail(Errc code, std::string description) {
  return {Error{code, std::move(description)}};
}

/// A failure with an internal cause for the log (see Error::debug).
inline Unexpected<Error> fail(Errc code, std::string description, std::string debug) {
  Error e{code, std::move(description)};
  e.debug = std::move(debug);
  return {std::move(e)};
}

}  // namespace authd::auth
