#pragma once
// What authd supports of OAuth 2.0 and OpenID Connect, as tables. The code that accepts a
// value consults the same table, and the discovery documents (RFC 8414, OpenID Connect
// Discovery 1.0) are generated from them, so what is advertised is what is served.

#include <array>
#include <string_view>

namespace authd::auth::protocol {

/// grant_type values /oauth2/token accepts.
inline constexpr std::array<std::string_view, 4> kGrantTypes = {
    "authorization_code", "refresh_token", "client_credentials", "password"};
/// response_type values /oauth2/authorize accepts.
inline constexpr std::array<std::string_view, 1> kResponseTypes = {"code"};
inline constexpr std::array<std::string_view, 1> kResponseModes = {"query"};
/// PKCE is required for every client, with S256 only (RFC 7636 §4.2; plain is refused).
inline constexpr std::array<std::string_view, 1> kCodeChallengeMethods = {"S256"};
/// How clients authenticate at the token, revoke and introspect endpoints.
inline constexpr std::array<std::string_view, 4> kTokenEndpointAuthMethods = {
    "client_secret_basic", "client_secret_post", "private_key_jwt", "none"};
/// Scopes every client may request besides its own registered ones.
inline constexpr std::array<std::string_view, 4> kScopes = {"openid", "profile", "email",
                                                            "offline_access"};
/// prompt values /oauth2/authorize understands.
inline constexpr std::array<std::string_view, 2> kPrompts = {"none", "login"};
inline constexpr std::array<std::string_view, 1> kSubjectTypes = {"public"};
/// JWS algorithms of ID tokens and of private_key_jwt client assertions: every one jose signs
/// and verifies (a unit test holds this to jose::Alg).
inline constexpr std::array<std::string_view, 3> kSigningAlgs = {"RS256", "ES256", "EdDSA"};
/// Claims an ID token or /oauth2/userinfo may carry.
inline constexpr std::array<std::string_view, 14> kClaims = {"iss",
                                                             "sub",
                                                             "aud",
                                                             "exp",
                                                             "iat",
                                                             "auth_time",
                                                             "nonce",
                                                             "at_hash",
                                                             "sid",
                                                             "amr",
                                                             "email",
                                                             "email_verified",
                                                             "preferred_username",
                                                             "updated_at"};
/// An authorization code lives this long at most (RFC 6749 §4.1.2 recommends 10 minutes;
/// OAuth 2.1 and authd: one).
inline constexpr long kCodeLifetimeSeconds = 60;

template <std::size_t N>
constexpr bool supports(const std::array<std::string_view, N>& table, std::string_view value) {
  for (auto v : table)
    if (v == value) return true;
  return false;
}

}  // namespace authd::auth::protocol
