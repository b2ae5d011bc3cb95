#include <memory>
#include <string>

#include "authd/store/sqlite.h"
#include "store/migration.h"
#include "store/sqlite/stores.h"
#include "store/util.h"

namespace authd::store {
namespace sqlite {
namespace {

constexpr const char* kHasMigrationsTable =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
constexpr const char* kSchemaVersion = "SELECT coalesce(max(version), 0) FROM schema_migrations";
constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version    INTEGER PRIMARY KEY NOT NULL,"
    " name       TEXT    NOT NULL,"
    " applied_at INTEGER NOT NULL) STRICT";
constexpr const char* kRecordMigration =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, unixepoch())";

StoreResult<std::int64_t> single_int(Connection& conn, const char* sql) {
  auto q = conn.query(sql);
  if (!q) return unexpected(std::move(q).error());
  auto row = q->step();
  if (!row) return unexpected(std::move(row).error());
  if (!*row) return fail(Errc::kInternal, "sqlite: query returned no row");
  return q->int64_at(0);
}

StoreResult<int> read_version(Connection& conn) {
  auto has = single_int(conn, kHasMigrationsTable);
  if (!has) return unexpected(std::move(has).error());
  if (*has == 0) return 0;
  auto v = single_int(conn, kSchemaVersion);
  if (!v) return unexpected(std::move(v).error());
  return static_cast<int>(*v);
}

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(std::unique_ptr<Connection> conn)
      : users_(shared_), sessions_(shared_), clients_(shared_), keys_(shared_) {
    shared_.conn = std::move(conn);
  }

  StoreResult<int> migrate() override {
    const auto migrations = sqlite_migrations();
    const int latest = latest_version(migrations);
    std::lock_guard lock(shared_.mutex);
    Connection& conn = *shared_.conn;
    // All pending migrations in one IMMEDIATE transaction: the write lock excludes another
    // process migrating the same file, and SQLite DDL is transactional, so a failure leaves
    // the schema as it was.
    Transaction tx(conn);
    if (auto r = tx.begin(); !r) return unexpected(r.error());
    if (auto r = conn.exec(kCreateMigrationsTable); !r) return unexpected(r.error());
    auto version = read_version(conn);
    if (!version) return unexpected(std::move(version).error());
    if (*version > latest) return fail(Errc::kSchema, schema_mismatch_message(*version, latest));
    for (const Migration& m : migrations) {
      if (m.version <= *version) continue;
      if (auto r = conn.exec(std::string(m.up)); !r) {
        Error e = r.error();
        e.message = "migration " + std::to_string(m.version) + "_" + std::string(m.name) +
                    " failed: " + e.message;
        return unexpected(std::move(e));
      }
      auto q = conn.query(kRecordMigration);
      if (!q) return unexpected(std::move(q).error());
      q->int64(m.version).text(m.name);
      if (auto r = q->run(); !r) return unexpected(r.error());
    }
    if (auto r = tx.commit(); !r) return unexpected(r.error());
    return latest;
  }

  StoreResult<int> schema_version() override {
    std::lock_guard lock(shared_.mutex);
    return read_version(*shared_.conn);
  }

  StoreResult<void> check_schema() override {
    auto version = schema_version();
    if (!version) return unexpected(std::move(version).error());
    const int latest = latest_version(sqlite_migrations());
    if (*version != latest) return fail(Errc::kSchema, schema_mismatch_message(*version, latest));
    return {};
  }

  StoreResult<void> ping() override {
    std::lock_guard lock(shared_.mutex);
    auto one = single_int(*shared_.conn, "SELECT 1");
    if (!one) return unexpected(std::move(one).error());
    return {};
  }

  auth::UserStore& users() override { return users_; }
  auth::SessionStore& sessions() override { return sessions_; }
  auth::ClientStore& clients() override { return clients_; }
  auth::CodeStore& codes() override { return codes_; }
  keys::KeyStore& keys() override { return keys_; }

 private:
  Shared shared_;
  SqliteUserStore users_;
  SqliteSessionStore sessions_;
  SqliteClientStore clients_;
  SqliteCodeStore codes_{shared_};
  SqliteKeyStore keys_;
};

}  // namespace
}  // namespace sqlite

StoreResult<std::unique_ptr<Database>> open_sqlite(const SqliteOptions& options) {
  auto conn = sqlite::Connection::open(options.path, options.busy_timeout_ms);
  if (!conn) return unexpected(std::move(conn).error());
  return std::unique_ptr<Database>(new sqlite::SqliteDatabase(std::move(conn).value()));
}

}  // namespace authd::store
