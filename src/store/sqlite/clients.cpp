#include "store/sqlite/json_list.h"
#include "store/sqlite/stores.h"

namespace authd::store::sqlite {
namespace {

// SQL is laid out by hand.
// clang-format off
#define AUTHD_CLIENT_COLUMNS \
  "id, secret_hash, grant_types, scopes, allowed_origins, refresh_grace_seconds, created_at," \
  " permissions, audiences, access_ttl_seconds, previous_secret_hash, previous_secret_expires_at," \
  " jwk, redirect_uris, post_logout_redirect_uris, jwks_uri"

// created_at records when the client was first registered, so an update keeps it.
constexpr const char* kUpsert =
    "INSERT INTO clients (" AUTHD_CLIENT_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    " ON CONFLICT (id) DO UPDATE SET secret_hash = excluded.secret_hash,"
    "   grant_types = excluded.grant_types, scopes = excluded.scopes,"
    "   allowed_origins = excluded.allowed_origins,"
    "   refresh_grace_seconds = excluded.refresh_grace_seconds,"
    "   permissions = excluded.permissions, audiences = excluded.audiences,"
    "   access_ttl_seconds = excluded.access_ttl_seconds,"
    "   previous_secret_hash = excluded.previous_secret_hash,"
    "   previous_secret_expires_at = excluded.previous_secret_expires_at, jwk = excluded.jwk,"
    "   redirect_uris = excluded.redirect_uris,"
    "   post_logout_redirect_uris = excluded.post_logout_redirect_uris,"
    "   jwks_uri = excluded.jwks_uri";
constexpr const char* kCreate =
    "INSERT INTO clients (" AUTHD_CLIENT_COLUMNS ")"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";
constexpr const char* kUseAssertion =
    "INSERT INTO client_assertions (key, until) VALUES (?1, ?2)"
    " ON CONFLICT (key) DO UPDATE SET until = excluded.until WHERE client_assertions.until <= ?3";
constexpr const char* kPurgeAssertions =
    "DELETE FROM client_assertions WHERE key IN (SELECT key FROM client_assertions"
    " WHERE until < ?1 ORDER BY until LIMIT ?2)";
constexpr const char* kRemove = "DELETE FROM clients WHERE id = ?1";
constexpr const char* kFind = "SELECT " AUTHD_CLIENT_COLUMNS " FROM clients WHERE id = ?1";
constexpr const char* kList = "SELECT " AUTHD_CLIENT_COLUMNS " FROM clients ORDER BY id";

#undef AUTHD_CLIENT_COLUMNS
// clang-format on

StoreResult<auth::Client> read_client(const Query& q) {
  auth::Client c;
  c.id = q.text_at(0);
  c.secret_hash = q.text_at(1);
  auto grant_types = from_json_list(q.text_at(2));
  auto scopes = from_json_list(q.text_at(3));
  auto origins = from_json_list(q.text_at(4));
  auto permissions = from_json_list(q.text_at(7));
  auto audiences = from_json_list(q.text_at(8));
  auto redirects = from_json_list(q.text_at(13));
  auto logout_redirects = from_json_list(q.text_at(14));
  if (!grant_types || !scopes || !origins || !permissions || !audiences || !redirects ||
      !logout_redirects)
    return fail(Errc::kInternal, "sqlite: malformed clients row");
  c.grant_types = std::move(*grant_types);
  c.scopes = std::move(*scopes);
  c.allowed_origins = std::move(*origins);
  c.refresh_grace_seconds = q.int64_at(5);
  c.created_at = q.int64_at(6);
  c.permissions = std::move(*permissions);
  c.audiences = std::move(*audiences);
  c.access_ttl_seconds = q.int64_at(9);
  c.previous_secret_hash = q.text_at(10);
  c.previous_secret_expires_at = q.int64_at(11);
  c.jwk = q.text_at(12);
  c.redirect_uris = std::move(*redirects);
  c.post_logout_redirect_uris = std::move(*logout_redirects);
  c.jwks_uri = q.text_at(15);
  return c;
}

StoreResult<std::vector<auth::Client>> read_clients(Query& q) {
  std::vector<auth::Client> out;
  while (true) {
    auto row = q.step();
    if (!row) return unexpected(std::move(row).error());
    if (!*row) return out;
    auto c = read_client(q);
    if (!c) return unexpected(std::move(c).error());
    out.push_back(std::move(c).value());
  }
}

}  // namespace

StoreResult<void> SqliteClientStore::upsert(const auth::Client& client) {
  return write(kUpsert, client);
}

StoreResult<void> SqliteClientStore::create(const auth::Client& client) {
  return write(kCreate, client);
}

StoreResult<bool> SqliteClientStore::use_assertion(const std::string& key, std::int64_t until,
                                                   std::int64_t now) {
  std::lock_guard lock(shared_.mutex);
  auto q = shared_.conn->query(kUseAssertion);
  if (!q) return unexpected(std::move(q).error());
  q->text(key).int64(until).int64(now);
  if (auto r = q->run(); !r) return unexpected(std::move(r).error());
  return shared_.conn->changes() > 0;
}

StoreResult<std::size_t> SqliteClientStore::purge_assertions(std::int64_t now, std::size_t limit) {
  std::lock_guard lock(shared_.mutex);
  auto q = shared_.conn->query(kPurgeAssertions);
  if (!q) return unexpected(std::move(q).error());
  q->int64(now).int64(static_cast<std::int64_t>(limit));
  if (auto r = q->run(); !r) return unexpected(std::move(r).error());
  return static_cast<std::size_t>(shared_.conn->changes());
}

StoreResult<bool> SqliteClientStore::remove(const std::string& id) {
  std::lock_guard lock(shared_.mutex);
  auto q = shared_.conn->query(kRemove);
  if (!q) return unexpected(std::move(q).error());
  q->text(id);
  if (auto r = q->run(); !r) return unexpected(std::move(r).error());
  return shared_.conn->changes() > 0;
}

StoreResult<void> SqliteClientStore::write(const char* sql, const auth::Client& client) {
  auto grant_types = to_json_list(client.grant_types);
  auto scopes = to_json_list(client.scopes);
  auto origins = to_json_list(client.allowed_origins);
  auto permissions = to_json_list(client.permissions);
  auto audiences = to_json_list(client.audiences);
  auto redirects = to_json_list(client.redirect_uris);
  auto logout_redirects = to_json_list(client.post_logout_redirect_uris);
  if (!grant_types || !scopes || !origins || !permissions || !audiences || !redirects ||
      !logout_redirects) {
    return fail(Errc::kInternal, "sqlite: a client list entry is not valid UTF-8");
  }
  std::lock_guard lock(shared_.mutex);
  auto q = shared_.conn->query(sql);
  if (!q) return unexpected(std::move(q).error());
  q->text(client.id)
      .text(client.secret_hash)
      .text(*grant_types)
      .text(*scopes)
      .text(*origins)
      .int64(client.refresh_grace_seconds)
      .int64(client.created_at)
      .text(*permissions)
      .text(*audiences)
      .int64(client.access_ttl_seconds)
      .text(client.previous_secret_hash)
      .int64(client.previous_secret_expires_at)
      .text(client.jwk)
      .text(*redirects)
      .text(*logout_redirects)
      .text(client.jwks_uri);
  return q->run();
}

StoreResult<std::optional<auth::Client>> SqliteClientStore::find(const std::string& id) {
  std::lock_guard lock(shared_.mutex);
  auto q = shared_.conn->query(kFind);
  if (!q) return unexpected(std::move(q).error());
  q->text(id);
  auto clients = read_clients(*q);
  if (!clients) return unexpected(std::move(clients).error());
  if (clients->empty()) return std::optional<auth::Client>();
  return std::optional<auth::Client>(std::move(clients->front()));
}

StoreResult<std::vector<auth::Client>> SqliteClientStore::list() {
  std::lock_guard lock(shared_.mutex);
  auto q = shared_.conn->query(kList);
  if (!q) return unexpected(std::move(q).error());
  return read_clients(*q);
}

}  // namespace authd::store::sqlite
