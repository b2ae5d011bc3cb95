#pragma once
// The auth routes: decode the request, call auth::AuthService, encode the answer. Errors are
// mapped to HTTP once, in auth_errors.h. One group per file: user_routes.cpp (login, refresh,
// logout, sessions) and oauth_routes.cpp (the OAuth 2.0 endpoints).

#include <string>
#include <vector>

#include "authd/auth/service.h"
#include "authd/http/auth_errors.h"
#include "authd/http/router.h"

namespace authd::http {

struct AuthRoutesOptions {
  /// `__Host-`: the browser takes it only as Secure, Path=/, without Domain, so no subdomain
  /// can set or shadow it. Path=/ so that /logout receives it too.
  std::string cookie_name = "__Host-authd_refresh";
  /// Read as well, for sessions opened before the name changed (its Path was /refresh).
  std::string legacy_cookie_name = "authd_refresh";
  /// Origins allowed to use cookie mode, besides each client's own allowed_origins.
  std::vector<std::string> allowed_origins;
  /// Header a cookie-mode request must carry (any value). Browsers only send custom headers
  /// cross-origin after a CORS preflight, which authd never approves.
  std::string csrf_header = "X-Authd-CSRF";
};

/// Adds POST /login, /refresh, /logout, /logout/all, GET /sessions and DELETE /sessions/{id}.
/// `service` must outlive the router.
void add_user_routes(Router& router, auth::AuthService& service, AuthRoutesOptions options);

/// Adds POST /oauth2/token (grants password, refresh_token, client_credentials; RFC 6749),
/// /oauth2/revoke (RFC 7009) and /oauth2/introspect (RFC 7662). `service` must outlive the
/// router.
void add_oauth_routes(Router& router, auth::AuthService& service);

/// Every auth route: add_user_routes() and add_oauth_routes().
void add_auth_routes(Router& router, auth::AuthService& service, AuthRoutesOptions options);

}  // namespace authd::http
