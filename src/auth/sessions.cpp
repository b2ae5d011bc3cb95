#include "auth/sessions.h"

namespace authd::auth::detail {

AuthResult<void> Sessions::end(const std::string& session_id, const std::string& user_id,
                               const std::string& client_id, const AuditOrigin& origin) {
  const auto now = c_.d.clock.now_unix();
  auto r = c_.d.sessions.revoke(session_id, "logout", now);
  if (!r && r.error().code != store::Errc::kNotFound) return unexpected(store_error(r.error()));
  c_.audit({.type = "logout",
            .outcome = "success",
            .reason = "logout",
            .request_id = origin.request_id,
            .client_id = client_id,
            .user_id = user_id,
            .session_id = session_id,
            .address = origin.address});
  c_.announce_revoked(session_id, now);
  return {};
}

AuthResult<void> Sessions::logout_refresh_token(const std::string& refresh_token,
                                                const AuditOrigin& origin) {
  if (!RefreshTokenCodec::well_formed(refresh_token)) return {};  // nothing to revoke
  auto s = c_.d.sessions.find_by_token(c_.codec.store_hash(refresh_token));
  if (!s) return unexpected(store_error(s.error()));
  if (!s->has_value()) return {};
  return end((*s)->id, (*s)->user_id, (*s)->client_id, origin);
}

AuthResult<void> Sessions::logout(const Principal& who, const AuditOrigin& origin) {
  return end(who.session_id, who.user_id, who.client_id, origin);
}

AuthResult<std::size_t> Sessions::logout_all(const Principal& who, const AuditOrigin& origin) {
  const auto now = c_.d.clock.now_unix();
  auto ids = c_.d.sessions.revoke_all(who.user_id, "logout_all", now);
  if (!ids) return unexpected(store_error(ids.error()));
  (void)c_.d.users.bump_session_version(who.user_id, now);
  for (const auto& id : *ids) {
    c_.audit({.type = "logout",
              .outcome = "success",
              .reason = "logout_all",
              .request_id = origin.request_id,
              .client_id = who.client_id,
              .user_id = who.user_id,
              .session_id = id,
              .address = origin.address});
    c_.announce_revoked(id, now);
  }
  return ids->size();
}

AuthResult<std::vector<Session>> Sessions::list(const Principal& who) {
  auto list = c_.d.sessions.list_active(who.user_id, c_.d.clock.now_unix());
  if (!list) return unexpected(store_error(list.error()));
  return std::move(*list);
}

AuthResult<void> Sessions::remove(const Principal& who, const std::string& session_id,
                                  const AuditOrigin& origin) {
  auto s = c_.d.sessions.find(session_id);
  if (!s) return unexpected(store_error(s.error()));
  // Someone else's session looks exactly like a missing one.
  if (!s->has_value() || (*s)->user_id != who.user_id)
    return fail(Errc::kNotFound, "No such session.");
  const auto now = c_.d.clock.now_unix();
  auto r = c_.d.sessions.revoke(session_id, "user_deleted", now);
  if (!r) return unexpected(store_error(r.error()));
  c_.audit({.type = "session.deleted",
            .outcome = "success",
            .reason = "user_deleted",
            .request_id = origin.request_id,
            .client_id = (*s)->client_id,
            .user_id = who.user_id,
            .session_id = session_id,
            .address = origin.address});
  c_.announce_revoked(session_id, now);
  return {};
}

}  // namespace authd::auth::detail
