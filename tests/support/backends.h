#pragma once
// Test helper: a fresh database of each backend per test, with an open handle on it and raw
// SQL access for the assertions the store interfaces cannot express (row counts, fake schema
// versions). The contract suite, the service suite and the daemon tests all use it.
//
//   SQLite:   a file in a TempDir.
//   Postgres: a fresh schema t_<random> in the database of AUTHD_TEST_PG_URL (scripts/test
//             sets it; the role must be allowed to CREATE SCHEMA), selected with
//             options=-csearch_path=...; dropped afterwards unless AUTHD_TEST_KEEP is set.
//             Without AUTHD_TEST_PG_URL, ok() is false and error() says how to start the
//             services: Postgres cases fail, they never skip.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "authd/store/database.h"
#include "authd/store/postgres.h"
#include "store/migration.h"
#include "support/process.h"

namespace authd::testing {

enum class Backend { kSqlite, kPostgres };
std::string to_string(Backend b);
void PrintTo(Backend b, std::ostream* os);
/// Test-name suffix for suites parameterised by Backend.
std::string backend_name(const ::testing::TestParamInfo<Backend>& info);

using DatabasePtr = std::unique_ptr<store::Database>;
using Rows = std::vector<std::vector<std::string>>;

namespace detail {
class RawConnection;  // raw SQL access of one backend, defined in backends.cpp
}  // namespace detail
class TestDatabase {
 public:
  /// Creates a fresh database and opens db() on it, migrated unless `migrate` is false;
  /// ok() says whether it worked, error() why not.
  explicit TestDatabase(Backend backend, bool migrate = true);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  bool ok() const { return db_ != nullptr; }
  const std::string& error() const { return error_; }
  Backend backend() const { return backend_; }
  store::Database& db() { return *db_; }
  /// Replaces db() with a new handle (no cached statements); false and error() on failure.
  bool reopen();
  /// Opens another handle on this database (another replica: its own connections).
  store::StoreResult<DatabasePtr> open() const;
  /// A conninfo for the fresh schema (Postgres) or the file path (SQLite), for daemons.
  const std::string& location() const { return location_; }
  std::span<const store::Migration> migrations() const;

  /// Runs SQL through a separate raw connection; "" on success, else the error text.
  std::string exec(const std::string& sql);
  /// The first column of the first row as an integer; nullopt on error, no row or NULL.
  std::optional<std::int64_t> query_int(const std::string& sql);
  /// Rows of a query as text (NULL as ""); empty on error (and a test failure is added).
  Rows rows(const std::string& sql);
  /// Tables in the database other than schema_migrations; nullopt on error.
  std::optional<std::int64_t> count_tables();

  // Postgres only.
  const std::string& schema() const { return schema_; }
  /// Options for a Database on this schema: location() as conninfo, a test pool and timeouts.
  store::PostgresOptions postgres_options() const;
  /// A conninfo value from AUTHD_TEST_PG_URL ("host", "port", "user", "password", "dbname").
  std::string param(const std::string& keyword) const;
  /// key=value conninfo with these hosts/ports and the test schema, user and database.
  std::string conninfo_for(const std::string& hosts, const std::string& ports,
                           const std::string& extra = "") const;

 private:
  bool create_postgres_schema();

  Backend backend_;
  TempDir dir_;
  std::string url_;     // AUTHD_TEST_PG_URL
  std::string schema_;  // Postgres: the fresh schema, "" until created
  std::string location_;
  std::string error_;
  std::unique_ptr<detail::RawConnection> raw_;
  DatabasePtr db_;  // declared last: closed before the schema is dropped
};

}  // namespace authd::testing
