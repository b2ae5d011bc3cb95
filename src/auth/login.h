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

 private:
  /// A stored hash under weaker parameters than configured is replaced (best effort).
  void upgrade_hash(const User& user, std::string_view password, std::int64_t now);
  AuthResult<TokenPair> open_session(const User& user, const Client& client, const TokenSpec& spec,
                                     const LoginRequest& req);

  Context& c_;
};

}  // namespace authd::auth::detail
