#pragma once
// Login: email + password → a new session (refresh-token family) and its first tokens.

#include "auth/context.h"

namespace authd::auth::detail {

class Login {
 public:
  explicit Login(Context& c) : c_(c) {}
  /// Unknown email and wrong password give the same error after the same hashing work; a
  /// disabled account is refused only after a correct password.
  AuthResult<TokenPair> run(const LoginRequest& req);
  /// The password check of run() for any caller (the hosted login page): rate limits per IP
  /// and account, the same hashing work for unknown emails, back-off after failures, the
  /// hash upgrade, and a disabled account refused only after a correct password.
  AuthResult<User> verify_password(const std::string& email, const std::string& password,
                                   const std::string& ip);
  /// The audit record of a login refused by verify_password().
  void audit_login_failure(const Error& error, const std::string& client_id,
                           const AuditOrigin& origin);

 private:
  /// A stored hash under weaker parameters than configured is replaced (best effort).
  void upgrade_hash(const User& user, std::string_view password, std::int64_t now);
  AuthResult<TokenPair> open_session(const User& user, const Client& client, const TokenSpec& spec,
                                     const LoginRequest& req);

  Context& c_;
};

}  // namespace authd::auth::detail
