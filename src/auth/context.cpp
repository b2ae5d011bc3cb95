#include "auth/context.h"

#include <algorithm>
#include <thread>

#include "authd/core/cores.h"

namespace authd::auth::detail {

Error store_error(const store::Error& e) {
  Error out = e.code == store::Errc::kUnavailable
                  ? Error{Errc::kUnavailable, "The service is temporarily unavailable; retry.", 1}
                  : Error{Errc::kInternal, "Internal error.", 0};
  out.store_unavailable = e.code == store::Errc::kUnavailable;
  out.debug = "store: " + e.message;
  return out;
}

Unexpected<Error> invalid_refresh_token() {
  return fail(Errc::kInvalidGrant, "The refresh token is invalid, expired or revoked.");
}

Unexpected<Error> client_not_authenticated() {
  return fail(Errc::kInvalidClient, "Client authentication failed.");
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::vector<std::string> split_scope(std::string_view scope) {
  std::vector<std::string> out;
  while (!scope.empty()) {
    const auto sp = scope.find(' ');
    const std::string_view one = scope.substr(0, sp);
    if (!one.empty() && !contains(out, one)) out.emplace_back(one);
    if (sp == std::string_view::npos) break;
    scope.remove_prefix(sp + 1);
  }
  return out;
}

AuthResult<std::string> grant_scope(const std::vector<std::string>& allowed,
                                    std::string_view requested) {
  std::vector<std::string> words = split_scope(requested);
  if (words.empty()) words = allowed;
  std::string granted;
  for (const auto& w : words) {
    if (!contains(allowed, w))
      return fail(Errc::kInvalidScope, "The requested scope is not allowed for this client.");
    if (!granted.empty()) granted += ' ';
    granted += w;
  }
  return granted;
}

void Context::audit(AuditEvent e) const {
  if (!d.events) return;
  if (e.time == 0) e.time = d.clock.now_unix();
  d.events->audit(e);
}

}  // namespace authd::auth::detail

namespace authd::auth {

std::vector<std::string> session_scopes(const Client& client) {
  std::vector<std::string> out{"openid", "offline_access"};
  for (const auto& s : client.scopes)
    if (!detail::contains(out, s)) out.push_back(s);
  return out;
}

}  // namespace authd::auth

namespace authd::auth::detail {

namespace {
std::ptrdiff_t hash_slots(unsigned configured) {
  return static_cast<std::ptrdiff_t>(configured != 0 ? configured : core::usable_cores());
}
}  // namespace

PasswordWork::PasswordWork(unsigned slots, std::size_t max_waiting,
                           const crypto::PasswordParams& params, Events* events)
    : params_(params),
      events_(events),
      queue_(static_cast<std::size_t>(hash_slots(slots)), max_waiting, this) {}

Error PasswordWork::busy() {
  return Error{Errc::kUnavailable, "Too many password checks are waiting; retry shortly.", 1};
}

void PasswordWork::depth(std::size_t waiting) {
  if (events_) events_->password_hash_queue(waiting);
}

void PasswordWork::waited(std::chrono::nanoseconds wait) {
  if (events_) events_->password_hash_waited(std::chrono::duration<double>(wait).count());
}

AuthResult<bool> PasswordWork::verify(std::string_view encoded_hash, std::string_view password) {
  if (!queue_.acquire()) {
    if (events_) events_->password_hash_rejected();
    return unexpected(busy());
  }
  if (events_) events_->password_hashed();
  const bool ok = crypto::verify_password(encoded_hash, password);
  queue_.release();
  return ok;
}

AuthResult<void> PasswordWork::verify_dummy(std::string_view password) {
  if (auto dummy = crypto::dummy_hash(params_)) {
    if (auto r = verify(*dummy, password); !r) return unexpected(r.error());
  }
  return {};
}

std::optional<std::string> PasswordWork::hash(std::string_view password) {
  if (!queue_.acquire()) {
    if (events_) events_->password_hash_rejected();
    return std::nullopt;
  }
  if (events_) events_->password_hashed();
  auto h = crypto::hash_password(password, params_);
  queue_.release();
  if (!h) return std::nullopt;
  return std::move(*h);
}

Context::Context(AuthService::Deps deps, Settings s)
    : d(deps),
      settings(std::move(s)),
      codec(d.token_hasher),
      secrets(d.token_hasher),
      limits(d.limiter, d.refresh_limiter, settings, d.token_hasher),
      passwords(settings.max_concurrent_hashes, settings.max_queued_hashes, settings.password,
                d.events),
      clients(d.clients, d.clock, settings.client_cache_s),
      tokens(d, settings) {}

void Context::announce_revoked(const std::string& session_id, std::int64_t now) {
  const std::int64_t until = now + settings.access_ttl_s + settings.leeway_s;
  if (d.revocations) d.revocations->revoke_session(session_id, until);
  if (d.events) d.events->revoked(session_id, until);
}

}  // namespace authd::auth::detail
