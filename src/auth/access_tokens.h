#pragma once
// Access tokens (RFC 9068 at+jwt): the claims every one carries, signing, and strict
// verification with the revocation checks of its family and its jti.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "authd/auth/errors.h"
#include "authd/auth/service.h"
#include "authd/core/json_writer.h"

namespace authd::auth::detail {

/// What an access token is issued with, decided by the grant and the client's policy.
struct TokenSpec {
  std::string scope;                   ///< space-separated, as granted
  std::vector<std::string> audiences;  ///< `aud`; empty = Settings::audience
  std::int64_t ttl_s = 0;
};

/// Thread-safe; verify() may block on the store.
class AccessTokens {
 public:
  AccessTokens(const AuthService::Deps& deps, const Settings& settings)
      : d_(deps), settings_(settings) {}

  /// The claims every access token carries, with a fresh jti.
  json::ObjectWriter claims(const std::string& sub, const std::string& client_id,
                            const TokenSpec& spec, std::int64_t now) const;
  /// The spec for a token of `client` with this (already granted) scope: the client's lifetime,
  /// and `audiences` if each is the server's or one the client may ask for (kInvalidTarget).
  AuthResult<TokenSpec> spec(const Client& client, std::string scope,
                             const std::vector<std::string>& audiences) const;
  /// Signs finished claims with the active key, with the header `typ` of typ(spec).
  AuthResult<std::string> sign(json::ObjectWriter& claims, const TokenSpec& spec) const;
  /// "JWT" if any of the token's audiences is in Settings::legacy_typ_audiences, else RFC
  /// 9068's "at+jwt".
  std::string_view typ(const TokenSpec& spec) const;
  /// The answer to a login or a refresh: an access token for the user in this session, and
  /// the session's (new) refresh token.
  AuthResult<TokenPair> issue(const User& user, const Session& session,
                              const std::string& refresh_token, const TokenSpec& spec,
                              std::int64_t now) const;
  /// Strict verification, then: neither the family (sid, if any) nor the token (jti) is
  /// revoked. The shared revocation list answers when it can; else the store (fail closed).
  /// `any_audience`: a token authd issued for another audience (introspection, revocation);
  /// else it must be for the server's own audience (authd's bearer routes). A `typ: JWT`
  /// token is accepted only if its `aud` names a legacy-typ audience, as authd issues them.
  AuthResult<nlohmann::json> verify(std::string_view token, bool any_audience = false) const;

 private:
  /// Whether the verified claims' `aud` (a string or an array) names a legacy-typ audience.
  bool names_legacy_audience(const nlohmann::json& claims) const;

  const AuthService::Deps& d_;
  const Settings& settings_;
};

}  // namespace authd::auth::detail
