#include "auth/login.h"

#include <algorithm>

#include "authd/core/utf8.h"

namespace authd::auth::detail {

AuthResult<TokenPair> Login::run(const LoginRequest& req) {
  if (req.email.empty() || req.password.empty())
    return fail(Errc::kInvalidRequest, "email and password are required.");
  if (req.password.size() > c_.settings.max_password_bytes)
    return fail(Errc::kInvalidRequest, "password is too long.");
  auto client = c_.clients.find(req.client_id);
  if (!client) return unexpected(client.error());
  if (client->confidential() && !req.client_authenticated) return client_not_authenticated();
  if (!contains(client->grant_types, "password"))
    return fail(Errc::kUnauthorizedClient, "This client may not log in with a password.");
  // The per-call policy is checked before any hashing: a bad request costs nothing.
  auto granted = grant_scope(session_scopes(*client), req.scope);
  if (!granted) return unexpected(granted.error());
  auto spec = c_.tokens.spec(*client, std::move(*granted), req.audiences);
  if (!spec) return unexpected(spec.error());

  auto user = verify_password(req.email, req.password, req.ip);
  if (!user) {
    audit_login_failure(user.error(), client->id, {req.request_id, req.ip});
    return unexpected(user.error());
  }
  auto pair = open_session(*user, *client, *spec, req);
  AuditEvent e{.type = "login", .outcome = pair ? "success" : "failure"};
  if (!pair) e.reason = "internal";
  e.client_id = client->id;
  e.user_id = user->id;
  if (pair) e.session_id = pair->session_id;
  e.request_id = req.request_id;
  e.address = req.ip;
  c_.audit(std::move(e));
  return pair;
}

void Login::audit_login_failure(const Error& error, const std::string& client_id,
                                const AuditOrigin& origin) {
  AuditEvent e{.type = "login", .outcome = "failure"};
  switch (error.code) {
    case Errc::kInvalidGrant:
      e.reason = "invalid_credentials";  // unknown account and wrong password alike
      break;
    case Errc::kRateLimited:
      e.reason = "rate_limited";
      break;
    case Errc::kAccessDenied:
      e.reason = "disabled";
      break;
    case Errc::kInvalidRequest:
      e.reason = "invalid_request";
      break;
    case Errc::kUnavailable:
      e.reason = "unavailable";  // the store is away or the hash queue is full
      break;
    default:
      e.reason = "internal";
  }
  e.client_id = client_id;
  e.request_id = origin.request_id;
  e.address = origin.address;
  c_.audit(std::move(e));
}

AuthResult<User> Login::verify_password(const std::string& email_text, const std::string& password,
                                        const std::string& ip) {
  if (email_text.empty() || password.empty())
    return fail(Errc::kInvalidRequest, "email and password are required.");
  if (password.size() > c_.settings.max_password_bytes)
    return fail(Errc::kInvalidRequest, "password is too long.");
  const auto email = normalize_email(email_text);
  const std::string account = c_.limits.account_key(email.value_or(email_text));
  if (auto e = c_.limits.admit_login(ip, account)) return unexpected(std::move(*e));

  std::optional<User> user;
  if (email) {
    auto found = c_.d.users.find_by_email(*email);
    if (!found) return unexpected(store_error(found.error()));
    user = std::move(*found);
  }
  bool ok = false;
  if (user) {
    auto verified = c_.passwords.verify(user->password_hash, password);
    if (!verified) return unexpected(std::move(verified.error()));
    ok = *verified;
  } else if (auto done = c_.passwords.verify_dummy(password); !done) {
    return unexpected(std::move(done.error()));
  }
  if (c_.d.events) c_.d.events->login(ok);
  if (!ok) return fail(Errc::kInvalidGrant, "Invalid email or password.");
  c_.limits.login_succeeded(ip, account);
  if (user->disabled) return fail(Errc::kAccessDenied, "This account is disabled.");
  upgrade_hash(*user, password, c_.d.clock.now_unix());
  return std::move(*user);
}

void Login::upgrade_hash(const User& user, std::string_view password, std::int64_t now) {
  if (!crypto::needs_rehash(user.password_hash, c_.settings.password)) return;
  if (auto h = c_.passwords.hash(password)) (void)c_.d.users.set_password_hash(user.id, *h, now);
}

AuthResult<TokenPair> Login::open_session(const User& user, const Client& client,
                                          const TokenSpec& spec, const LoginRequest& req) {
  const auto now = c_.d.clock.now_unix();
  Session s;
  s.id = make_uuid_v4(c_.d.random);
  s.user_id = user.id;
  s.client_id = client.id;
  s.created_at = s.last_used_at = now;
  s.absolute_expires_at = now + c_.settings.session_absolute_s;
  s.idle_expires_at = std::min(now + c_.settings.session_idle_s, s.absolute_expires_at);
  // Cut at a character, never inside one, and without ill-formed bytes: it is written out
  // as JSON later (GET /sessions), where half a character made the answer a 500.
  s.user_agent = utf8::sanitize(req.user_agent, 256);
  s.ip = req.ip.substr(0, 64);
  s.generation = 1;
  s.scope = spec.scope;
  const std::string refresh = c_.codec.mint(c_.d.random);
  if (auto r = c_.d.sessions.create(s, NewRefreshToken{c_.codec.store_hash(refresh), now}); !r)
    return unexpected(store_error(r.error()));
  auto pair = c_.tokens.issue(user, s, refresh, spec, now);
  if (pair && c_.d.events) c_.d.events->token_issued("password", s.client_id);
  return pair;
}

}  // namespace authd::auth::detail
