#include <charconv>

#include "store/postgres/stores.h"
#include "store/util.h"

namespace authd::store::postgres {
namespace {

// SQL is laid out by hand.
// clang-format off
#define AUTHD_SESSION_COLUMNS                                                          \
  "id, user_id, client_id, created_at, last_used_at, absolute_expires_at, idle_expires_at, " \
  "revoked_at, revoked_reason, user_agent, ip, generation, scope"

// Family and first token in one statement (one round trip, atomic). The idle expiry is capped
// at the absolute one: the table's CHECK relies on it, and purge relies on the CHECK.
constexpr Statement kCreate{
    "authd_sessions_create",
    "WITH s AS ("
    " INSERT INTO sessions (" AUTHD_SESSION_COLUMNS ")"
    " VALUES ($1::uuid, $2::uuid, $3::text, $4::bigint, $5::bigint, $6::bigint,"
    "         LEAST($7::bigint, $6::bigint), NULL, '', $8::text, $9::text, 1, $12::text)"
    " RETURNING id)"
    " INSERT INTO refresh_tokens (hash, session_id, generation, issued_at)"
    " SELECT $10::bytea, s.id, 1, $11::bigint FROM s"};
// What read_rotation() reads, from a rotation function's row `r` and the family `s`.
#define AUTHD_ROTATION_COLUMNS                                                                \
  "r.o_outcome, r.o_generation, r.o_id, r.o_user_id, r.o_client_id, r.o_created_at,"          \
  " r.o_last_used_at, r.o_absolute_expires_at, r.o_idle_expires_at, r.o_revoked_at,"          \
  " r.o_revoked_reason, r.o_user_agent, r.o_ip, r.o_session_generation, r.o_user_disabled,"   \
  " r.o_user_roles, r.o_user_tenant, coalesce(s.scope, '')"

// The whole rotation is this one call; see migrations/postgres/0002_sessions.up.sql. The
// session's scope is joined from the statement's snapshot, not returned by the function: it
// never changes after login, so that snapshot has it whenever the function found the family.
constexpr Statement kRotate{
    "authd_sessions_rotate",
    "SELECT " AUTHD_ROTATION_COLUMNS
    " FROM authd_rotate_refresh($1::bytea, $2::bytea, $3::bigint, $4::bigint, $5::bigint) r"
    " LEFT JOIN sessions s ON s.id = r.o_id"};
// Rotations that queued behind a busy pool, sent as one statement and one commit (see
// migrations/postgres/0011_rotate_batch.up.sql, and 0012 for the calls it rotates as sets):
// kRotate's columns, then the call's position.
constexpr Statement kRotateBatch{
    "authd_sessions_rotate_batch",
    "SELECT " AUTHD_ROTATION_COLUMNS ", r.o_index"
    " FROM authd_rotate_refresh_batch($1::bytea[], $2::bytea[], $3::bigint[], $4::bigint[],"
    "                                 $5::bigint[]) r"
    " LEFT JOIN sessions s ON s.id = r.o_id"};
constexpr Statement kFind{"authd_sessions_find",
                          "SELECT " AUTHD_SESSION_COLUMNS " FROM sessions WHERE id = $1::uuid"};
constexpr Statement kFindByToken{
    "authd_sessions_find_by_token",
    "SELECT s.id, s.user_id, s.client_id, s.created_at, s.last_used_at, s.absolute_expires_at,"
    " s.idle_expires_at, s.revoked_at, s.revoked_reason, s.user_agent, s.ip, s.generation,"
    " s.scope"
    " FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = $1::bytea"};
constexpr Statement kListActive{
    "authd_sessions_list_active",
    "SELECT " AUTHD_SESSION_COLUMNS " FROM sessions"
    " WHERE user_id = $1::uuid AND revoked_at IS NULL"
    "   AND absolute_expires_at > $2::bigint AND idle_expires_at > $2::bigint"
    " ORDER BY created_at DESC, id DESC"};
// One round trip: the outer SELECT reads the statement's snapshot, in which the row exists if
// the UPDATE could have seen it.
constexpr Statement kRevoke{
    "authd_sessions_revoke",
    "WITH u AS (UPDATE sessions SET revoked_at = $3::bigint, revoked_reason = $2::text"
    "           WHERE id = $1::uuid AND revoked_at IS NULL RETURNING id)"
    " SELECT EXISTS (SELECT 1 FROM u), EXISTS (SELECT 1 FROM sessions WHERE id = $1::uuid)"};
constexpr Statement kRevokeAll{
    "authd_sessions_revoke_all",
    "UPDATE sessions SET revoked_at = $3::bigint, revoked_reason = $2::text"
    " WHERE user_id = $1::uuid AND revoked_at IS NULL"
    "   AND absolute_expires_at > $3::bigint AND idle_expires_at > $3::bigint"
    " RETURNING id"};
constexpr Statement kRevokedSince{
    "authd_sessions_revoked_since",
    "SELECT id FROM sessions WHERE revoked_at >= $1::bigint ORDER BY revoked_at, id"};
// idle_expires_at <= absolute_expires_at (CHECK), so "expired before the cutoff" is the idle
// test alone. SKIP LOCKED leaves families being rotated right now for the next run; tokens go
// by ON DELETE CASCADE.
constexpr Statement kPurge{
    "authd_sessions_purge",
    "WITH doomed AS (SELECT id FROM sessions"
    "                WHERE revoked_at < $1::bigint OR idle_expires_at < $1::bigint"
    "                LIMIT $2::bigint FOR UPDATE SKIP LOCKED)"
    " DELETE FROM sessions s USING doomed d WHERE s.id = d.id"};

constexpr Statement kRevokeToken{
    "authd_tokens_revoke",
    "INSERT INTO revoked_tokens (jti, until) VALUES ($1::text, $2::bigint)"
    " ON CONFLICT (jti) DO UPDATE SET until = GREATEST(revoked_tokens.until, EXCLUDED.until)"};
constexpr Statement kIsTokenRevoked{
    "authd_tokens_is_revoked", "SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $1::text)"};
constexpr Statement kLiveRevokedTokens{
    "authd_tokens_live_revoked",
    "SELECT jti, until FROM revoked_tokens WHERE until > $1::bigint ORDER BY until LIMIT $2::bigint"};
constexpr Statement kPurgeTokens{"authd_tokens_purge",
                                 "DELETE FROM revoked_tokens WHERE until < $1::bigint"};

#undef AUTHD_SESSION_COLUMNS
#undef AUTHD_ROTATION_COLUMNS
// clang-format on

// Reads the 12 session columns starting at `first`, and the scope from `scope_col`.
bool read_session(Row& row, int first, int scope_col, auth::Session& s) {
  s.id = row.text(first + 0);
  s.user_id = row.text(first + 1);
  s.client_id = row.text(first + 2);
  s.created_at = row.int64(first + 3);
  s.last_used_at = row.int64(first + 4);
  s.absolute_expires_at = row.int64(first + 5);
  s.idle_expires_at = row.int64(first + 6);
  s.revoked_at = row.optional_int64(first + 7);
  s.revoked_reason = row.text(first + 8);
  s.user_agent = row.text(first + 9);
  s.ip = row.text(first + 10);
  s.generation = row.int64(first + 11);
  s.scope = row.text(scope_col);
  return row.ok();
}

StoreResult<std::vector<auth::Session>> read_sessions(const PGresult* result) {
  std::vector<auth::Session> out;
  const int n = PQntuples(result);
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    Row row(result, i);
    auth::Session s;
    if (!read_session(row, 0, 12, s))
      return fail(Errc::kInternal, "postgres: malformed sessions row");
    out.push_back(std::move(s));
  }
  return out;
}

StoreResult<std::optional<auth::Session>> read_optional_session(const PGresult* result) {
  auto sessions = read_sessions(result);
  if (!sessions) return unexpected(std::move(sessions).error());
  if (sessions->empty()) return std::optional<auth::Session>();
  return std::optional<auth::Session>(std::move(sessions->front()));
}

std::vector<std::string> read_ids(const PGresult* result) {
  std::vector<std::string> ids;
  const int n = PQntuples(result);
  ids.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) ids.push_back(Row(result, i).text(0));
  return ids;
}

std::optional<auth::RotateOutcome> parse_outcome(std::string_view s) {
  using auth::RotateOutcome;
  if (s == "rotated") return RotateOutcome::kRotated;
  if (s == "grace_replay") return RotateOutcome::kGraceReplay;
  if (s == "reuse_detected") return RotateOutcome::kReuseDetected;
  if (s == "unknown") return RotateOutcome::kUnknown;
  if (s == "revoked") return RotateOutcome::kRevoked;
  if (s == "expired") return RotateOutcome::kExpired;
  return std::nullopt;
}

Params rotate_params(const auth::RotateRequest& request) {
  Params p;
  p.bytes(request.presented_hash)
      .bytes(request.successor_hash)
      .int64(request.now)
      .int64(request.grace_seconds)
      .int64(request.idle_timeout_seconds);
  return p;
}

std::int64_t int64_param(const Params& p, int i) {
  std::int64_t v = 0;
  const std::string& text = p.value(i);
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

// kRotateBatch's parameters from the calls' rotate_params(), column by column.
Params combine_rotations(const std::vector<const Params*>& calls) {
  std::vector<std::string> hashes, successors;
  std::vector<std::int64_t> nows, graces, idles;
  for (const Params* call : calls) {
    hashes.push_back(call->value(0));
    successors.push_back(call->value(1));
    nows.push_back(int64_param(*call, 2));
    graces.push_back(int64_param(*call, 3));
    idles.push_back(int64_param(*call, 4));
  }
  Params p;
  p.bytes_array(hashes)
      .bytes_array(successors)
      .int64_array(nows)
      .int64_array(graces)
      .int64_array(idles);
  return p;
}

// Up to 32 rotations a statement: enough to turn a queue of a few dozen waiting refreshes into
// a handful of commits, few enough that the families a batch locks are released soon. One
// connection an event loop: the next batch fills while one commits. Measured with pool 16 and
// wrk -c64 on two loops: 16 connections 2,237-2,959 refreshes/s, 2 a loop 4,105-4,705, 1 a loop
// 5,009-5,148 (and the least Postgres CPU per rotation).
constexpr Batch kRotations{&kRotateBatch, &combine_rotations, 32, 1};

StoreResult<auth::RotateResult> read_rotation(const PGresult* res) {
  if (PQntuples(res) != 1) return fail(Errc::kInternal, "postgres: rotation returned no row");
  Row row(res, 0);
  auto outcome = parse_outcome(row.text(0));
  if (!outcome) return fail(Errc::kInternal, "postgres: unknown rotation outcome");
  auth::RotateResult out;
  out.outcome = *outcome;
  out.generation = row.int64(1);
  if (*outcome != auth::RotateOutcome::kUnknown) {
    auth::Session s;
    read_session(row, 2, 17, s);
    out.session = std::move(s);
    // Read in the same call: a refresh needs nothing else from the database. NULLs (no user
    // row) fail boolean()/text_array() and so row.ok() below.
    auth::FamilyUser u;
    u.disabled = row.boolean(14);
    u.roles = row.text_array(15);
    u.tenant_id = row.text(16);
    out.user = std::move(u);
  }
  if (!row.ok()) return fail(Errc::kInternal, "postgres: malformed rotation row");
  return out;
}

}  // namespace

StoreResult<ResultPtr> run(Pool& pool, const Statement& statement, const Params& params,
                           bool retry_safe) {
  auto lease = pool.acquire();
  if (!lease) return unexpected(std::move(lease).error());
  auto r = (*lease)->exec(statement, params);
  if (r || !retry_safe || !lease->reused() || !(*lease)->stale()) return r;
  // Not after a client deadline: the server did not answer in time, and a new connection to it
  // would only add a connect timeout and a second deadline to the caller's wait. The caller
  // sees kUnavailable at the deadline and may retry later.
  if ((*lease)->timed_out()) return r;
  // The pooled connection died while idle, or its server was demoted (the pool has now dropped
  // every idle connection): the statement never ran or is safe to repeat, so try once more on
  // a new connection, which libpq opens on the current primary.
  {
    Lease broken = std::move(lease).value();  // returned (and closed) first: frees its slot
  }
  auto fresh = pool.acquire(/*fresh=*/true);
  if (!fresh) return unexpected(std::move(fresh).error());
  return (*fresh)->exec(statement, params);
}

StoreResult<void> PgSessionStore::create(const auth::Session& session,
                                         const auth::NewRefreshToken& first) {
  if (!is_uuid(session.id)) return fail(Errc::kInternal, "session id is not a UUID");
  if (!is_uuid(session.user_id)) return fail(Errc::kInternal, "user id is not a UUID");
  Params p;
  p.text(session.id)
      .text(session.user_id)
      .text(session.client_id)
      .int64(session.created_at)
      .int64(session.last_used_at)
      .int64(session.absolute_expires_at)
      .int64(session.idle_expires_at)
      .text(session.user_agent)
      .text(session.ip)
      .bytes(first.hash)
      .int64(first.issued_at)
      .text(session.scope);
  auto r = run(pool_, kCreate, p, /*retry_safe=*/false);
  if (!r) return unexpected(std::move(r).error());
  return {};
}

StoreResult<auth::RotateResult> PgSessionStore::rotate(const auth::RotateRequest& request) {
  bool connection_failed = false;
  auto result = rotate_once(request, /*fresh=*/false, connection_failed);
  if (result || !connection_failed) return result;
  // The connection broke while the rotation was in flight, or the server did not answer it
  // within the client deadline (the rotation may then still commit when the server resumes),
  // or the server turned out to be a demoted, read-only primary: whether it committed is
  // unknown. Retrying once on a new connection is safe because the request is deterministic:
  // same presented hash, same successor hash, same `now`. If the first attempt committed (or
  // commits later, after the retry), the other finds the token used 0 s before (by this same
  // `now`) with this same successor still live, and answers kGraceReplay with the same
  // generation; if it did not, the retry rotates. Either way the family gains exactly one
  // successor.
  return rotate_once(request, /*fresh=*/true, connection_failed);
}

StoreResult<auth::RotateResult> PgSessionStore::rotate_once(const auth::RotateRequest& request,
                                                            bool fresh, bool& connection_failed) {
  connection_failed = false;
  auto lease = pool_.acquire(fresh);
  if (!lease) return unexpected(std::move(lease).error());
  // One round trip: a single prepared statement that runs authd_rotate_refresh() in its own
  // implicit transaction (the first use on a connection also prepares it).
  auto r = (*lease)->exec(kRotate, rotate_params(request));
  if (!r) {
    connection_failed = (*lease)->stale();
    return unexpected(std::move(r).error());
  }
  return read_rotation(r->get());
}

void PgSessionStore::prime(Connection& conn) {
  // An empty hash: authd stores 32-byte hashes only, so both calls answer `unknown`.
  const Params none = rotate_params({"", "", 0, 0, 0});
  (void)conn.exec(kRotate, none);
  (void)conn.exec(kRotateBatch, combine_rotations({&none}));
}

bool PgSessionStore::rotate_async(const auth::RotateRequest& request, auth::RotateCallback done) {
  Lane* lane = loops != nullptr ? loops->current() : nullptr;
  if (lane == nullptr) return false;
  return lane->exec(
      kRotate, rotate_params(request),
      [this, request, done](StoreResult<ResultPtr> r, bool connection_failed) {
        if (r) return done(read_rotation(r->get()));
        if (!connection_failed) return done(unexpected(std::move(r).error()));
        // As in rotate(): the deterministic retry on a new connection, which blocks while it
        // opens one, so not on the loop.
        loops->offload([this, request, done] {
          bool failed_again = false;
          done(rotate_once(request, /*fresh=*/true, failed_again));
        });
      },
      &kRotations);
}

StoreResult<std::optional<auth::Session>> PgSessionStore::find(const std::string& session_id) {
  if (!is_uuid(session_id)) return std::optional<auth::Session>();
  Params p;
  p.text(session_id);
  auto r = run(pool_, kFind, p, /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  return read_optional_session(r->get());
}

StoreResult<std::optional<auth::Session>> PgSessionStore::find_by_token(
    const std::string& token_hash) {
  Params p;
  p.bytes(token_hash);
  auto r = run(pool_, kFindByToken, p, /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  return read_optional_session(r->get());
}

StoreResult<std::vector<auth::Session>> PgSessionStore::list_active(const std::string& user_id,
                                                                    std::int64_t now) {
  if (!is_uuid(user_id)) return std::vector<auth::Session>();
  Params p;
  p.text(user_id).int64(now);
  auto r = run(pool_, kListActive, p, /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  return read_sessions(r->get());
}

StoreResult<bool> PgSessionStore::revoke(const std::string& session_id, const std::string& reason,
                                         std::int64_t now) {
  if (!is_uuid(session_id)) return fail(Errc::kNotFound, "no such session");
  Params p;
  p.text(session_id).text(reason).int64(now);
  // Not retried: a retry of a committed revoke would answer "already revoked".
  auto r = run(pool_, kRevoke, p, /*retry_safe=*/false);
  if (!r) return unexpected(std::move(r).error());
  Row row(r->get(), 0);
  const bool revoked = row.boolean(0);
  const bool exists = row.boolean(1);
  if (!row.ok()) return fail(Errc::kInternal, "postgres: malformed revoke row");
  if (!exists) return fail(Errc::kNotFound, "no such session");
  return revoked;
}

StoreResult<std::vector<std::string>> PgSessionStore::revoke_all(const std::string& user_id,
                                                                 const std::string& reason,
                                                                 std::int64_t now) {
  if (!is_uuid(user_id)) return std::vector<std::string>();
  Params p;
  p.text(user_id).text(reason).int64(now);
  auto r = run(pool_, kRevokeAll, p, /*retry_safe=*/false);
  if (!r) return unexpected(std::move(r).error());
  return read_ids(r->get());
}

StoreResult<std::vector<std::string>> PgSessionStore::revoked_since(std::int64_t since) {
  Params p;
  p.int64(since);
  auto r = run(pool_, kRevokedSince, p, /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  return read_ids(r->get());
}

StoreResult<void> PgSessionStore::revoke_token(const std::string& jti, std::int64_t until) {
  Params p;
  p.text(jti).int64(until);
  // An upsert that only raises `until`: safe to retry.
  auto r = run(pool_, kRevokeToken, p, /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  return {};
}

StoreResult<bool> PgSessionStore::is_token_revoked(const std::string& jti) {
  Params p;
  p.text(jti);
  auto r = run(pool_, kIsTokenRevoked, p, /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  Row row(r->get(), 0);
  const bool revoked = row.boolean(0);
  if (!row.ok()) return fail(Errc::kInternal, "postgres: malformed revoked_tokens row");
  return revoked;
}

StoreResult<std::vector<std::pair<std::string, std::int64_t>>> PgSessionStore::revoked_tokens(
    std::int64_t now, std::size_t limit) {
  Params p;
  p.int64(now).int64(clamp_count(limit));
  auto r = run(pool_, kLiveRevokedTokens, p, /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (int i = 0; i < PQntuples(r->get()); ++i) {
    Row row(r->get(), i);
    out.emplace_back(row.text(0), row.int64(1));
    if (!row.ok()) return fail(Errc::kInternal, "postgres: malformed revoked_tokens row");
  }
  return out;
}

StoreResult<std::size_t> PgSessionStore::purge(std::int64_t cutoff, std::size_t limit) {
  {
    Params t;
    t.int64(cutoff);
    auto r = run(pool_, kPurgeTokens, t, /*retry_safe=*/true);
    if (!r) return unexpected(std::move(r).error());
  }
  Params p;
  p.int64(cutoff).int64(clamp_count(limit));
  auto r = run(pool_, kPurge, p, /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  const std::string_view count = PQcmdTuples(r->get());
  std::size_t deleted = 0;
  std::from_chars(count.data(), count.data() + count.size(), deleted);
  return deleted;
}

}  // namespace authd::store::postgres
