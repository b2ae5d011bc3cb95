#pragma once
// Access tokens (RFC 9068 at+jwt): the claims every one carries, signing, and strict
// verification with the revocation checks of its family and its jti.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "authd/auth/errors.h"
#include "authd/auth/service.h"
#include "authd/core/json_writer.h"

namespace authd::auth::detail {

/// Thread-safe; verify() may block on the store.
class AccessTokens {
 public:
  AccessTokens(const AuthService::Deps& deps, const Settings& settings)
      : d_(deps), settings_(settings) {}

  /// The claims every access token carries, with a fresh jti.
  json::ObjectWriter claims(const std::string& sub, const std::string& client_id,
                            const std::string& scope, std::int64_t now) const;
  /// Signs finished claims with the active key.
  AuthResult<std::string> sign(json::ObjectWriter& claims) const;
  /// The answer to a login or a refresh: an access token for the user in this session, and
  /// the session's (new) refresh token.
  AuthResult<TokenPair> issue(const User& user, const Session& session,
                              const std::string& refresh_token, std::int64_t now) const;
  /// Strict verification, then: neither the family (sid, if any) nor the token (jti) is
  /// revoked. The shared revocation list answers when it can; else the store (fail closed).
  AuthResult<nlohmann::json> verify(std::string_view token) const;

 private:
  const AuthService::Deps& d_;
  const Settings& settings_;
};

}  // namespace authd::auth::detail
