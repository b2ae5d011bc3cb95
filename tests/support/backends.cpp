#include "support/backends.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>

#include "authd/store/sqlite.h"

namespace authd::testing {

namespace detail {
class RawConnection {
 public:
  virtual ~RawConnection() = default;
  /// "" on success, else the error text.
  virtual std::string exec(const std::string& sql) = 0;
  /// Rows of a query (NULL as ""); nullopt and *error on failure.
  virtual std::optional<Rows> query(const std::string& sql, std::string* error) = 0;
};
}  // namespace detail

namespace {

constexpr int kSqliteBusyTimeoutMs = 10000;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

bool is_url(const std::string& conninfo) {
  return conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://");
}

// A new connection per call: the file is the database, and a handle held open would keep
// SQLite's caches across the statements under test.
class SqliteRaw final : public detail::RawConnection {
 public:
  explicit SqliteRaw(std::string path) : path_(std::move(path)) {}

  std::string exec(const std::string& sql) override {
    std::string error;
    query(sql, &error);
    return error;
  }

  std::optional<Rows> query(const std::string& sql, std::string* error) override {
    sqlite3* db = nullptr;
    if (sqlite3_open(path_.c_str(), &db) != SQLITE_OK) {
      sqlite3_close_v2(db);
      *error = "cannot open " + path_;
      return std::nullopt;
    }
    sqlite3_busy_timeout(db, kSqliteBusyTimeoutMs);
    sqlite3_exec(db, "PRAGMA foreign_keys=ON", nullptr, nullptr, nullptr);
    Rows rows;
    char* message = nullptr;
    const int rc = sqlite3_exec(
        db, sql.c_str(),
        [](void* out, int n, char** values, char**) {
          auto& row = static_cast<Rows*>(out)->emplace_back();
          for (int i = 0; i < n; ++i) row.emplace_back(values[i] != nullptr ? values[i] : "");
          return 0;
        },
        &rows, &message);
    std::optional<Rows> out;
    if (rc == SQLITE_OK) {
      out = std::move(rows);
    } else {
      *error = message != nullptr ? message : "sqlite error";
    }
    sqlite3_free(message);
    sqlite3_close_v2(db);
    return out;
  }

 private:
  std::string path_;
};

struct PgConnDeleter {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};

// One connection for the test's life, its search_path set to the fresh schema.
class PostgresRaw final : public detail::RawConnection {
 public:
  explicit PostgresRaw(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    PQsetNoticeProcessor(
        conn_.get(), [](void*, const char*) {}, nullptr);
  }
  /// "" when connected, else why not.
  std::string connect_error() const {
    return PQstatus(conn_.get()) == CONNECTION_OK ? "" : PQerrorMessage(conn_.get());
  }

  std::string exec(const std::string& sql) override {
    std::string error;
    query(sql, &error);
    return error;
  }

  std::optional<Rows> query(const std::string& sql, std::string* error) override {
    PGresult* r = PQexec(conn_.get(), sql.c_str());
    const ExecStatusType status = PQresultStatus(r);
    std::optional<Rows> out;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      out.emplace();
      for (int i = 0; i < PQntuples(r); ++i) {
        auto& row = out->emplace_back();
        for (int j = 0; j < PQnfields(r); ++j) row.emplace_back(PQgetvalue(r, i, j));
      }
    } else {
      *error = PQresultErrorMessage(r);
    }
    PQclear(r);
    return out;
  }

 private:
  std::unique_ptr<PGconn, PgConnDeleter> conn_;
};

}  // namespace

std::string to_string(Backend b) { return b == Backend::kSqlite ? "Sqlite" : "Postgres"; }
void PrintTo(Backend b, std::ostream* os) { *os << to_string(b); }
std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return to_string(info.param);
}

TestDatabase::TestDatabase(Backend backend, bool migrate) : backend_(backend) {
  if (backend == Backend::kSqlite) {
    location_ = dir_.file("authd.db");
    raw_ = std::make_unique<SqliteRaw>(location_);
  } else if (!create_postgres_schema()) {
    return;
  }
  if (!reopen() || !migrate) return;
  if (auto v = db_->migrate(); !v) {
    error_ = "migrate: " + v.error().message;
    db_.reset();
  }
}

bool TestDatabase::create_postgres_schema() {
  url_ = env("AUTHD_TEST_PG_URL");
  if (url_.empty()) {
    error_ =
        "AUTHD_TEST_PG_URL is not set, so the Postgres tests cannot run. Run them with "
        "scripts/test (or: scripts/services up DIR && . DIR/env) instead of skipping them.";
    return false;
  }
  auto raw = std::make_unique<PostgresRaw>(url_);
  if (auto e = raw->connect_error(); !e.empty()) {
    error_ = "cannot connect to AUTHD_TEST_PG_URL: " + e;
    return false;
  }
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::ostringstream name;
  name << "t_" << std::hex << rng();
  if (auto e = raw->exec("CREATE SCHEMA " + name.str() + "; SET search_path TO " + name.str());
      !e.empty()) {
    error_ = "cannot create the test schema: " + e;
    return false;
  }
  schema_ = name.str();
  raw_ = std::move(raw);
  // A URL takes options as a query parameter; a key=value string as a plain option.
  location_ = is_url(url_) ? url_ + (url_.find('?') == std::string::npos ? "?" : "&") +
                                 "options=-csearch_path%3D" + schema_
                           : url_ + " options='-csearch_path=" + schema_ + "'";
  return true;
}

TestDatabase::~TestDatabase() {
  db_.reset();
  if (schema_.empty()) return;
  if (!env("AUTHD_TEST_KEEP").empty()) {
    std::fprintf(stderr, "AUTHD_TEST_KEEP: kept schema %s\n", schema_.c_str());
    return;
  }
  raw_->exec("DROP SCHEMA " + schema_ + " CASCADE");
}

bool TestDatabase::reopen() {
  db_.reset();
  auto db = open();
  if (!db) {
    error_ = db.error().message;
    return false;
  }
  db_ = std::move(db).value();
  return true;
}

store::StoreResult<DatabasePtr> TestDatabase::open() const {
  if (backend_ == Backend::kSqlite) {
    return store::open_sqlite(store::SqliteOptions{location_, kSqliteBusyTimeoutMs});
  }
  return store::open_postgres(postgres_options());
}

std::span<const store::Migration> TestDatabase::migrations() const {
  return backend_ == Backend::kSqlite ? store::sqlite_migrations() : store::postgres_migrations();
}

std::string TestDatabase::exec(const std::string& sql) { return raw_->exec(sql); }

std::optional<std::int64_t> TestDatabase::query_int(const std::string& sql) {
  std::string error;
  const auto result = raw_->query(sql, &error);
  if (!result || result->empty() || result->front().empty()) return std::nullopt;
  const std::string& cell = result->front().front();
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (ec != std::errc() || end != cell.data() + cell.size()) return std::nullopt;
  return value;
}

Rows TestDatabase::rows(const std::string& sql) {
  std::string error;
  auto result = raw_->query(sql, &error);
  if (!result) {
    ADD_FAILURE() << sql << ": " << error;
    return {};
  }
  return std::move(*result);
}

std::optional<std::int64_t> TestDatabase::count_tables() {
  if (backend_ == Backend::kSqlite) {
    return query_int(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name <> 'schema_migrations'"
        " AND name NOT LIKE 'sqlite_%'");
  }
  return query_int("SELECT count(*) FROM information_schema.tables WHERE table_schema = '" +
                   schema_ + "' AND table_name <> 'schema_migrations'");
}

store::PostgresOptions TestDatabase::postgres_options() const {
  store::PostgresOptions o;
  o.conninfo = location_;
  o.pool_size = 8;
  o.connect_timeout_ms = 5000;
  o.acquire_timeout_ms = 20000;
  o.statement_timeout_ms = 20000;
  o.application_name = "authd_test_" + schema_;
  return o;
}

std::string TestDatabase::param(const std::string& keyword) const {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url_.c_str(), &err);
  if (err != nullptr) PQfreemem(err);
  std::string out;
  for (PQconninfoOption* o = opts; o != nullptr && o->keyword != nullptr; ++o) {
    if (keyword == o->keyword && o->val != nullptr) out = o->val;
  }
  PQconninfoFree(opts);
  return out;
}

std::string TestDatabase::conninfo_for(const std::string& hosts, const std::string& ports,
                                       const std::string& extra) const {
  std::string c = "host=" + hosts + " port=" + ports + " dbname='" + param("dbname") + "' user='" +
                  param("user") + "' options='-csearch_path=" + schema_ + "'";
  if (!extra.empty()) c += " " + extra;
  return c;
}

}  // namespace authd::testing
