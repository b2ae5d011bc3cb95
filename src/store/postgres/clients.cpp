#include <cstdlib>

#include "store/postgres/stores.h"

namespace authd::store::postgres {
namespace {

// SQL is laid out by hand.
// clang-format off
#define AUTHD_CLIENT_COLUMNS \
  "id, secret_hash, grant_types, scopes, allowed_origins, refresh_grace_seconds, created_at," \
  " permissions, audiences, access_ttl_seconds, previous_secret_hash, previous_secret_expires_at," \
  " jwk, redirect_uris, post_logout_redirect_uris, jwks_uri"

// created_at records when the client was first registered, so an update keeps it.
constexpr Statement kUpsert{
    "authd_clients_upsert",
    "INSERT INTO clients (" AUTHD_CLIENT_COLUMNS ")"
    " VALUES ($1::text, $2::text, $3::text[], $4::text[], $5::text[], $6::bigint, $7::bigint,"
    "         $8::text[], $9::text[], $10::bigint, $11::text, $12::bigint, $13::text,"
    "         $14::text[], $15::text[], $16::text)"
    " ON CONFLICT (id) DO UPDATE SET secret_hash = EXCLUDED.secret_hash,"
    "   grant_types = EXCLUDED.grant_types, scopes = EXCLUDED.scopes,"
    "   allowed_origins = EXCLUDED.allowed_origins,"
    "   refresh_grace_seconds = EXCLUDED.refresh_grace_seconds,"
    "   permissions = EXCLUDED.permissions, audiences = EXCLUDED.audiences,"
    "   access_ttl_seconds = EXCLUDED.access_ttl_seconds,"
    "   previous_secret_hash = EXCLUDED.previous_secret_hash,"
    "   previous_secret_expires_at = EXCLUDED.previous_secret_expires_at, jwk = EXCLUDED.jwk,"
    "   redirect_uris = EXCLUDED.redirect_uris,"
    "   post_logout_redirect_uris = EXCLUDED.post_logout_redirect_uris,"
    "   jwks_uri = EXCLUDED.jwks_uri"};
constexpr Statement kCreate{
    "authd_clients_create",
    "INSERT INTO clients (" AUTHD_CLIENT_COLUMNS ")"
    " VALUES ($1::text, $2::text, $3::text[], $4::text[], $5::text[], $6::bigint, $7::bigint,"
    "         $8::text[], $9::text[], $10::bigint, $11::text, $12::bigint, $13::text,"
    "         $14::text[], $15::text[], $16::text)"};
// A used key whose `until` has passed may be used again (its assertion has expired anyway).
constexpr Statement kUseAssertion{
    "authd_clients_use_assertion",
    "INSERT INTO client_assertions (key, until) VALUES ($1::text, $2::bigint)"
    " ON CONFLICT (key) DO UPDATE SET until = EXCLUDED.until"
    " WHERE client_assertions.until <= $3::bigint"};
// Oldest first, in batches: the index on `until` keeps each one short.
constexpr Statement kPurgeAssertions{
    "authd_clients_purge_assertions",
    "DELETE FROM client_assertions WHERE key IN (SELECT key FROM client_assertions"
    " WHERE until < $1::bigint ORDER BY until LIMIT $2::bigint)"};
constexpr Statement kRemove{"authd_clients_remove", "DELETE FROM clients WHERE id = $1::text"};
constexpr Statement kFind{"authd_clients_find",
                          "SELECT " AUTHD_CLIENT_COLUMNS " FROM clients WHERE id = $1::text"};
constexpr Statement kList{"authd_clients_list",
                          "SELECT " AUTHD_CLIENT_COLUMNS " FROM clients ORDER BY id COLLATE \"C\""};

#undef AUTHD_CLIENT_COLUMNS
// clang-format on

StoreResult<auth::Client> read_client(const PGresult* result, int row_index) {
  Row row(result, row_index);
  auth::Client c;
  c.id = row.text(0);
  c.secret_hash = row.text(1);
  c.grant_types = row.text_array(2);
  c.scopes = row.text_array(3);
  c.allowed_origins = row.text_array(4);
  c.refresh_grace_seconds = row.int64(5);
  c.created_at = row.int64(6);
  c.permissions = row.text_array(7);
  c.audiences = row.text_array(8);
  c.access_ttl_seconds = row.int64(9);
  c.previous_secret_hash = row.text(10);
  c.previous_secret_expires_at = row.int64(11);
  c.jwk = row.text(12);
  c.redirect_uris = row.text_array(13);
  c.post_logout_redirect_uris = row.text_array(14);
  c.jwks_uri = row.text(15);
  if (!row.ok()) return fail(Errc::kInternal, "postgres: malformed clients row");
  return c;
}

Params client_params(const auth::Client& client) {
  Params p;
  p.text(client.id)
      .text(client.secret_hash)
      .text_array(client.grant_types)
      .text_array(client.scopes)
      .text_array(client.allowed_origins)
      .int64(client.refresh_grace_seconds)
      .int64(client.created_at)
      .text_array(client.permissions)
      .text_array(client.audiences)
      .int64(client.access_ttl_seconds)
      .text(client.previous_secret_hash)
      .int64(client.previous_secret_expires_at)
      .text(client.jwk)
      .text_array(client.redirect_uris)
      .text_array(client.post_logout_redirect_uris)
      .text(client.jwks_uri);
  return p;
}

}  // namespace

StoreResult<void> PgClientStore::upsert(const auth::Client& client) {
  auto r = run(pool_, kUpsert, client_params(client), /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  return {};
}

// Not retried: a retry after a lost commit would report its own insert as a conflict.
StoreResult<void> PgClientStore::create(const auth::Client& client) {
  auto r = run(pool_, kCreate, client_params(client), /*retry_safe=*/false);
  if (!r) return unexpected(std::move(r).error());
  return {};
}

StoreResult<bool> PgClientStore::use_assertion(const std::string& key, std::int64_t until,
                                               std::int64_t now) {
  Params p;
  p.text(key).int64(until).int64(now);
  // Not retried: a retry after a lost commit would see its own row and answer "replayed".
  auto r = run(pool_, kUseAssertion, p, /*retry_safe=*/false);
  if (!r) return unexpected(std::move(r).error());
  const char* n = PQcmdTuples(r->get());
  return n != nullptr && std::string_view(n) == "1";
}

StoreResult<std::size_t> PgClientStore::purge_assertions(std::int64_t now, std::size_t limit) {
  Params p;
  p.int64(now).int64(static_cast<std::int64_t>(limit));
  auto r = run(pool_, kPurgeAssertions, p, /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  const char* n = PQcmdTuples(r->get());
  return n == nullptr || *n == '\0' ? 0 : static_cast<std::size_t>(std::strtoull(n, nullptr, 10));
}

StoreResult<bool> PgClientStore::remove(const std::string& id) {
  Params p;
  p.text(id);
  auto r = run(pool_, kRemove, p, /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  const char* n = PQcmdTuples(r->get());
  return n != nullptr && std::string_view(n) != "0";
}

StoreResult<std::optional<auth::Client>> PgClientStore::find(const std::string& id) {
  Params p;
  p.text(id);
  auto r = run(pool_, kFind, p, /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  if (PQntuples(r->get()) == 0) return std::optional<auth::Client>();
  auto c = read_client(r->get(), 0);
  if (!c) return unexpected(std::move(c).error());
  return std::optional<auth::Client>(std::move(c).value());
}

StoreResult<std::vector<auth::Client>> PgClientStore::list() {
  auto r = run(pool_, kList, Params{}, /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  std::vector<auth::Client> out;
  for (int i = 0; i < PQntuples(r->get()); ++i) {
    auto c = read_client(r->get(), i);
    if (!c) return unexpected(std::move(c).error());
    out.push_back(std::move(c).value());
  }
  return out;
}

}  // namespace authd::store::postgres
