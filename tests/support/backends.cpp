#include "support/backends.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <random>

#include "authd/store/postgres.h"
#include "authd/store/sqlite.h"

namespace authd::testing {
namespace {

bool run_sql(const std::string& conninfo, const std::string& sql, std::string& error) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    error = PQerrorMessage(c);
    PQfinish(c);
    return false;
  }
  PGresult* r = PQexec(c, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok) error = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  return ok;
}

std::string pg_url() {
  const char* url = std::getenv("AUTHD_TEST_PG_URL");
  return url ? url : "";
}

}  // namespace

std::string to_string(Backend b) { return b == Backend::kSqlite ? "Sqlite" : "Postgres"; }

TestDatabase::TestDatabase(Backend backend, bool migrate) : backend_(backend) {
  if (backend == Backend::kSqlite) {
    location_ = dir_.file("authd.db");
    auto db = store::open_sqlite(store::SqliteOptions{location_, 5000});
    if (!db) {
      error_ = db.error().message;
      return;
    }
    db_ = std::move(*db);
  } else {
    const auto url = pg_url();
    if (url.empty()) {
      error_ = "AUTHD_TEST_PG_URL is not set: run the tests with scripts/test";
      return;
    }
    std::random_device rd;
    schema_ = "t_" + std::to_string(rd()) + std::to_string(rd() % 100000);
    if (!run_sql(url, "CREATE SCHEMA " + schema_, error_)) return;
    // A URL takes options as a query parameter; key=value strings as a plain option.
    const bool is_url = url.rfind("postgres", 0) == 0;
    location_ = is_url ? url + (url.find('?') == std::string::npos ? "?" : "&") +
                             "options=-csearch_path%3D" + schema_
                       : url + " options='-csearch_path=" + schema_ + "'";
    store::PostgresOptions o;
    o.conninfo = location_;
    o.pool_size = 8;
    o.application_name = "authd-test";
    auto db = store::open_postgres(o);
    if (!db) {
      error_ = db.error().message;
      return;
    }
    db_ = std::move(*db);
  }
  if (!migrate) return;
  if (auto v = db_->migrate(); !v) {
    error_ = "migrate: " + v.error().message;
    db_.reset();
  }
}

TestDatabase::~TestDatabase() {
  db_.reset();
  if (backend_ == Backend::kPostgres && !schema_.empty() && !std::getenv("AUTHD_TEST_KEEP")) {
    std::string ignored;
    run_sql(pg_url(), "DROP SCHEMA " + schema_ + " CASCADE", ignored);
  }
}

}  // namespace authd::testing
