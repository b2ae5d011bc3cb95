#include "store/sqlite/stores.h"
#include "store/util.h"

namespace authd::store::sqlite {
namespace {

// SQL is laid out by hand.
// clang-format off
constexpr const char* kCreate =
    "INSERT INTO authorization_codes (hash, client_id, user_id, redirect_uri, code_challenge,"
    " scope, nonce, browser_session_id, auth_time, expires_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr const char* kFind =
    "SELECT client_id, user_id, redirect_uri, code_challenge, scope, nonce, browser_session_id,"
    " auth_time, expires_at, used_at, coalesce(session_id, '')"
    " FROM authorization_codes WHERE hash = ?1";
constexpr const char* kMarkUsed =
    "UPDATE authorization_codes SET used_at = ?2, session_id = ?3"
    " WHERE hash = ?1 AND used_at IS NULL";
constexpr const char* kFamilies =
    "SELECT DISTINCT session_id FROM authorization_codes"
    " WHERE browser_session_id = ?1 AND session_id IS NOT NULL ORDER BY session_id";
constexpr const char* kPurge =
    "DELETE FROM authorization_codes WHERE hash IN ("
    " SELECT c.hash FROM authorization_codes c WHERE c.expires_at < ?1"
    "  AND (c.session_id IS NULL OR NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = c.session_id))"
    " LIMIT ?2)";
// clang-format on

}  // namespace

StoreResult<void> SqliteCodeStore::create(const auth::AuthorizationCode& code) {
  std::lock_guard lock(shared_.mutex);
  auto q = shared_.conn->query(kCreate);
  if (!q) return unexpected(std::move(q).error());
  q->blob(code.hash)
      .text(code.client_id)
      .text(ascii_lower(code.user_id))
      .text(code.redirect_uri)
      .text(code.code_challenge)
      .text(code.scope)
      .text(code.nonce)
      .text(code.browser_session_id)
      .int64(code.auth_time)
      .int64(code.expires_at);
  return q->run();
}

// The connection mutex serialises redemptions in this process and BEGIN IMMEDIATE against
// other processes, so the read-then-write below cannot race.
StoreResult<std::optional<auth::CodeRedemption>> SqliteCodeStore::redeem(
    const std::string& hash, std::int64_t now, const std::string& session_id) {
  std::lock_guard lock(shared_.mutex);
  Connection& conn = *shared_.conn;
  Transaction tx(conn);
  if (auto r = tx.begin(); !r) return unexpected(r.error());
  auth::CodeRedemption out;
  {
    auto q = conn.query(kFind);
    if (!q) return unexpected(std::move(q).error());
    q->blob(hash);
    auto row = q->step();
    if (!row) return unexpected(std::move(row).error());
    if (!*row) return std::optional<auth::CodeRedemption>();
    out.code.hash = hash;
    out.code.client_id = q->text_at(0);
    out.code.user_id = q->text_at(1);
    out.code.redirect_uri = q->text_at(2);
    out.code.code_challenge = q->text_at(3);
    out.code.scope = q->text_at(4);
    out.code.nonce = q->text_at(5);
    out.code.browser_session_id = q->text_at(6);
    out.code.auth_time = q->int64_at(7);
    out.code.expires_at = q->int64_at(8);
    out.first_use = q->is_null_at(9);
    out.session_id = out.first_use ? session_id : q->text_at(10);
  }
  if (out.first_use) {
    auto q = conn.query(kMarkUsed);
    if (!q) return unexpected(std::move(q).error());
    q->blob(hash).int64(now).text(session_id);
    if (auto r = q->run(); !r) return unexpected(r.error());
  }
  if (auto r = tx.commit(); !r) return unexpected(r.error());
  return std::optional<auth::CodeRedemption>(std::move(out));
}

StoreResult<std::vector<std::string>> SqliteCodeStore::families(
    const std::string& browser_session_id) {
  std::lock_guard lock(shared_.mutex);
  auto q = shared_.conn->query(kFamilies);
  if (!q) return unexpected(std::move(q).error());
  q->text(browser_session_id);
  std::vector<std::string> out;
  while (true) {
    auto row = q->step();
    if (!row) return unexpected(std::move(row).error());
    if (!*row) return out;
    out.push_back(q->text_at(0));
  }
}

StoreResult<std::size_t> SqliteCodeStore::purge(std::int64_t cutoff, std::size_t limit) {
  std::lock_guard lock(shared_.mutex);
  auto q = shared_.conn->query(kPurge);
  if (!q) return unexpected(std::move(q).error());
  q->int64(cutoff).int64(clamp_count(limit));
  if (auto r = q->run(); !r) return unexpected(r.error());
  return static_cast<std::size_t>(shared_.conn->changes());
}

}  // namespace authd::store::sqlite
