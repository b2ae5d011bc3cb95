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

  /// The hosted login page (/oauth2/authorize): its one stylesheet (served at
  /// /oauth2/assets/login.css) and optional logo (at /oauth2/assets/logo), read by the caller
  /// from the files the configuration names; "" = the built-in style, no logo.
  std::string login_css;
  std::string logo;
  std::string logo_content_type = "image/svg+xml";
  std::string product_name = "authd";
  /// Browser cookies (the sign-in and the login form's CSRF token) carry Secure and the
  /// __Host- prefix. Only a listener without TLS on loopback (development) may turn it off:
  /// browsers refuse both over plain http.
  bool secure_cookies = true;
  /// The algorithm ID tokens are signed with (keys.id_token_algorithm), the one value the
  /// discovery documents advertise for them: a relying party that reads it and registers
  /// nothing must be able to verify what it gets.
  std::string id_token_signing_alg = "RS256";
};

/// Adds POST /login, /refresh, /logout, /logout/all, GET /sessions and DELETE /sessions/{id}.
/// `service` must outlive the router.
void add_user_routes(Router& router, auth::AuthService& service, AuthRoutesOptions options);

/// Adds POST /oauth2/token (grants password, refresh_token, client_credentials; RFC 6749),
/// /oauth2/revoke (RFC 7009) and /oauth2/introspect (RFC 7662). `service` must outlive the
/// router.
void add_oauth_routes(Router& router, auth::AuthService& service);
/// The same, answering CORS for browser clients: OPTIONS preflights from an origin some client
/// registered, and Access-Control-Allow-Origin when the request's client registered it.
void add_oauth_routes(Router& router, auth::AuthService& service, AuthRoutesOptions options);

/// Adds the browser flow: GET/POST /oauth2/authorize (with the hosted login page),
/// /oauth2/userinfo, /oauth2/logout (RP-initiated logout), the login page's assets, and the
/// discovery documents /.well-known/openid-configuration and
/// /.well-known/oauth-authorization-server, generated from auth/protocol.h.
void add_browser_routes(Router& router, auth::AuthService& service, AuthRoutesOptions options);

/// The discovery document (RFC 8414 / OpenID Connect Discovery 1.0) of `issuer`.
std::string discovery_document(const std::string& issuer, const std::string& id_token_alg);

/// Every auth route: add_user_routes(), add_oauth_routes() and add_browser_routes().
void add_auth_routes(Router& router, auth::AuthService& service, AuthRoutesOptions options);

}  // namespace authd::http
