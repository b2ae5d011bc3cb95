#include "auth/refresh.h"

#include <algorithm>

#include "auth/authorization.h"

namespace authd::auth::detail {
namespace {
// The grace window a client may configure, in seconds.
constexpr std::int64_t kMaxGraceSeconds = 60;
}  // namespace

AuthResult<TokenPair> Refresh::run(const RefreshRequest& req) {
  if (req.refresh_token.empty()) return fail(Errc::kInvalidRequest, "refresh_token is required.");
  if (auto denied = admit(req)) return unexpected(std::move(*denied));
  auto p = plan(req, std::nullopt);
  if (!p) return unexpected(p.error());
  return finish(*p, c_.d.sessions.rotate(p->rotate));
}

bool Refresh::start(const RefreshRequest& req, AuthService::RefreshDone done,
                    AuthService::Resume resume) {
  if (!c_.d.offload) return false;
  const bool remote_limits = c_.limits.refresh_checks_block();
  if (remote_limits && (!resume || !c_.limits.refresh_checks_async())) return false;
  auto client = c_.clients.cached(req.client_id);
  if (!client) return false;  // a store lookup would block: the caller runs run() on a worker

  if (req.refresh_token.empty()) {
    done(fail(Errc::kInvalidRequest, "refresh_token is required."));
    return true;
  }
  if (!remote_limits) {  // in-process limits answer at once
    if (auto denied = admit(req)) {
      done(unexpected(std::move(*denied)));
    } else {
      rotate_async(plan(req, std::move(client)), std::move(done));
    }
    return true;
  }
  // The remote limits answer on the limiter's thread; carry on from the request's loop.
  auto shared_req = std::make_shared<const RefreshRequest>(req);
  admit_async(shared_req, [this, shared_req, client = std::move(*client), done = std::move(done),
                           resume = std::move(resume)](std::optional<Error> denied) mutable {
    if (denied) return done(unexpected(std::move(*denied)));
    resume([this, shared_req, client = std::move(client), done = std::move(done)]() mutable {
      rotate_async(plan(*shared_req, std::move(client)), std::move(done));
    });
  });
  return true;
}

// --- 1. admit ------------------------------------------------------------------------------

std::optional<Error> Refresh::admit(const RefreshRequest& req) {
  if (auto e = c_.limits.admit_refresh_address(req.ip)) return e;
  if (!RefreshTokenCodec::well_formed(req.refresh_token)) return invalid_refresh_token().error;
  // Only a token authd made charges its family: forged ones count against their address.
  if (!c_.limits.limits_refresh() || !c_.codec.authentic(req.refresh_token)) return std::nullopt;
  return c_.limits.admit_refresh_family(c_.codec.family_limit_key(req.refresh_token));
}

void Refresh::admit_async(std::shared_ptr<const RefreshRequest> req, Admitted done) {
  // In admit()'s order: the address first, the family only for a token that could be one.
  c_.limits.admit_refresh_address_async(
      req->ip, [this, req, done = std::move(done)](std::optional<Error> denied) mutable {
        if (denied) return done(std::move(denied));
        if (!RefreshTokenCodec::well_formed(req->refresh_token))
          return done(invalid_refresh_token().error);
        if (!c_.codec.authentic(req->refresh_token)) return done(std::nullopt);
        c_.limits.admit_refresh_family_async(c_.codec.family_limit_key(req->refresh_token),
                                             std::move(done));
      });
}

// --- 2. plan -------------------------------------------------------------------------------

AuthResult<Refresh::Plan> Refresh::plan(const RefreshRequest& req, std::optional<Client> known) {
  Plan p;
  if (known) {
    p.client = std::move(*known);
  } else {
    auto client = c_.clients.find(req.client_id);
    if (!client) return unexpected(client.error());
    p.client = std::move(*client);
  }
  if (p.client.confidential() && !req.client_authenticated) return client_not_authenticated();
  if (!contains(p.client.grant_types, "refresh_token"))
    return fail(Errc::kUnauthorizedClient, "This client may not use refresh tokens.");
  // What can be refused before the rotation is: the session's scope is known only after it,
  // and bounds the grant then. The widest a session of this client may hold includes the
  // OpenID scopes a code grant gives (profile, email), which a client may ask for again.
  if (auto within_client = grant_scope(authorization_scopes(p.client), req.scope); !within_client)
    return unexpected(within_client.error());
  auto spec = c_.tokens.spec(p.client, std::string(), req.audiences);
  if (!spec) return unexpected(spec.error());
  p.spec = std::move(*spec);
  p.scope = req.scope;
  p.ip = req.ip;
  p.request_id = req.request_id;
  p.successor = c_.codec.successor(req.refresh_token);
  RotateRequest& rr = p.rotate;
  rr.presented_hash = c_.codec.store_hash(req.refresh_token);
  rr.successor_hash = c_.codec.store_hash(p.successor);
  const std::int64_t now = c_.d.clock.now_unix();
  // Never later than now: the arrival time only moves the rotation back, to when it was asked.
  rr.now = req.presented_at > 0 ? std::min(req.presented_at, now) : now;
  p.issued_at = now;
  rr.grace_seconds = std::clamp<std::int64_t>(p.client.refresh_grace_seconds, 0, kMaxGraceSeconds);
  rr.idle_timeout_seconds = c_.settings.session_idle_s;
  return p;
}

// --- 3. rotate -----------------------------------------------------------------------------

void Refresh::rotate_async(AuthResult<Plan> planned, AuthService::RefreshDone done) {
  if (!planned) return done(unexpected(planned.error()));
  auto p = std::make_shared<const Plan>(std::move(*planned));
  auto finish_here_or_offload = [this, p, done](store::StoreResult<RotateResult> rotated) {
    if (!finish_blocks(*p, rotated)) return done(finish(*p, std::move(rotated)));
    c_.d.offload([this, p, done, rotated = std::move(rotated)]() mutable {
      done(finish(*p, std::move(rotated)));
    });
  };
  if (c_.d.sessions.rotate_async(p->rotate, finish_here_or_offload)) return;
  // This store cannot rotate without blocking (SQLite): the whole rotation goes to a worker.
  c_.d.offload([this, p, done] { done(finish(*p, c_.d.sessions.rotate(p->rotate))); });
}

// --- 4. finish -----------------------------------------------------------------------------

bool Refresh::finish_blocks(const Plan& p, const store::StoreResult<RotateResult>& rotated) {
  if (!rotated) return false;
  switch (rotated->outcome) {
    case RotateOutcome::kReuseDetected:
      return rotated->session.has_value();
    case RotateOutcome::kRotated:
    case RotateOutcome::kGraceReplay:
      return !rotated->session || rotated->session->client_id != p.client.id || !rotated->user ||
             rotated->user->disabled;
    default:
      return false;
  }
}

AuthResult<TokenPair> Refresh::finish(const Plan& p, store::StoreResult<RotateResult> rotated) {
  if (!rotated) return unexpected(store_error(rotated.error()));
  const std::int64_t now = p.rotate.now;
  if (c_.d.events) c_.d.events->refresh(rotated->outcome);
  const Session* found = rotated->session ? &*rotated->session : nullptr;
  switch (rotated->outcome) {
    case RotateOutcome::kRotated:
    case RotateOutcome::kGraceReplay:
      break;
    case RotateOutcome::kReuseDetected:
      audit("refresh.reuse_detected", false, "reuse_detected", p, found);
      // The store already revoked the family; tell every replica.
      if (rotated->session) {
        if (c_.d.events) c_.d.events->reuse_detected(*rotated->session);
        audit("session.revoked", true, "refresh_reuse", p, found);
        c_.announce_revoked(rotated->session->id, now);
      }
      return invalid_refresh_token();
    case RotateOutcome::kRevoked:
      audit("refresh", false, "revoked", p, found);
      return invalid_refresh_token();
    case RotateOutcome::kExpired:
      audit("refresh", false, "expired", p, found);
      return invalid_refresh_token();
    default:
      audit("refresh", false, "unknown_token", p, found);
      return invalid_refresh_token();
  }
  if (!rotated->session) return invalid_refresh_token();
  const Session& s = *rotated->session;
  if (s.client_id != p.client.id) {
    // A token presented by another client than the one it was issued to: treat as theft.
    audit("refresh", false, "client_mismatch", p, &s);
    revoke_family(s, "client_mismatch", now, p.ip, p.request_id);
    return invalid_refresh_token();
  }
  // The rotation returned the user's current state: no second round trip.
  User user;
  user.id = s.user_id;
  if (rotated->user) {
    user.disabled = rotated->user->disabled;
    user.roles = rotated->user->roles;
    user.tenant_id = rotated->user->tenant_id;
  } else {
    auto found = c_.d.users.find_by_id(s.user_id);
    if (!found) return unexpected(store_error(found.error()));
    if (!found->has_value()) return invalid_refresh_token();
    user = std::move(**found);
  }
  if (user.disabled) {
    audit("refresh", false, "disabled", p, &s);
    revoke_family(s, "account_disabled", now, p.ip, p.request_id);
    return invalid_refresh_token();
  }
  // Narrowing only, within what the login granted (RFC 6749 §6). Refused after the rotation:
  // a retry of the same token within the grace window gets the same successor.
  TokenSpec spec = p.spec;
  auto scope = grant_scope(split_scope(s.scope), p.scope);
  if (!scope) return unexpected(scope.error());
  spec.scope = std::move(*scope);
  auto pair = c_.tokens.issue(user, s, p.successor, spec, p.issued_at);
  if (pair && c_.d.events) c_.d.events->token_issued("refresh_token", s.client_id);
  audit("refresh", static_cast<bool>(pair),
        !pair                                             ? "internal"
        : rotated->outcome == RotateOutcome::kGraceReplay ? "grace_replay"
                                                          : "",
        p, &s);
  return pair;
}

void Refresh::revoke_family(const Session& s, const char* reason, std::int64_t now,
                            const std::string& ip, const std::string& request_id) {
  (void)c_.d.sessions.revoke(s.id, reason, now);
  AuditEvent e{.type = "session.revoked", .outcome = "success", .reason = reason};
  e.client_id = s.client_id;
  e.user_id = s.user_id;
  e.session_id = s.id;
  e.request_id = request_id;
  e.address = ip;
  c_.audit(std::move(e));
  c_.announce_revoked(s.id, now);
}

void Refresh::audit(const char* type, bool ok, std::string reason, const Plan& p,
                    const Session* s) const {
  AuditEvent e{.type = type, .outcome = ok ? "success" : "failure", .reason = std::move(reason)};
  e.client_id = s ? s->client_id : p.client.id;
  if (s) {
    e.user_id = s->user_id;
    e.session_id = s->id;
  }
  e.request_id = p.request_id;
  e.address = p.ip;
  c_.audit(std::move(e));
}

}  // namespace authd::auth::detail
