#pragma once
// A user's sessions (refresh-token families): list them, end one, end them all.

#include "auth/context.h"

namespace authd::auth::detail {

class Sessions {
 public:
  explicit Sessions(Context& c) : c_(c) {}
  AuthResult<void> logout_refresh_token(const std::string& refresh_token,
                                        const AuditOrigin& origin);
  AuthResult<void> logout(const Principal& who, const AuditOrigin& origin);
  AuthResult<std::size_t> logout_all(const Principal& who, const AuditOrigin& origin);
  AuthResult<std::vector<Session>> list(const Principal& who);
  AuthResult<void> remove(const Principal& who, const std::string& session_id,
                          const AuditOrigin& origin);

 private:
  /// Revokes one family (already revoked is fine), audits and announces it.
  AuthResult<void> end(const std::string& session_id, const std::string& user_id,
                       const std::string& client_id, const AuditOrigin& origin);

  Context& c_;
};

}  // namespace authd::auth::detail
