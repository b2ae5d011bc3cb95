#include "authd/auth/service.h"

#include <algorithm>
#include <cctype>
#include <thread>

#include "authd/core/base64url.h"
#include "authd/jose/jws.h"

namespace authd::auth {
namespace {

constexpr std::string_view kDefaultClient = "authd";

// One answer for every token that is not a live one, so none reveals more than another.
Unexpected<Error> invalid_refresh_token() {
  return fail(Errc::kInvalidGrant, "The refresh token is invalid, expired or revoked.");
}
// Domain separation: the stored hash and the successor derivation never collide.
constexpr std::string_view kHashContext = "authd.refresh_token.hash.v1";
constexpr std::string_view kSuccessorContext = "authd.refresh_token.successor.v1";
constexpr std::size_t kRefreshTokenBytes = 32;
// Every token of a family starts with the same random tag (the first bytes of the token
// issued at login); the rest of a successor is derived from its predecessor. The tag names
// the family for its rate limit before any database work, and what follows it still holds
// 192 unpredictable bits. Knowing a tag gives nothing that knowing a token of the family
// does not already give.
constexpr std::size_t kFamilyTagBytes = 8;
constexpr std::string_view kFamilyLimitContext = "authd.refresh_token.family_limit.v1";

Error store_error(const store::Error& e) {
  Error out = e.code == store::Errc::kUnavailable
                  ? Error{Errc::kUnavailable, "The service is temporarily unavailable; retry.", 1}
                  : Error{Errc::kInternal, "Internal error.", 0};
  out.debug = "store: " + e.message;
  return out;
}

bool has(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

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
    case Errc::kInvalidGrant:
      return "invalid_grant";
    case Errc::kInvalidToken:
      return "invalid_token";
    case Errc::kAccessDenied:
      return "access_denied";
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

AuthService::AuthService(Deps deps, Settings settings) : d_(deps), settings_(std::move(settings)) {
  unsigned slots = settings_.max_concurrent_hashes;
  if (slots == 0) slots = std::max(1u, std::thread::hardware_concurrency());
  hash_slots_ = std::make_unique<std::counting_semaphore<>>(static_cast<std::ptrdiff_t>(slots));
}

std::optional<Error> AuthService::limit(const std::string& key, const Limit& l) {
  RateLimiter* limiter = key.rfind("refresh:", 0) == 0 ? d_.refresh_limiter : d_.limiter;
  if (!limiter) return std::nullopt;
  const Decision d = limiter->check(key, l);
  if (d.allowed) return std::nullopt;
  return limit_error(d, l);
}

Error AuthService::limit_error(const Decision& d, const Limit& l) {
  Error e{Errc::kRateLimited, "Too many requests; retry later."};
  e.retry_after_s = std::max<long>(1, static_cast<long>((d.retry_after_ms + 999) / 1000));
  e.limit = static_cast<long>(d.limit);
  e.window_s = l.rate_per_minute > 0
                   ? static_cast<long>(std::max<std::int64_t>(1, l.burst * 60 / l.rate_per_minute))
                   : 60;
  e.reset_s = static_cast<long>((d.reset_ms + 999) / 1000);
  return e;
}

void AuthService::announce_revoked(const std::string& session_id, std::int64_t now) {
  const std::int64_t until = now + settings_.access_ttl_s + settings_.leeway_s;
  if (d_.revocations) d_.revocations->revoke_session(session_id, until);
  if (d_.events) d_.events->revoked(session_id, until);
}

bool AuthService::verify_password_limited(std::string_view hash, std::string_view password) {
  hash_slots_->acquire();
  const bool ok = crypto::verify_password(hash, password);
  hash_slots_->release();
  return ok;
}

bool AuthService::looks_like_refresh_token(std::string_view token) {
  if (token.size() != 43) return false;
  auto raw = base64url::decode(token);
  return raw && raw->size() == kRefreshTokenBytes;
}

std::string refresh_token_store_hash(const crypto::KeyedHasher& pepper, std::string_view token) {
  return pepper.derive(kHashContext, token);
}

std::string AuthService::token_hash(std::string_view token) const {
  return refresh_token_store_hash(d_.token_hasher, token);
}

std::string AuthService::successor_of(std::string_view token) const {
  // Deterministic, so a replay inside the grace window (or a retry after a lost connection)
  // gets the very same successor without storing any token in clear.
  const auto raw = base64url::decode(token);
  std::string next = raw->substr(0, kFamilyTagBytes);
  next += d_.token_hasher.derive(kSuccessorContext, token)
              .substr(0, kRefreshTokenBytes - kFamilyTagBytes);
  return base64url::encode(next);
}

std::string AuthService::family_limit_key(std::string_view token) const {
  const auto raw = base64url::decode(token);
  return "refresh:fam:" +
         base64url::encode(
             d_.token_hasher.derive(kFamilyLimitContext, raw->substr(0, kFamilyTagBytes))
                 .substr(0, 16));
}

AuthResult<Client> AuthService::client(const std::string& client_id) {
  const std::string id = client_id.empty() ? std::string(kDefaultClient) : client_id;
  if (id.size() > 128) return fail(Errc::kInvalidClient, "Unknown client.");
  if (auto cached = cached_client(id)) return std::move(*cached);
  auto c = d_.clients.find(id);
  if (!c) return unexpected(store_error(c.error()));
  if (!c->has_value()) return fail(Errc::kInvalidClient, "Unknown client.");
  std::lock_guard lock(clients_mu_);
  if (clients_.size() > 1000) clients_.clear();  // unknown ids are not cached; this bounds the rest
  clients_[id] = CachedClient{**c, d_.clock.now_unix() + settings_.client_cache_s};
  return std::move(**c);
}

AuthResult<Client> AuthService::authenticate_client(const ClientAuthRequest& req) {
  const std::string id = req.client_id.empty() ? std::string(kDefaultClient) : req.client_id;
  if (id.size() > 128 || req.client_secret.size() > settings_.max_password_bytes)
    return fail(Errc::kInvalidClient, "Client authentication failed.");
  if (auto e = limit("token:client:" + id, settings_.token_per_client)) return unexpected(*e);
  auto c = client(id);
  if (!c && c.error().code != Errc::kInvalidClient) return unexpected(c.error());
  const bool confidential = c && !c->secret_hash.empty();
  if (confidential) {
    if (!req.client_secret.empty() && verify_password_limited(c->secret_hash, req.client_secret))
      return c;
  } else if (!c && !req.client_secret.empty()) {
    // Unknown client with a secret: the same hashing work as a wrong secret.
    if (auto dummy = crypto::dummy_hash(settings_.password))
      (void)verify_password_limited(*dummy, req.client_secret);
  } else if (c && req.client_secret.empty()) {
    return c;  // a public client names itself
  }
  return fail(Errc::kInvalidClient, "Client authentication failed.");
}

AuthResult<TokenPair> AuthService::client_credentials(const Client& c, const std::string& scope) {
  if (!has(c.grant_types, "client_credentials") || c.secret_hash.empty())
    return fail(Errc::kUnauthorizedClient, "This client may not use the client_credentials grant.");
  std::string granted;
  if (scope.empty()) {
    for (const auto& sc : c.scopes) granted += (granted.empty() ? "" : " ") + sc;
  } else {
    std::string_view rest = scope;
    while (!rest.empty()) {
      const auto sp = rest.find(' ');
      const std::string_view one = rest.substr(0, sp);
      if (!one.empty()) {
        if (!has(c.scopes, std::string(one)))
          return fail(Errc::kInvalidScope, "The requested scope is not allowed for this client.");
        granted += (granted.empty() ? "" : " ") + std::string(one);
      }
      if (sp == std::string_view::npos) break;
      rest.remove_prefix(sp + 1);
    }
  }
  const auto now = d_.clock.now_unix();
  auto claims = access_claims(c.id, c.id, granted, now);
  if (!claims.ok()) return fail(Errc::kInternal, "A stored claim is not valid UTF-8.");
  auto token = d_.keys.sign(claims.finish());
  if (!token)
    return fail(Errc::kUnavailable, "No signing key is available; retry.",
                "keys: " + token.error());
  TokenPair p;
  p.access_token = std::move(*token);
  p.expires_in = settings_.access_ttl_s;
  p.scope = granted;
  return p;
}

AuthResult<TokenPair> AuthService::login(const LoginRequest& req) {
  if (req.email.empty() || req.password.empty())
    return fail(Errc::kInvalidRequest, "email and password are required.");
  if (req.password.size() > settings_.max_password_bytes)
    return fail(Errc::kInvalidRequest, "password is too long.");
  auto client = this->client(req.client_id);
  if (!client) return unexpected(client.error());
  if (!has(client->grant_types, "password"))
    return fail(Errc::kUnauthorizedClient, "This client may not log in with a password.");

  const auto email = normalize_email(req.email);
  // Account keys are keyed hashes of the normalised email: the same for existing and unknown
  // accounts (nothing reveals which exist), and no email in Redis.
  const std::string account = base64url::encode(
      d_.token_hasher.derive("authd.ratelimit.account.v1", email.value_or(req.email)));
  if (auto e = limit("login:ip:" + req.ip, settings_.login_per_ip)) return unexpected(*e);
  if (auto e = limit("login:acct:" + account, settings_.login_per_account)) return unexpected(*e);
  if (d_.limiter) {
    // Back-off: once the failure budget is spent, refuse before hashing anything.
    const Decision f = d_.limiter->peek("login:fail:" + account, settings_.login_failures);
    if (f.remaining <= 0 && !f.allowed) {
      Error e{Errc::kRateLimited, "Too many failed attempts; retry later."};
      e.retry_after_s = std::max<long>(1, static_cast<long>((f.retry_after_ms + 999) / 1000));
      e.limit = static_cast<long>(f.limit);
      e.window_s = 60;
      e.reset_s = static_cast<long>((f.reset_ms + 999) / 1000);
      return unexpected(e);
    }
  }
  std::optional<User> user;
  if (email) {
    auto found = d_.users.find_by_email(*email);
    if (!found) return unexpected(store_error(found.error()));
    user = std::move(*found);
  }
  // Same work whether or not the account exists: verify against a dummy hash.
  bool ok = false;
  if (user) {
    ok = verify_password_limited(user->password_hash, req.password);
  } else {
    auto dummy = crypto::dummy_hash(settings_.password);
    if (dummy) (void)verify_password_limited(*dummy, req.password);
  }
  if (d_.events) d_.events->login(ok);
  if (!ok) {
    if (d_.limiter) (void)d_.limiter->check("login:fail:" + account, settings_.login_failures);
    return fail(Errc::kInvalidGrant, "Invalid email or password.");
  }
  if (d_.limiter) d_.limiter->reset("login:fail:" + account);
  if (user->disabled) return fail(Errc::kAccessDenied, "This account is disabled.");

  const auto now = d_.clock.now_unix();
  if (crypto::needs_rehash(user->password_hash, settings_.password)) {
    hash_slots_->acquire();
    auto h = crypto::hash_password(req.password, settings_.password);
    hash_slots_->release();
    if (h) {
      (void)d_.users.set_password_hash(user->id, *h, now);  // best effort; login still succeeds
    }
  }

  Session s;
  s.id = make_uuid_v4(d_.random);
  s.user_id = user->id;
  s.client_id = client->id;
  s.created_at = s.last_used_at = now;
  s.absolute_expires_at = now + settings_.session_absolute_s;
  s.idle_expires_at = std::min(now + settings_.session_idle_s, s.absolute_expires_at);
  s.user_agent = req.user_agent.substr(0, 256);
  s.ip = req.ip.substr(0, 64);
  s.generation = 1;
  const std::string refresh = base64url::encode(d_.random.bytes(kRefreshTokenBytes));
  if (auto r = d_.sessions.create(s, NewRefreshToken{token_hash(refresh), now}); !r)
    return unexpected(store_error(r.error()));
  return issue(*user, s, refresh, now);
}

json::ObjectWriter AuthService::access_claims(const std::string& sub, const std::string& client_id,
                                              const std::string& scope, std::int64_t now) {
  json::ObjectWriter claims(512);
  claims.str("iss", settings_.issuer)
      .str("sub", sub)
      .str("aud", settings_.audience)
      .num("iat", now)
      .num("nbf", now)
      .num("exp", now + settings_.access_ttl_s)
      .str("jti", make_uuid_v4(d_.random))
      .str("client_id", client_id)
      .str("scope", scope);
  return claims;
}

AuthResult<TokenPair> AuthService::issue(const User& user, const Session& session,
                                         const std::string& refresh, std::int64_t now) {
  json::ObjectWriter claims =
      access_claims(user.id, session.client_id, "openid offline_access", now);
  claims.str("sid", session.id);
  if (!user.roles.empty()) claims.str_array("roles", user.roles);
  if (!user.tenant_id.empty()) claims.str("tenant_id", user.tenant_id);
  if (!claims.ok()) return fail(Errc::kInternal, "A stored claim is not valid UTF-8.");
  auto token = d_.keys.sign(claims.finish());
  if (!token)
    return fail(Errc::kUnavailable, "No signing key is available; retry.",
                "keys: " + token.error());
  TokenPair p;
  p.access_token = std::move(*token);
  p.expires_in = settings_.access_ttl_s;
  p.refresh_token = refresh;
  p.refresh_expires_in = std::max<std::int64_t>(
      0, std::min(session.idle_expires_at, session.absolute_expires_at) - now);
  p.session_id = session.id;
  p.user_id = user.id;
  p.scope = "openid offline_access";
  return p;
}

AuthResult<AuthService::RefreshPlan> AuthService::plan_refresh(const RefreshRequest& req,
                                                               const Client* known,
                                                               bool limits_checked) {
  const bool limited = !limits_checked && d_.refresh_limiter != nullptr;
  if (req.refresh_token.empty()) return fail(Errc::kInvalidRequest, "refresh_token is required.");
  if (limited) {
    if (auto e = limit("refresh:ip:" + req.ip, settings_.refresh_per_ip)) return unexpected(*e);
  }
  if (!looks_like_refresh_token(req.refresh_token)) return invalid_refresh_token();
  if (limited) {
    if (auto e = limit(family_limit_key(req.refresh_token), settings_.refresh_per_family))
      return unexpected(*e);
  }
  RefreshPlan plan;
  if (known != nullptr) {
    plan.client = *known;
  } else {
    auto client = this->client(req.client_id);
    if (!client) return unexpected(client.error());
    plan.client = std::move(*client);
  }
  if (!has(plan.client.grant_types, "refresh_token"))
    return fail(Errc::kUnauthorizedClient, "This client may not use refresh tokens.");

  plan.successor = successor_of(req.refresh_token);
  RotateRequest& rr = plan.rotate;
  rr.presented_hash = token_hash(req.refresh_token);
  rr.successor_hash = token_hash(plan.successor);
  rr.now = d_.clock.now_unix();
  rr.grace_seconds = std::clamp<std::int64_t>(plan.client.refresh_grace_seconds, 0, 60);
  rr.idle_timeout_seconds = settings_.session_idle_s;
  return plan;
}

AuthResult<TokenPair> AuthService::refresh(const RefreshRequest& req) {
  auto plan = plan_refresh(req, nullptr);
  if (!plan) return unexpected(plan.error());
  return finish_refresh(*plan, d_.sessions.rotate(plan->rotate));
}

std::optional<Client> AuthService::cached_client(const std::string& client_id) {
  const std::string_view id = client_id.empty() ? kDefaultClient : std::string_view(client_id);
  std::lock_guard lock(clients_mu_);
  if (auto it = clients_.find(id);
      it != clients_.end() && it->second.expires_at > d_.clock.now_unix())
    return it->second.client;
  return std::nullopt;
}

bool AuthService::refresh_async(const RefreshRequest& req, RefreshDone done, Resume resume) {
  if (!d_.offload) return false;
  RateLimiter* limiter = d_.refresh_limiter;
  const bool remote_limits = limiter != nullptr && limiter->blocks();
  if (remote_limits && (!resume || !limiter->checks_async())) return false;
  auto client = cached_client(req.client_id);
  if (!client) return false;
  if (remote_limits) {
    refresh_with_async_limits(req, std::move(*client), std::move(done), std::move(resume));
  } else {
    start_rotation(plan_refresh(req, &*client), std::move(done));
  }
  return true;
}

void AuthService::refresh_with_async_limits(RefreshRequest req, Client client, RefreshDone done,
                                            Resume resume) {
  if (req.refresh_token.empty())
    return done(fail(Errc::kInvalidRequest, "refresh_token is required."));
  struct State {
    RefreshRequest req;
    Client client;
    RefreshDone done;
    Resume resume;
  };
  auto st = std::make_shared<State>(
      State{std::move(req), std::move(client), std::move(done), std::move(resume)});
  RateLimiter& limiter = *d_.refresh_limiter;
  // In the order plan_refresh() applies them: the address first, the family only for a token
  // that could be one. The answers arrive on the limiter's thread.
  limiter.check_async(
      "refresh:ip:" + st->req.ip, settings_.refresh_per_ip, 1, [this, st](Decision ip) {
        if (!ip.allowed) return st->done(unexpected(limit_error(ip, settings_.refresh_per_ip)));
        if (!looks_like_refresh_token(st->req.refresh_token))
          return st->done(invalid_refresh_token());
        d_.refresh_limiter->check_async(
            family_limit_key(st->req.refresh_token), settings_.refresh_per_family, 1,
            [this, st](Decision family) {
              if (!family.allowed)
                return st->done(unexpected(limit_error(family, settings_.refresh_per_family)));
              st->resume([this, st] {
                start_rotation(plan_refresh(st->req, &st->client, /*limits_checked=*/true),
                               std::move(st->done));
              });
            });
      });
}

void AuthService::start_rotation(AuthResult<RefreshPlan> plan, RefreshDone done) {
  if (!plan) return done(unexpected(plan.error()));
  auto shared = std::make_shared<RefreshPlan>(std::move(*plan));
  auto finish = [this, shared, done](store::StoreResult<RotateResult> rotated) {
    if (!finish_writes(*shared, rotated)) return done(finish_refresh(*shared, std::move(rotated)));
    d_.offload([this, shared, done, rotated = std::move(rotated)]() mutable {
      done(finish_refresh(*shared, std::move(rotated)));
    });
  };
  if (!d_.sessions.rotate_async(shared->rotate, finish)) {
    d_.offload([this, shared, done] {
      done(finish_refresh(*shared, d_.sessions.rotate(shared->rotate)));
    });
  }
}

bool AuthService::finish_writes(const RefreshPlan& plan,
                                const store::StoreResult<RotateResult>& rotated) {
  if (!rotated) return false;
  switch (rotated->outcome) {
    case RotateOutcome::kReuseDetected:
      return rotated->session.has_value();
    case RotateOutcome::kRotated:
    case RotateOutcome::kGraceReplay:
      return !rotated->session || rotated->session->client_id != plan.client.id || !rotated->user ||
             rotated->user->disabled;
    default:
      return false;
  }
}

AuthResult<TokenPair> AuthService::finish_refresh(const RefreshPlan& plan,
                                                  store::StoreResult<RotateResult> rotated) {
  if (!rotated) return unexpected(store_error(rotated.error()));
  const std::int64_t now = plan.rotate.now;
  if (d_.events) d_.events->refresh(rotated->outcome);
  const auto invalid = [] { return invalid_refresh_token(); };
  switch (rotated->outcome) {
    case RotateOutcome::kRotated:
    case RotateOutcome::kGraceReplay:
      break;
    case RotateOutcome::kReuseDetected:
      if (rotated->session) {
        if (d_.events) d_.events->reuse_detected(*rotated->session);
        announce_revoked(rotated->session->id, now);
      }
      return invalid();
    default:
      return invalid();
  }
  if (!rotated->session) return invalid();
  const Session& s = *rotated->session;
  if (s.client_id != plan.client.id) {
    // A token presented by another client than the one it was issued to: treat as theft.
    (void)d_.sessions.revoke(s.id, "client_mismatch", now);
    announce_revoked(s.id, now);
    return invalid();
  }
  // The rotation returned the user's current state: no second round trip.
  User user;
  user.id = s.user_id;
  if (rotated->user) {
    user.disabled = rotated->user->disabled;
    user.roles = rotated->user->roles;
    user.tenant_id = rotated->user->tenant_id;
  } else {
    auto found = d_.users.find_by_id(s.user_id);
    if (!found) return unexpected(store_error(found.error()));
    if (!found->has_value()) return invalid();
    user = std::move(**found);
  }
  if (user.disabled) {
    (void)d_.sessions.revoke(s.id, "account_disabled", now);
    announce_revoked(s.id, now);
    return invalid();
  }
  return issue(user, s, plan.successor, now);
}

AuthResult<nlohmann::json> AuthService::verify_access_token(std::string_view token) {
  const auto invalid = [] {
    return fail(Errc::kInvalidToken, "The access token is invalid, expired or revoked.");
  };
  const auto now = d_.clock.now_unix();
  jose::VerifyOptions opts;
  opts.issuer = settings_.issuer;
  opts.audience = settings_.audience;
  opts.leeway_s = settings_.leeway_s;
  auto v = jose::verify(
      token, [this](std::string_view kid) { return d_.keys.find(kid); }, now, opts);
  if (!v) return invalid();
  nlohmann::json c = std::move(v->claims);
  if (!c.contains("sub") || !c["sub"].is_string() || !c.contains("jti") || !c["jti"].is_string())
    return invalid();
  const std::string jti = c["jti"].get<std::string>();
  const bool has_family = c.contains("sid");
  if (has_family && !c["sid"].is_string()) return invalid();
  const std::string sid = has_family ? c["sid"].get<std::string>() : std::string();
  // Revocation takes effect at once, not at token expiry. The shared revocation list answers
  // without a database trip; when it cannot, ask the store (fail closed).
  std::optional<bool> family_revoked, token_revoked;
  if (d_.revocations) {
    if (has_family) family_revoked = d_.revocations->is_session_revoked(sid);
    if (!family_revoked.value_or(false)) token_revoked = d_.revocations->is_token_revoked(jti);
  }
  if (family_revoked.value_or(false) || token_revoked.value_or(false)) return invalid();
  if (has_family && !family_revoked) {
    auto s = d_.sessions.find(sid);
    if (!s) return unexpected(store_error(s.error()));
    if (!s->has_value() || (*s)->revoked_at || (*s)->user_id != c["sub"].get<std::string>())
      return invalid();
  }
  if (!token_revoked) {
    auto r = d_.sessions.is_token_revoked(jti);
    if (!r) return unexpected(store_error(r.error()));
    if (*r) return invalid();
  }
  return c;
}

AuthResult<Principal> AuthService::authenticate(std::string_view bearer) {
  auto v = verify_access_token(bearer);
  if (!v) return unexpected(v.error());
  const auto& c = *v;
  // authd's own bearer routes act on a user's sessions: client tokens have no family.
  if (!c.contains("sid"))
    return fail(Errc::kInvalidToken, "The access token is invalid, expired or revoked.");
  Principal p;
  p.user_id = c["sub"].get<std::string>();
  p.session_id = c["sid"].get<std::string>();
  if (c.contains("client_id") && c["client_id"].is_string())
    p.client_id = c["client_id"].get<std::string>();
  p.jti = c["jti"].get<std::string>();
  p.expires_at = c["exp"].get<std::int64_t>();
  if (c.contains("roles") && c["roles"].is_array())
    for (const auto& r : c["roles"])
      if (r.is_string()) p.roles.push_back(r.get<std::string>());
  return p;
}

AuthResult<std::optional<nlohmann::json>> AuthService::introspect(const Client& caller,
                                                                  std::string_view token) {
  if (caller.secret_hash.empty())
    return fail(Errc::kInvalidClient, "Introspection needs a confidential client.");
  if (token.empty()) return fail(Errc::kInvalidRequest, "token is required.");
  auto v = verify_access_token(token);
  if (!v) {
    if (v.error().code == Errc::kInvalidToken) return std::optional<nlohmann::json>();
    return unexpected(v.error());
  }
  nlohmann::json out = {{"active", true}, {"token_type", "Bearer"}};
  for (const char* k : {"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope",
                        "sid", "roles", "tenant_id"})
    if (v->contains(k)) out[k] = (*v)[k];
  return std::optional<nlohmann::json>(std::move(out));
}

AuthResult<void> AuthService::revoke(const Client& caller, const std::string& token) {
  const auto now = d_.clock.now_unix();
  if (token.empty()) return fail(Errc::kInvalidRequest, "token is required.");
  if (looks_like_refresh_token(token)) {
    auto s = d_.sessions.find_by_token(token_hash(token));
    if (!s) return unexpected(store_error(s.error()));
    if (!s->has_value()) return {};
    if ((*s)->client_id != caller.id)
      return fail(Errc::kUnauthorizedClient, "The token was issued to another client.");
    auto r = d_.sessions.revoke((*s)->id, "revoked", now);
    if (!r && r.error().code != store::Errc::kNotFound) return unexpected(store_error(r.error()));
    announce_revoked((*s)->id, now);
    return {};
  }
  auto v = verify_access_token(token);
  if (!v) {
    if (v.error().code == Errc::kInvalidToken) return {};  // invalid or already revoked
    return unexpected(v.error());
  }
  if (v->value("client_id", std::string()) != caller.id)
    return fail(Errc::kUnauthorizedClient, "The token was issued to another client.");
  const std::string jti = (*v)["jti"].get<std::string>();
  // Until the token's expiry plus the leeway a verifier grants: then it is dead anyway.
  const std::int64_t until = (*v)["exp"].get<std::int64_t>() + settings_.leeway_s;
  if (auto r = d_.sessions.revoke_token(jti, until); !r) return unexpected(store_error(r.error()));
  if (d_.revocations) d_.revocations->revoke_token(jti, until);
  return {};
}

AuthResult<void> AuthService::logout_refresh_token(const std::string& refresh_token) {
  if (!looks_like_refresh_token(refresh_token)) return {};  // nothing to revoke (RFC 7009 §2.2)
  auto s = d_.sessions.find_by_token(token_hash(refresh_token));
  if (!s) return unexpected(store_error(s.error()));
  if (!s->has_value()) return {};
  const auto now = d_.clock.now_unix();
  auto r = d_.sessions.revoke((*s)->id, "logout", now);
  if (!r && r.error().code != store::Errc::kNotFound) return unexpected(store_error(r.error()));
  announce_revoked((*s)->id, now);
  return {};
}

AuthResult<void> AuthService::logout(const Principal& who) {
  const auto now = d_.clock.now_unix();
  auto r = d_.sessions.revoke(who.session_id, "logout", now);
  if (!r && r.error().code != store::Errc::kNotFound) return unexpected(store_error(r.error()));
  announce_revoked(who.session_id, now);
  return {};
}

AuthResult<std::size_t> AuthService::logout_all(const Principal& who) {
  const auto now = d_.clock.now_unix();
  auto ids = d_.sessions.revoke_all(who.user_id, "logout_all", now);
  if (!ids) return unexpected(store_error(ids.error()));
  (void)d_.users.bump_session_version(who.user_id, now);
  for (const auto& id : *ids) announce_revoked(id, now);
  return ids->size();
}

AuthResult<std::vector<Session>> AuthService::list_sessions(const Principal& who) {
  auto list = d_.sessions.list_active(who.user_id, d_.clock.now_unix());
  if (!list) return unexpected(store_error(list.error()));
  return std::move(*list);
}

AuthResult<void> AuthService::delete_session(const Principal& who, const std::string& session_id) {
  auto s = d_.sessions.find(session_id);
  if (!s) return unexpected(store_error(s.error()));
  // Someone else's session looks exactly like a missing one.
  if (!s->has_value() || (*s)->user_id != who.user_id)
    return fail(Errc::kNotFound, "No such session.");
  const auto now = d_.clock.now_unix();
  auto r = d_.sessions.revoke(session_id, "user_deleted", now);
  if (!r) return unexpected(store_error(r.error()));
  announce_revoked(session_id, now);
  return {};
}

}  // namespace authd::auth
