#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "authd/store/postgres.h"
#include "store/migration.h"
#include "store/postgres/stores.h"
#include "store/postgres/transaction.h"
#include "store/util.h"

namespace authd::store {
namespace postgres {
namespace {

// A primary that can write: after a failover, a connection that still reaches the demoted
// leader (now a standby) must not count as the store being back.
constexpr Statement kPing{"authd_ping_writable", "SELECT NOT pg_is_in_recovery()"};
constexpr Statement kHasMigrationsTable{"authd_has_schema_migrations",
                                        "SELECT to_regclass('schema_migrations') IS NOT NULL"};
constexpr Statement kSchemaVersion{"authd_schema_version",
                                   "SELECT coalesce(max(version), 0) FROM schema_migrations"};

// Run by migrate() only, inside its transaction, so left unprepared.
constexpr const char* kMigrateLock =
    "SELECT pg_advisory_xact_lock($1::integer, hashtext(coalesce(current_schema(), '')))";
constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version    integer PRIMARY KEY,"
    " name       text    NOT NULL,"
    " applied_at bigint  NOT NULL)";
constexpr const char* kRecordMigration =
    "INSERT INTO schema_migrations (version, name, applied_at)"
    " VALUES ($1::integer, $2::text, extract(epoch FROM now())::bigint)";

StoreResult<int> read_version(Connection& conn) {
  auto has = conn.exec(kHasMigrationsTable);
  if (!has) return unexpected(std::move(has).error());
  Row has_row(has->get(), 0);
  const bool exists = has_row.boolean(0);
  if (!has_row.ok()) return fail(Errc::kInternal, "postgres: malformed to_regclass row");
  if (!exists) return 0;
  auto v = conn.exec(kSchemaVersion);
  if (!v) return unexpected(std::move(v).error());
  Row row(v->get(), 0);
  const std::int64_t version = row.int64(0);
  if (!row.ok()) return fail(Errc::kInternal, "postgres: malformed schema_migrations version");
  return static_cast<int>(version);
}

// The version as of the migrate lock; uses unprepared statements because schema_migrations may
// have just been created in this transaction.
StoreResult<int> read_version_unprepared(Connection& conn) {
  auto v = conn.exec_once("SELECT coalesce(max(version), 0) FROM schema_migrations");
  if (!v) return unexpected(std::move(v).error());
  Row row(v->get(), 0);
  const std::int64_t version = row.int64(0);
  if (!row.ok()) return fail(Errc::kInternal, "postgres: malformed schema_migrations version");
  return static_cast<int>(version);
}

// Lifts a connection's client deadline for the life of this object.
class ClientDeadlineLifted {
 public:
  explicit ClientDeadlineLifted(Connection& conn) : conn_(conn), saved_(conn.deadline()) {
    conn_.set_deadline(std::chrono::milliseconds(0));
  }
  ~ClientDeadlineLifted() { conn_.set_deadline(saved_); }
  ClientDeadlineLifted(const ClientDeadlineLifted&) = delete;
  ClientDeadlineLifted& operator=(const ClientDeadlineLifted&) = delete;

 private:
  Connection& conn_;
  std::chrono::milliseconds saved_;
};

class PgDatabase final : public Database {
 public:
  PgDatabase(ConnectSettings settings, const PostgresOptions& options)
      : pool_(std::move(settings), options.pool_size,
              std::chrono::milliseconds(options.acquire_timeout_ms)),
        users_(pool_),
        sessions_(pool_),
        clients_(pool_),
        keys_(pool_),
        acquire_timeout_(options.acquire_timeout_ms) {}

  void attach_event_loops(const std::vector<boost::asio::io_context*>& loops,
                          std::function<void(std::function<void()>)> offload) override {
    loops_ = std::make_unique<EventLoops>(pool_, loops, acquire_timeout_, std::move(offload));
    sessions_.loops = loops_.get();
  }
  void detach_event_loops() override {
    if (!loops_) return;
    sessions_.loops = nullptr;
    loops_->abandon();
  }

  void warm_up(std::chrono::milliseconds delay) override {
    if (warmer_.joinable()) return;
    // Every connection is primed before its first use from now on (the schema is migrated by
    // now): a backend's first rotation otherwise compiles the rotation functions and loads
    // their tables' metadata first, tens of milliseconds under load that the refreshes batched
    // behind it wait for.
    pool_.set_primer(&PgSessionStore::prime);
    // A thread of its own, not a worker: its connects block, and stopping asks it to finish
    // after the one in progress (bounded by connect_timeout).
    warmer_ = std::jthread([this, delay](const std::stop_token& stop) {
      std::mutex mutex;
      std::unique_lock lock(mutex);
      // Nothing notifies: this waits out the delay, or until a stop is requested.
      std::condition_variable_any().wait_for(lock, stop, delay, [] { return false; });
      pool_.fill([&] { return stop.stop_requested(); });
    });
  }

  StoreResult<int> migrate() override {
    const auto migrations = postgres_migrations();
    const int latest = latest_version(migrations);
    auto lease = pool_.acquire();
    if (!lease) return unexpected(std::move(lease).error());
    Connection& conn = **lease;
    // Like statement_timeout below, the client deadline is lifted while migrating (a migration,
    // or the wait for another replica's, may take long) and restored before the connection
    // goes back to the pool.
    const ClientDeadlineLifted lifted(conn);
    // One transaction per migration, each under the advisory lock: replicas started together
    // queue here, and each re-reads the version once it holds the lock, so every migration is
    // applied exactly once and a failed one leaves the earlier ones in place.
    while (true) {
      Transaction tx(conn);
      if (auto r = tx.begin(); !r) return unexpected(r.error());
      // A migration may legitimately run longer than the per-statement limit of the pool.
      if (auto r = conn.exec_script("SET LOCAL statement_timeout = 0"); !r) {
        return unexpected(std::move(r).error());
      }
      Params lock;
      lock.int64(kMigrateLockClass);
      if (auto r = conn.exec_once(kMigrateLock, lock); !r) return unexpected(std::move(r).error());
      if (auto r = conn.exec_once(kCreateMigrationsTable); !r) {
        return unexpected(std::move(r).error());
      }
      auto version = read_version_unprepared(conn);
      if (!version) return unexpected(std::move(version).error());
      if (*version > latest) return fail(Errc::kSchema, schema_mismatch_message(*version, latest));
      if (*version == latest) {
        if (auto r = tx.commit(); !r) return unexpected(r.error());
        return latest;
      }
      const Migration& next = migrations[static_cast<std::size_t>(*version)];
      if (auto r = conn.exec_script(std::string(next.up)); !r) {
        Error e = std::move(r).error();
        e.message = "migration " + std::to_string(next.version) + "_" + std::string(next.name) +
                    " failed: " + e.message;
        return unexpected(std::move(e));
      }
      Params record;
      record.int64(next.version).text(std::string(next.name));
      if (auto r = conn.exec_once(kRecordMigration, record); !r) {
        return unexpected(std::move(r).error());
      }
      if (auto r = tx.commit(); !r) return unexpected(r.error());
    }
  }

  StoreResult<int> schema_version() override {
    auto lease = pool_.acquire();
    if (!lease) return unexpected(std::move(lease).error());
    return read_version(**lease);
  }

  StoreResult<void> check_schema() override {
    auto version = schema_version();
    if (!version) return unexpected(std::move(version).error());
    const int latest = latest_version(postgres_migrations());
    if (*version != latest) return fail(Errc::kSchema, schema_mismatch_message(*version, latest));
    return {};
  }

  StoreResult<void> ping() override {
    auto r = run(pool_, kPing, Params{}, /*retry_safe=*/true);
    if (!r) return unexpected(std::move(r).error());
    Row row(r->get(), 0);
    if (!row.boolean(0)) return fail(Errc::kUnavailable, "postgres: connected to a standby");
    return {};
  }

  auth::UserStore& users() override { return users_; }
  auth::SessionStore& sessions() override { return sessions_; }
  auth::ClientStore& clients() override { return clients_; }
  auth::CodeStore& codes() override { return codes_; }
  keys::KeyStore& keys() override { return keys_; }

 private:
  Pool pool_;
  PgUserStore users_;
  PgSessionStore sessions_;
  PgClientStore clients_;
  PgCodeStore codes_{pool_};
  PgKeyStore keys_;
  std::chrono::milliseconds acquire_timeout_;
  std::unique_ptr<EventLoops> loops_;  // after pool_: its slots hold leases
  std::jthread warmer_;                // last: stopped and joined before the pool goes
};

struct ConninfoOptionsDeleter {
  void operator()(PQconninfoOption* o) const noexcept { PQconninfoFree(o); }
};

}  // namespace
}  // namespace postgres

StoreResult<std::unique_ptr<Database>> open_postgres(const PostgresOptions& options) {
  using postgres::ConnectSettings;
  if (options.pool_size == 0)
    return fail(Errc::kInternal, "postgres: pool_size must be at least 1");

  // Parsed here only to reject a malformed string early and to read its `options`. libpq's
  // parse error is not passed on: it can quote a fragment of the string, password included.
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, postgres::ConninfoOptionsDeleter> parsed(
      PQconninfoParse(options.conninfo.c_str(), &error));
  if (error != nullptr) PQfreemem(error);
  if (!parsed) {
    return fail(Errc::kInternal, "postgres: conninfo is not a valid libpq connection string");
  }
  std::string server_options;
  for (const PQconninfoOption* o = parsed.get(); o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "options" && o->val != nullptr) server_options = o->val;
  }

  ConnectSettings s;
  auto add = [&s](std::string keyword, std::string value) {
    s.keywords.push_back(std::move(keyword));
    s.values.push_back(std::move(value));
  };
  // Defaults that the conninfo may override (libpq keeps the last value of a keyword). TCP
  // keepalives and a user timeout notice a primary that vanished without closing its sockets
  // (power loss, partition) in seconds instead of the kernel's many minutes.
  add("keepalives", "1");
  add("keepalives_idle", "30");
  add("keepalives_interval", "10");
  add("keepalives_count", "3");
  add("tcp_user_timeout", "10000");
  add("dbname", options.conninfo);
  // Explicit options override the conninfo.
  if (!options.password.empty()) add("password", options.password);
  if (!options.application_name.empty()) add("application_name", options.application_name);
  if (options.connect_timeout_ms > 0) {
    add("connect_timeout", std::to_string((options.connect_timeout_ms + 999) / 1000));
  }
  if (options.statement_timeout_ms > 0) {
    // Appended to the conninfo's own server options (e.g. a search_path) rather than replacing
    // them; set at connection start, so it costs no extra round trip.
    std::string merged = server_options;
    if (!merged.empty()) merged += ' ';
    merged += "-c statement_timeout=" + std::to_string(options.statement_timeout_ms);
    add("options", merged);
  }
  if (options.client_deadline_ms > 0) {
    s.deadline = std::chrono::milliseconds(options.client_deadline_ms);
  } else if (options.client_deadline_ms < 0 && options.statement_timeout_ms > 0) {
    s.deadline = std::chrono::milliseconds(options.statement_timeout_ms +
                                           PostgresOptions::kClientDeadlineMarginMs);
  }
  return std::unique_ptr<Database>(new postgres::PgDatabase(std::move(s), options));
}

}  // namespace authd::store
