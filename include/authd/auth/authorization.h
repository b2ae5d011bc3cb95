#pragma once
// The value types of the authorization code flow (RFC 6749 §4.1 with PKCE, OpenID Connect
// Core): the authorization request, the authd browser sign-in, the code exchange and
// RP-initiated logout. The work is AuthService's (service.h).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "authd/auth/client_store.h"
#include "authd/auth/errors.h"

namespace authd::auth {

/// The parameters of GET/POST /oauth2/authorize, as received ("" = absent).
struct AuthorizeRequest {
  std::string response_type;
  std::string client_id;
  std::string redirect_uri;
  std::string scope;
  std::string state;
  std::string nonce;
  std::string code_challenge;
  std::string code_challenge_method;
  std::string prompt;
  std::string max_age;  ///< decimal seconds, as sent
  std::string login_hint;
};

/// An authorization request whose client and redirect URI are known good, so that every
/// further answer goes to `redirect_uri` (RFC 6749 §4.1.2.1).
struct CheckedAuthorization {
  Client client;
  AuthorizeRequest request;
  std::string scope;  ///< granted
  std::optional<std::int64_t> max_age;
  /// Set when the request is bad in a way the client must hear of at its redirect URI.
  std::optional<Error> error;
};

/// An authd sign-in in a browser: a session of the user, named by an HttpOnly cookie.
struct BrowserSession {
  std::string id;  ///< the ID token's `sid`
  std::string user_id;
  std::int64_t auth_time = 0;  ///< when the password was entered
  std::int64_t expires_at = 0;
};

struct BrowserSignIn {
  BrowserSession session;
  std::string cookie;  ///< the cookie's value: 256 random bits, base64url; stored only hashed
};

/// What /oauth2/authorize does next for a checked request and the browser's sign-in (if any).
enum class AuthorizeStep {
  kIssueCode,      ///< the sign-in is good for this request
  kShowLogin,      ///< ask for the password (none, prompt=login, or older than max_age)
  kLoginRequired,  ///< prompt=none but a password would be needed: login_required
};

/// grant_type=authorization_code at the token endpoint.
struct CodeExchange {
  std::string code;
  std::string redirect_uri;
  std::string code_verifier;
};

/// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
struct EndSessionRequest {
  std::string id_token_hint;
  std::string client_id;
  std::string post_logout_redirect_uri;
  std::string state;
  std::string browser_cookie;  ///< the authd sign-in cookie's value, "" when none
  std::string request_id{};    ///< for the audit trail
  std::string address{};       ///< the caller's address, for the audit trail
};

struct EndSessionResult {
  /// Where to send the browser (with `state`), when a registered URI was asked for; else "".
  std::string redirect_uri;
  std::size_t sessions_ended = 0;
};

}  // namespace authd::auth
