#pragma once
// What an access token says and whether it still stands: bearer authentication of authd's
// own routes, RFC 7662 introspection and RFC 7009 revocation.

#include "auth/context.h"

namespace authd::auth::detail {

class Introspection {
 public:
  explicit Introspection(Context& c) : c_(c) {}
  AuthResult<Principal> authenticate(std::string_view bearer_token);
  AuthResult<std::optional<nlohmann::json>> introspect(const Client& caller,
                                                       std::string_view token);
  AuthResult<void> revoke(const Client& caller, const std::string& token);

 private:
  AuthResult<void> revoke_refresh_token(const Client& caller, const std::string& token);

  Context& c_;
};

}  // namespace authd::auth::detail
