#include "store/postgres/stores.h"

namespace authd::store::postgres {
namespace {

// SQL is laid out by hand.
// clang-format off
constexpr Statement kCreate{
    "authd_codes_create",
    "INSERT INTO authorization_codes (hash, client_id, user_id, redirect_uri, code_challenge,"
    " scope, nonce, browser_session_id, auth_time, expires_at)"
    " VALUES ($1::bytea, $2::text, $3::uuid, $4::text, $5::text, $6::text, $7::text, $8::text,"
    "         $9::bigint, $10::bigint)"};
// One round trip. The CTE locks the row; a concurrent redemption waits for it and then sees
// the committed used_at (READ COMMITTED re-reads a locked row), so only one call updates.
constexpr Statement kRedeem{
    "authd_codes_redeem",
    "WITH prev AS (SELECT * FROM authorization_codes WHERE hash = $1::bytea FOR UPDATE),"
    " u AS (UPDATE authorization_codes c SET used_at = $2::bigint, session_id = $3::text"
    "       FROM prev WHERE c.hash = prev.hash AND prev.used_at IS NULL RETURNING c.hash)"
    " SELECT prev.client_id, prev.user_id::text, prev.redirect_uri, prev.code_challenge,"
    "  prev.scope, prev.nonce, prev.browser_session_id, prev.auth_time, prev.expires_at,"
    "  EXISTS (SELECT 1 FROM u), coalesce(prev.session_id, '')"
    " FROM prev"};
constexpr Statement kFamilies{
    "authd_codes_families",
    "SELECT DISTINCT session_id FROM authorization_codes"
    " WHERE browser_session_id = $1::text AND session_id IS NOT NULL ORDER BY session_id"};
constexpr Statement kPurge{
    "authd_codes_purge",
    "WITH doomed AS (SELECT c.hash FROM authorization_codes c"
    "                WHERE c.expires_at < $1::bigint"
    "                  AND (c.session_id IS NULL OR NOT EXISTS"
    "                       (SELECT 1 FROM sessions s WHERE s.id::text = c.session_id))"
    "                LIMIT $2::bigint FOR UPDATE SKIP LOCKED)"
    " DELETE FROM authorization_codes c USING doomed d WHERE c.hash = d.hash"};
// clang-format on

}  // namespace

// Not retried: a retry after a lost commit would report its own insert as a conflict.
StoreResult<void> PgCodeStore::create(const auth::AuthorizationCode& code) {
  Params p;
  p.bytes(code.hash)
      .text(code.client_id)
      .text(code.user_id)
      .text(code.redirect_uri)
      .text(code.code_challenge)
      .text(code.scope)
      .text(code.nonce)
      .text(code.browser_session_id)
      .int64(code.auth_time)
      .int64(code.expires_at);
  auto r = run(pool_, kCreate, p, /*retry_safe=*/false);
  if (!r) return unexpected(std::move(r).error());
  return {};
}

// Not retried here: the caller recognises a retry of its own redemption by the family id.
StoreResult<std::optional<auth::CodeRedemption>> PgCodeStore::redeem(
    const std::string& hash, std::int64_t now, const std::string& session_id) {
  Params p;
  p.bytes(hash).int64(now).text(session_id);
  auto r = run(pool_, kRedeem, p, /*retry_safe=*/false);
  if (!r) return unexpected(std::move(r).error());
  if (PQntuples(r->get()) == 0) return std::optional<auth::CodeRedemption>();
  Row row(r->get(), 0);
  auth::CodeRedemption out;
  out.code.hash = hash;
  out.code.client_id = row.text(0);
  out.code.user_id = row.text(1);
  out.code.redirect_uri = row.text(2);
  out.code.code_challenge = row.text(3);
  out.code.scope = row.text(4);
  out.code.nonce = row.text(5);
  out.code.browser_session_id = row.text(6);
  out.code.auth_time = row.int64(7);
  out.code.expires_at = row.int64(8);
  out.first_use = row.boolean(9);
  out.session_id = out.first_use ? session_id : row.text(10);
  if (!row.ok()) return fail(Errc::kInternal, "postgres: malformed authorization_codes row");
  return std::optional<auth::CodeRedemption>(std::move(out));
}

StoreResult<std::vector<std::string>> PgCodeStore::families(const std::string& browser_session_id) {
  Params p;
  p.text(browser_session_id);
  auto r = run(pool_, kFamilies, p, /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  std::vector<std::string> out;
  for (int i = 0; i < PQntuples(r->get()); ++i) out.push_back(Row(r->get(), i).text(0));
  return out;
}

StoreResult<std::size_t> PgCodeStore::purge(std::int64_t cutoff, std::size_t limit) {
  Params p;
  p.int64(cutoff).int64(clamp_count(limit));
  auto r = run(pool_, kPurge, p, /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  const char* n = PQcmdTuples(r->get());
  return static_cast<std::size_t>(n != nullptr && *n != '\0' ? std::stoll(n) : 0);
}

}  // namespace authd::store::postgres
