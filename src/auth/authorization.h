#pragma once
// The authorization code flow (RFC 6749 §4.1) with PKCE (RFC 7636), OpenID Connect Core
// (ID token, UserInfo), the authd sign-in in a browser, and RP-initiated logout.
//
// A browser sign-in is a session (family) of the default client whose one, never rotated,
// token is the cookie's value, stored as a keyed hash under its own purpose (so it is no
// refresh token anywhere): it lives in the store like every family, is listed and revocable
// like one, and logout-all ends it. The family a code is exchanged for has an id derived from
// the code, so that a redemption whose answer was lost (a failover) is recognised when the
// client retries, while any other second presentation revokes what the code gave.

#include <mutex>

#include "auth/context.h"
#include "auth/login.h"
#include "authd/auth/authorization.h"

namespace authd::auth::detail {

class Authorization {
 public:
  Authorization(Context& c, Login& login) : c_(c), login_(login) {}
  AuthResult<CheckedAuthorization> check(const AuthorizeRequest& req);
  AuthorizeStep next_step(const CheckedAuthorization& req,
                          const std::optional<BrowserSession>& session) const;
  AuthResult<std::optional<BrowserSession>> browser_session(std::string_view cookie);
  AuthResult<BrowserSignIn> sign_in(const std::string& email, const std::string& password,
                                    const std::string& ip, const std::string& user_agent,
                                    const std::string& request_id = {});
  AuthResult<std::string> issue_code(const CheckedAuthorization& req,
                                     const BrowserSession& session);
  AuthResult<TokenPair> exchange(const Client& client, const CodeExchange& x);
  AuthResult<nlohmann::json> userinfo(std::string_view bearer_token);
  AuthResult<EndSessionResult> end_session(const EndSessionRequest& req);
  AuthResult<bool> origin_registered(const std::string& origin);

 private:
  /// Revokes a family and tells every replica; false when it was not live.
  bool end_family(const std::string& session_id, const std::string& reason, std::int64_t now);
  /// Ends a browser sign-in and every family issued under it; how many were live.
  AuthResult<std::size_t> end_browser_session(const std::string& browser_session_id,
                                              std::int64_t now);
  AuthResult<std::string> id_token(const User& user, const Client& client,
                                   const AuthorizationCode& code, const std::string& access_token,
                                   std::int64_t now) const;

  Context& c_;
  Login& login_;
  std::mutex origins_mu_;
  std::vector<std::string> origins_;
  std::int64_t origins_expire_at_ = 0;
};

/// The scopes an authorization request of `client` may ask for: protocol::kScopes and the
/// client's own.
std::vector<std::string> authorization_scopes(const Client& client);

}  // namespace authd::auth::detail
