#include "authd/auth/service.h"

#include <algorithm>
#include <cctype>

#include "auth/authorization.h"
#include "auth/context.h"
#include "auth/introspection.h"
#include "auth/login.h"
#include "auth/refresh.h"
#include "auth/sessions.h"
#include "auth/token_endpoint.h"

namespace authd::auth {

std::string_view to_string(Errc e) {
  switch (e) {
    case Errc::kInvalidRequest:
      return "invalid_request";
    case Errc::kInvalidClient:
      return "invalid_client";
    case Errc::kUnauthorizedClient:
      return "unauthorized_client";
    case Errc::kUnsupportedGrant:
      return "unsupported_grant_type";
    case Errc::kInvalidScope:
      return "invalid_scope";
    case Errc::kInvalidTarget:
      return "invalid_target";
    case Errc::kInvalidGrant:
      return "invalid_grant";
    case Errc::kInvalidToken:
      return "invalid_token";
    case Errc::kAccessDenied:
      return "access_denied";
    case Errc::kUnsupportedResponseType:
      return "unsupported_response_type";
    case Errc::kLoginRequired:
      return "login_required";
    case Errc::kInsufficientScope:
      return "insufficient_scope";
    case Errc::kNotFound:
      return "not_found";
    case Errc::kCsrf:
      return "csrf_check_failed";
    case Errc::kRateLimited:
      return "rate_limited";
    case Errc::kUnavailable:
      return "temporarily_unavailable";
    case Errc::kInternal:
      return "server_error";
  }
  return "server_error";
}

std::optional<std::string> normalize_email(std::string_view email) {
  auto b = email.find_first_not_of(" \t\r\n");
  auto e = email.find_last_not_of(" \t\r\n");
  if (b == std::string_view::npos) return std::nullopt;
  std::string s(email.substr(b, e - b + 1));
  if (s.size() > 254) return std::nullopt;
  auto at = s.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= s.size() ||
      s.find('@', at + 1) != std::string::npos)
    return std::nullopt;
  for (unsigned char c : s)
    if (c < 0x21 || c == 0x7f) return std::nullopt;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

AuthService::AuthService(Deps deps, Settings settings)
    : context_(std::make_unique<detail::Context>(deps, std::move(settings))),
      login_(std::make_unique<detail::Login>(*context_)),
      refresh_(std::make_unique<detail::Refresh>(*context_)),
      sessions_(std::make_unique<detail::Sessions>(*context_)),
      token_endpoint_(std::make_unique<detail::TokenEndpoint>(*context_)),
      introspection_(std::make_unique<detail::Introspection>(*context_)),
      authorization_(std::make_unique<detail::Authorization>(*context_, *login_)) {}

AuthService::~AuthService() = default;

const Settings& AuthService::settings() const { return context_->settings; }

AuthResult<TokenPair> AuthService::login(const LoginRequest& req) { return login_->run(req); }

AuthResult<TokenPair> AuthService::refresh(const RefreshRequest& req) { return refresh_->run(req); }

bool AuthService::refresh_async(const RefreshRequest& req, RefreshDone done, Resume resume) {
  return refresh_->start(req, std::move(done), std::move(resume));
}

AuthResult<Principal> AuthService::authenticate(std::string_view bearer_token) {
  return introspection_->authenticate(bearer_token);
}

AuthResult<void> AuthService::logout_refresh_token(const std::string& refresh_token,
                                                   const AuditOrigin& origin) {
  return sessions_->logout_refresh_token(refresh_token, origin);
}

AuthResult<void> AuthService::logout(const Principal& who, const AuditOrigin& origin) {
  return sessions_->logout(who, origin);
}

AuthResult<std::size_t> AuthService::logout_all(const Principal& who, const AuditOrigin& origin) {
  return sessions_->logout_all(who, origin);
}

AuthResult<std::vector<Session>> AuthService::list_sessions(const Principal& who) {
  return sessions_->list(who);
}

AuthResult<void> AuthService::delete_session(const Principal& who, const std::string& session_id,
                                             const AuditOrigin& origin) {
  return sessions_->remove(who, session_id, origin);
}

std::optional<AuthResult<Client>> AuthService::authenticate_cached_client(
    const ClientAuthRequest& req) {
  auto c = token_endpoint_->authenticate_cached_client(req);
  if (c) audit_client_authentication(req, *c);
  return c;
}

AuthResult<Client> AuthService::authenticate_client(const ClientAuthRequest& req,
                                                    const ClientAuthRequest* fallback) {
  auto c = token_endpoint_->authenticate_client(req);
  if (!c && fallback && c.error().code == Errc::kInvalidClient)
    c = token_endpoint_->authenticate_client(*fallback);
  audit_client_authentication(req, c);
  return c;
}

void AuthService::audit_client_authentication(const ClientAuthRequest& req,
                                              const AuthResult<Client>& c) {
  detail::Context& ctx = *context_;
  AuditEvent e{.type = "client.authenticated", .outcome = c ? "success" : "failure"};
  if (!c) {
    const Errc code = c.error().code;
    e.reason = code == Errc::kInvalidClient ? "invalid_client"
               : code == Errc::kRateLimited ? "rate_limited"
               : code == Errc::kUnavailable ? "unavailable"
                                            : "internal";
  }
  // A refused id is the caller's text: bounded, so a line stays a line of reasonable size.
  e.client_id = c ? c->id : req.client_id.substr(0, 128);
  e.request_id = req.request_id;
  e.address = req.ip;
  ctx.audit(std::move(e));
}

AuthResult<TokenPair> AuthService::client_credentials(const Client& client,
                                                      const std::string& scope,
                                                      const std::vector<std::string>& audiences) {
  return token_endpoint_->client_credentials(client, scope, audiences);
}

AuthResult<std::optional<nlohmann::json>> AuthService::introspect(const Client& caller,
                                                                  std::string_view token) {
  return introspection_->introspect(caller, token);
}

AuthResult<void> AuthService::revoke(const Client& caller, const std::string& token) {
  return introspection_->revoke(caller, token);
}

AuthResult<CheckedAuthorization> AuthService::check_authorization(const AuthorizeRequest& req) {
  return authorization_->check(req);
}

AuthorizeStep AuthService::next_step(const CheckedAuthorization& req,
                                     const std::optional<BrowserSession>& session) const {
  return authorization_->next_step(req, session);
}

AuthResult<std::optional<BrowserSession>> AuthService::browser_session(std::string_view cookie) {
  return authorization_->browser_session(cookie);
}

AuthResult<BrowserSignIn> AuthService::sign_in(const std::string& email,
                                               const std::string& password, const std::string& ip,
                                               const std::string& user_agent,
                                               const std::string& request_id) {
  return authorization_->sign_in(email, password, ip, user_agent, request_id);
}

AuthResult<std::string> AuthService::issue_code(const CheckedAuthorization& req,
                                                const BrowserSession& session) {
  return authorization_->issue_code(req, session);
}

AuthResult<TokenPair> AuthService::exchange_code(const Client& client,
                                                 const CodeExchange& exchange) {
  return authorization_->exchange(client, exchange);
}

AuthResult<nlohmann::json> AuthService::userinfo(std::string_view bearer_token) {
  return authorization_->userinfo(bearer_token);
}

AuthResult<EndSessionResult> AuthService::end_session(const EndSessionRequest& req) {
  return authorization_->end_session(req);
}

AuthResult<bool> AuthService::origin_registered(const std::string& origin) {
  return authorization_->origin_registered(origin);
}

void AuthService::set_client_cache_seconds(std::int64_t seconds) {
  context_->clients.set_cache_seconds(seconds);
}

void AuthService::forget_client(const std::string& client_id) {
  context_->clients.forget(client_id);
  // A changed client may publish its keys elsewhere, or rotated them: fetch afresh.
  if (context_->d.client_keys) context_->d.client_keys->forget(client_id);
}

AuthResult<Client> AuthService::client(const std::string& client_id) {
  return context_->clients.find(client_id);
}

}  // namespace authd::auth
