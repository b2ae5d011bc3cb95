#pragma once
// JSON codecs for the auth routes: decode the request, call auth::AuthService, encode the
// answer, and map auth errors to HTTP once (RFC 6749 §5.2 bodies, WWW-Authenticate).

#include <string>
#include <vector>

#include "authd/auth/service.h"
#include "authd/http/router.h"

namespace authd::http {

struct AuthRoutesOptions {
  std::string cookie_name = "authd_refresh";
  std::string cookie_path = "/refresh";
  /// Origins allowed to use cookie mode, besides each client's own allowed_origins.
  std::vector<std::string> allowed_origins;
  /// Header a cookie-mode request must carry (any value). Browsers only send custom headers
  /// cross-origin after a CORS preflight, which authd never approves.
  std::string csrf_header = "X-Authd-CSRF";
};

/// Adds POST /login, /refresh, /logout, /logout/all, GET /sessions, DELETE /sessions/{id},
/// and POST /oauth2/token (grants password, refresh_token, client_credentials; RFC 6749).
/// `service` must outlive the router.
void add_auth_routes(Router& router, auth::AuthService& service, AuthRoutesOptions options);

/// The HTTP form of an auth error (exposed for tests and other route sets).
Response auth_error_response(const auth::Error& e, bool token_endpoint = false);

}  // namespace authd::http
