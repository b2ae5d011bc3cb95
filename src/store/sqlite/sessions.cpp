#include <algorithm>
#include <cstdlib>

#include "store/sqlite/json_list.h"
#include "store/sqlite/stores.h"
#include "store/util.h"

namespace authd::store::sqlite {
namespace {

// SQL is laid out by hand.
// clang-format off
#define AUTHD_SESSION_COLUMNS                                                          \
  "id, user_id, client_id, created_at, last_used_at, absolute_expires_at, idle_expires_at, " \
  "revoked_at, revoked_reason, user_agent, ip, generation, scope"

constexpr const char* kInsertSession =
    "INSERT INTO sessions (" AUTHD_SESSION_COLUMNS ")"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, '', ?8, ?9, 1, ?10)";
constexpr const char* kInsertToken =
    "INSERT INTO refresh_tokens (hash, session_id, generation, issued_at) VALUES (?1, ?2, ?3, ?4)";
constexpr const char* kFind = "SELECT " AUTHD_SESSION_COLUMNS " FROM sessions WHERE id = ?1";
constexpr const char* kFindByToken =
    "SELECT s.id, s.user_id, s.client_id, s.created_at, s.last_used_at, s.absolute_expires_at,"
    " s.idle_expires_at, s.revoked_at, s.revoked_reason, s.user_agent, s.ip, s.generation,"
    " s.scope"
    " FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = ?1";
constexpr const char* kListActive =
    "SELECT " AUTHD_SESSION_COLUMNS " FROM sessions"
    " WHERE user_id = ?1 AND revoked_at IS NULL"
    "   AND absolute_expires_at > ?2 AND idle_expires_at > ?2"
    " ORDER BY created_at DESC, id DESC";
constexpr const char* kRevoke =
    "UPDATE sessions SET revoked_reason = ?2, revoked_at = ?3"
    " WHERE id = ?1 AND revoked_at IS NULL RETURNING id";
constexpr const char* kExists = "SELECT 1 FROM sessions WHERE id = ?1";
constexpr const char* kRevokeAll =
    "UPDATE sessions SET revoked_reason = ?2, revoked_at = ?3"
    " WHERE user_id = ?1 AND revoked_at IS NULL"
    "   AND absolute_expires_at > ?3 AND idle_expires_at > ?3"
    " RETURNING id";
constexpr const char* kRevokedSince =
    "SELECT id FROM sessions WHERE revoked_at >= ?1 ORDER BY revoked_at, id";
// idle_expires_at <= absolute_expires_at (CHECK), so "expired before the cutoff" is the idle
// test alone. Tokens go by ON DELETE CASCADE; changes() counts only the sessions.
constexpr const char* kPurge =
    "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions"
    " WHERE revoked_at < ?1 OR idle_expires_at < ?1 LIMIT ?2)";

constexpr const char* kRevokeToken =
    "INSERT INTO revoked_tokens (jti, until) VALUES (?1, ?2)"
    " ON CONFLICT (jti) DO UPDATE SET until = max(until, excluded.until)";
constexpr const char* kIsTokenRevoked = "SELECT count(*) FROM revoked_tokens WHERE jti = ?1";
constexpr const char* kPurgeTokens = "DELETE FROM revoked_tokens WHERE until < ?1";
constexpr const char* kLiveRevokedTokens =
    "SELECT jti, until FROM revoked_tokens WHERE until > ?1 ORDER BY until LIMIT ?2";

// Rotation steps, all inside one BEGIN IMMEDIATE transaction.
constexpr const char* kTokenForUpdate =
    "SELECT session_id, generation, used_at, successor_hash FROM refresh_tokens WHERE hash = ?1";
constexpr const char* kMarkUsed =
    "UPDATE refresh_tokens SET used_at = ?2, successor_hash = ?3 WHERE hash = ?1";
constexpr const char* kSuccessorLive =
    "SELECT 1 FROM refresh_tokens WHERE hash = ?1 AND used_at IS NULL";
constexpr const char* kAdvance =
    "UPDATE sessions SET generation = ?2, last_used_at = ?3, idle_expires_at = ?4 WHERE id = ?1";
constexpr const char* kTouch =
    "UPDATE sessions SET last_used_at = max(last_used_at, ?2) WHERE id = ?1";
constexpr const char* kRevokeReuse =
    "UPDATE sessions SET revoked_at = ?2, revoked_reason = 'reuse_detected' WHERE id = ?1";
constexpr const char* kFamilyUser = "SELECT disabled, roles, tenant_id FROM users WHERE id = ?1";

#undef AUTHD_SESSION_COLUMNS
// clang-format on

auth::Session read_session(const Query& q) {
  auth::Session s;
  s.id = q.text_at(0);
  s.user_id = q.text_at(1);
  s.client_id = q.text_at(2);
  s.created_at = q.int64_at(3);
  s.last_used_at = q.int64_at(4);
  s.absolute_expires_at = q.int64_at(5);
  s.idle_expires_at = q.int64_at(6);
  s.revoked_at = q.optional_int64_at(7);
  s.revoked_reason = q.text_at(8);
  s.user_agent = q.text_at(9);
  s.ip = q.text_at(10);
  s.generation = q.int64_at(11);
  s.scope = q.text_at(12);
  return s;
}

StoreResult<std::vector<auth::Session>> read_sessions(Query& q) {
  std::vector<auth::Session> out;
  while (true) {
    auto row = q.step();
    if (!row) return unexpected(std::move(row).error());
    if (!*row) return out;
    out.push_back(read_session(q));
  }
}

StoreResult<std::vector<std::string>> read_ids(Query& q) {
  std::vector<std::string> out;
  while (true) {
    auto row = q.step();
    if (!row) return unexpected(std::move(row).error());
    if (!*row) return out;
    out.push_back(q.text_at(0));
  }
}

StoreResult<std::optional<auth::Session>> find_session(Connection& conn, const std::string& id) {
  auto q = conn.query(kFind);
  if (!q) return unexpected(std::move(q).error());
  q->text(id);
  auto sessions = read_sessions(*q);
  if (!sessions) return unexpected(std::move(sessions).error());
  if (sessions->empty()) return std::optional<auth::Session>();
  return std::optional<auth::Session>(std::move(sessions->front()));
}

// What a refresh needs of the family's user, read inside the rotation's transaction.
StoreResult<auth::FamilyUser> find_family_user(Connection& conn, const std::string& user_id) {
  auto q = conn.query(kFamilyUser);
  if (!q) return unexpected(std::move(q).error());
  q->text(user_id);
  auto row = q->step();
  if (!row) return unexpected(std::move(row).error());
  if (!*row) return fail(Errc::kInternal, "sqlite: session without user");
  auth::FamilyUser u;
  u.disabled = q->int64_at(0) != 0;
  auto roles = from_json_list(q->text_at(1));
  if (!roles) return fail(Errc::kInternal, "sqlite: malformed users.roles");
  u.roles = std::move(*roles);
  u.tenant_id = q->text_at(2);
  return u;
}

// Runs one statement whose parameters `bind` adds.
template <class Bind>
StoreResult<void> run(Connection& conn, const char* sql, Bind bind) {
  auto q = conn.query(sql);
  if (!q) return unexpected(std::move(q).error());
  bind(*q);
  return q->run();
}

}  // namespace

StoreResult<void> SqliteSessionStore::create(const auth::Session& session,
                                             const auth::NewRefreshToken& first) {
  if (!is_uuid(session.id)) return fail(Errc::kInternal, "session id is not a UUID");
  if (!is_uuid(session.user_id)) return fail(Errc::kInternal, "user id is not a UUID");
  const std::string id = ascii_lower(session.id);
  std::lock_guard lock(shared_.mutex);
  Connection& conn = *shared_.conn;
  Transaction tx(conn);
  if (auto r = tx.begin(); !r) return r;
  auto inserted = run(conn, kInsertSession, [&](Query& q) {
    q.text(id)
        .text(ascii_lower(session.user_id))
        .text(session.client_id)
        .int64(session.created_at)
        .int64(session.last_used_at)
        .int64(session.absolute_expires_at)
        // Capped at the absolute expiry: the table's CHECK relies on it, and purge on the CHECK.
        .int64(std::min(session.idle_expires_at, session.absolute_expires_at))
        .text(session.user_agent)
        .text(session.ip)
        .text(session.scope);
  });
  if (!inserted) return inserted;
  auto token = run(conn, kInsertToken,
                   [&](Query& q) { q.blob(first.hash).text(id).int64(1).int64(first.issued_at); });
  if (!token) return token;
  return tx.commit();
}

// The same algorithm as authd_rotate_refresh() in migrations/postgres/0002_sessions.up.sql; the
// connection mutex serialises rotations in this process and BEGIN IMMEDIATE against other
// processes, so the read-then-write below cannot race.
StoreResult<auth::RotateResult> SqliteSessionStore::rotate(const auth::RotateRequest& request) {
  using auth::RotateOutcome;
  std::lock_guard lock(shared_.mutex);
  Connection& conn = *shared_.conn;
  Transaction tx(conn);
  if (auto r = tx.begin(); !r) return unexpected(r.error());

  std::string session_id;
  std::int64_t generation = 0;
  std::optional<std::int64_t> used_at;
  std::string successor_hash;
  {
    auto q = conn.query(kTokenForUpdate);
    if (!q) return unexpected(std::move(q).error());
    q->blob(request.presented_hash);
    auto row = q->step();
    if (!row) return unexpected(std::move(row).error());
    if (!*row) return auth::RotateResult{};  // kUnknown
    session_id = q->text_at(0);
    generation = q->int64_at(1);
    used_at = q->optional_int64_at(2);
    successor_hash = q->blob_at(3);
  }
  auto found = find_session(conn, session_id);
  if (!found) return unexpected(std::move(found).error());
  if (!found->has_value()) return fail(Errc::kInternal, "sqlite: refresh token without session");
  const auth::Session& s = **found;

  auth::RotateResult result;
  if (s.revoked_at) {
    result.outcome = RotateOutcome::kRevoked;
  } else if (request.now >= s.absolute_expires_at || request.now >= s.idle_expires_at) {
    result.outcome = RotateOutcome::kExpired;
  } else if (!used_at) {
    // Mark first, insert second: the partial unique index allows one live token at a time.
    auto marked = run(conn, kMarkUsed, [&](Query& q) {
      q.blob(request.presented_hash).int64(request.now).blob(request.successor_hash);
    });
    if (!marked) return unexpected(marked.error());
    auto inserted = run(conn, kInsertToken, [&](Query& q) {
      q.blob(request.successor_hash).text(session_id).int64(generation + 1).int64(request.now);
    });
    if (!inserted) return unexpected(inserted.error());
    // idle_timeout_seconds <= 0 means no idle timeout; compared as a difference so that a
    // huge timeout cannot overflow.
    const std::int64_t idle =
        request.idle_timeout_seconds <= 0 ||
                request.idle_timeout_seconds >= s.absolute_expires_at - request.now
            ? s.absolute_expires_at
            : request.now + request.idle_timeout_seconds;
    auto advanced = run(conn, kAdvance, [&](Query& q) {
      q.text(session_id).int64(generation + 1).int64(request.now).int64(idle);
    });
    if (!advanced) return unexpected(advanced.error());
    result.outcome = RotateOutcome::kRotated;
    result.generation = generation + 1;
  } else {
    bool successor_live = false;
    // Symmetric: a held request presents with its arrival time, which may be the earlier one.
    if (std::abs(request.now - *used_at) <= request.grace_seconds &&
        successor_hash == request.successor_hash) {
      auto q = conn.query(kSuccessorLive);
      if (!q) return unexpected(std::move(q).error());
      q->blob(request.successor_hash);
      auto row = q->step();
      if (!row) return unexpected(std::move(row).error());
      successor_live = *row;
    }
    if (successor_live) {
      auto touched = run(conn, kTouch, [&](Query& q) { q.text(session_id).int64(request.now); });
      if (!touched) return unexpected(touched.error());
      result.outcome = RotateOutcome::kGraceReplay;
      result.generation = generation + 1;
    } else {
      // Outside the window, a different successor, or the successor itself already rotated:
      // the family moved on without this caller, so treat it as theft.
      auto revoked =
          run(conn, kRevokeReuse, [&](Query& q) { q.text(session_id).int64(request.now); });
      if (!revoked) return unexpected(revoked.error());
      result.outcome = RotateOutcome::kReuseDetected;
    }
  }
  auto after = find_session(conn, session_id);
  if (!after) return unexpected(std::move(after).error());
  if (!after->has_value()) return fail(Errc::kInternal, "sqlite: session vanished in rotation");
  result.session = std::move(*after);
  // Same transaction: a refresh needs nothing else from the database.
  auto user = find_family_user(conn, result.session->user_id);
  if (!user) return unexpected(std::move(user).error());
  result.user = std::move(*user);
  if (auto r = tx.commit(); !r) return unexpected(r.error());
  return result;
}

StoreResult<std::optional<auth::Session>> SqliteSessionStore::find(const std::string& session_id) {
  if (!is_uuid(session_id)) return std::optional<auth::Session>();
  std::lock_guard lock(shared_.mutex);
  return find_session(*shared_.conn, ascii_lower(session_id));
}

StoreResult<std::optional<auth::Session>> SqliteSessionStore::find_by_token(
    const std::string& token_hash) {
  std::lock_guard lock(shared_.mutex);
  auto q = shared_.conn->query(kFindByToken);
  if (!q) return unexpected(std::move(q).error());
  q->blob(token_hash);
  auto sessions = read_sessions(*q);
  if (!sessions) return unexpected(std::move(sessions).error());
  if (sessions->empty()) return std::optional<auth::Session>();
  return std::optional<auth::Session>(std::move(sessions->front()));
}

StoreResult<std::vector<auth::Session>> SqliteSessionStore::list_active(const std::string& user_id,
                                                                        std::int64_t now) {
  if (!is_uuid(user_id)) return std::vector<auth::Session>();
  std::lock_guard lock(shared_.mutex);
  auto q = shared_.conn->query(kListActive);
  if (!q) return unexpected(std::move(q).error());
  q->text(ascii_lower(user_id)).int64(now);
  return read_sessions(*q);
}

StoreResult<bool> SqliteSessionStore::revoke(const std::string& session_id,
                                             const std::string& reason, std::int64_t now) {
  if (!is_uuid(session_id)) return fail(Errc::kNotFound, "no such session");
  const std::string id = ascii_lower(session_id);
  std::lock_guard lock(shared_.mutex);
  Connection& conn = *shared_.conn;
  {
    auto q = conn.query(kRevoke);
    if (!q) return unexpected(std::move(q).error());
    q->text(id).text(reason).int64(now);
    auto ids = read_ids(*q);
    if (!ids) return unexpected(std::move(ids).error());
    if (!ids->empty()) return true;
  }
  auto q = conn.query(kExists);
  if (!q) return unexpected(std::move(q).error());
  q->text(id);
  auto row = q->step();
  if (!row) return unexpected(std::move(row).error());
  if (!*row) return fail(Errc::kNotFound, "no such session");
  return false;
}

StoreResult<std::vector<std::string>> SqliteSessionStore::revoke_all(const std::string& user_id,
                                                                     const std::string& reason,
                                                                     std::int64_t now) {
  if (!is_uuid(user_id)) return std::vector<std::string>();
  std::lock_guard lock(shared_.mutex);
  auto q = shared_.conn->query(kRevokeAll);
  if (!q) return unexpected(std::move(q).error());
  q->text(ascii_lower(user_id)).text(reason).int64(now);
  return read_ids(*q);
}

StoreResult<std::vector<std::string>> SqliteSessionStore::revoked_since(std::int64_t since) {
  std::lock_guard lock(shared_.mutex);
  auto q = shared_.conn->query(kRevokedSince);
  if (!q) return unexpected(std::move(q).error());
  q->int64(since);
  return read_ids(*q);
}

StoreResult<void> SqliteSessionStore::revoke_token(const std::string& jti, std::int64_t until) {
  std::lock_guard lock(shared_.mutex);
  return run(*shared_.conn, kRevokeToken, [&](Query& q) { q.text(jti).int64(until); });
}

StoreResult<bool> SqliteSessionStore::is_token_revoked(const std::string& jti) {
  std::lock_guard lock(shared_.mutex);
  auto q = shared_.conn->query(kIsTokenRevoked);
  if (!q) return unexpected(std::move(q).error());
  q->text(jti);
  auto row = q->step();
  if (!row) return unexpected(std::move(row).error());
  return *row && q->int64_at(0) > 0;
}

StoreResult<std::vector<std::pair<std::string, std::int64_t>>> SqliteSessionStore::revoked_tokens(
    std::int64_t now, std::size_t limit) {
  std::lock_guard lock(shared_.mutex);
  auto q = shared_.conn->query(kLiveRevokedTokens);
  if (!q) return unexpected(std::move(q).error());
  q->int64(now).int64(clamp_count(limit));
  std::vector<std::pair<std::string, std::int64_t>> out;
  while (true) {
    auto row = q->step();
    if (!row) return unexpected(std::move(row).error());
    if (!*row) return out;
    out.emplace_back(q->text_at(0), q->int64_at(1));
  }
}

StoreResult<std::size_t> SqliteSessionStore::purge(std::int64_t cutoff, std::size_t limit) {
  std::lock_guard lock(shared_.mutex);
  Connection& conn = *shared_.conn;
  if (auto t = run(conn, kPurgeTokens, [&](Query& q) { q.int64(cutoff); }); !t)
    return unexpected(t.error());
  auto r = run(conn, kPurge, [&](Query& q) { q.int64(cutoff).int64(clamp_count(limit)); });
  if (!r) return unexpected(r.error());
  return static_cast<std::size_t>(conn.changes());
}

}  // namespace authd::store::sqlite
