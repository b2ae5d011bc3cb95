#pragma once
// Contract-test harness: a fresh, empty database of each backend per test, and raw SQL access
// to it for the assertions the interfaces cannot express (row counts, fake schema versions).
//
//   SQLite:   a file in a TempDir.
//   Postgres: a fresh schema t_<random> in the database of AUTHD_TEST_PG_URL (the role must be
//             allowed to CREATE SCHEMA), selected with options=-csearch_path=...; dropped after
//             the test unless AUTHD_TEST_KEEP is set. Without AUTHD_TEST_PG_URL the Postgres
//             cases FAIL (never skip) and say how to start the services.

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "authd/auth/session_store.h"
#include "authd/store/database.h"
#include "authd/store/postgres.h"
#include "store/migration.h"
#include "support/process.h"

namespace authd::store {
std::ostream& operator<<(std::ostream& os, Errc e);
std::ostream& operator<<(std::ostream& os, const Error& e);
}  // namespace authd::store
namespace authd::auth {
std::ostream& operator<<(std::ostream& os, RotateOutcome o);
}  // namespace authd::auth

namespace authd::contract {

using DatabasePtr = std::unique_ptr<store::Database>;

enum class Backend { kSqlite, kPostgres };
std::string backend_name(const ::testing::TestParamInfo<Backend>& info);
void PrintTo(Backend backend, std::ostream* os);

/// One empty database of one backend.
class TestDatabase {
 public:
  virtual ~TestDatabase() = default;
  /// Opens a new Database handle on this database (another replica, own connections).
  virtual store::StoreResult<DatabasePtr> open() = 0;
  /// Runs SQL through a separate raw connection; "" on success, else the error text.
  virtual std::string exec(const std::string& sql) = 0;
  /// The first column of the first row as an integer; nullopt on error or no row.
  virtual std::optional<std::int64_t> query_int(const std::string& sql) = 0;
  /// Tables in the database other than schema_migrations; nullopt on error.
  virtual std::optional<std::int64_t> count_tables() = 0;
  virtual std::span<const store::Migration> migrations() const = 0;
};

struct PgConnDeleter {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
using PgConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;

/// The Postgres test database: a fresh schema, plus what the Postgres-only tests need.
class PgTestDatabase final : public TestDatabase {
 public:
  /// nullptr (and *error set) when AUTHD_TEST_PG_URL is unset or unusable.
  static std::unique_ptr<PgTestDatabase> create(std::string* error);
  ~PgTestDatabase() override;

  store::StoreResult<DatabasePtr> open() override { return store::open_postgres(options()); }
  std::string exec(const std::string& sql) override;
  std::optional<std::int64_t> query_int(const std::string& sql) override;
  std::optional<std::int64_t> count_tables() override;
  std::span<const store::Migration> migrations() const override {
    return store::postgres_migrations();
  }

  /// Rows of a query as text (NULL as ""); empty on error (and a test failure is added).
  std::vector<std::vector<std::string>> rows(const std::string& sql);

  /// Options for a Database on this schema: conninfo with the search_path, a test pool.
  store::PostgresOptions options() const;
  const std::string& schema() const { return schema_; }
  /// A conninfo value from AUTHD_TEST_PG_URL ("host", "port", "user", "password", "dbname").
  std::string param(const std::string& keyword) const;
  /// key=value conninfo with these hosts/ports and the test schema, user and database.
  std::string conninfo_for(const std::string& hosts, const std::string& ports,
                           const std::string& extra = "") const;

 private:
  PgTestDatabase() = default;
  std::string url_;
  std::string schema_;
  PgConnPtr admin_;  // the test role, search_path set to the schema
};

/// Creates the test database for a backend; nullptr and *error on failure.
std::unique_ptr<TestDatabase> make_test_database(Backend backend, std::string* error);

/// Base fixture of every contract suite: a fresh database and an open, unmigrated handle.
class ContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  store::Database& db() { return *db_; }
  /// Migrates db(); fails the test on error.
  void migrate();

  std::unique_ptr<TestDatabase> test_db_;
  DatabasePtr db_;  // declared after test_db_: closed before the schema is dropped
};

/// A fresh random v4 UUID.
std::string new_uuid();
/// 32 random bytes, like a keyed BLAKE2b token hash (contains NULs now and then).
std::string new_hash();
/// Hex of raw bytes, lower-case.
std::string to_hex(const std::string& bytes);

inline constexpr std::int64_t kT0 = 1'700'000'000;

/// Instantiates a contract suite for every backend.
#define AUTHD_INSTANTIATE_CONTRACT(suite)                                            \
  INSTANTIATE_TEST_SUITE_P(Backends, suite,                                          \
                           ::testing::Values(::authd::contract::Backend::kSqlite,    \
                                             ::authd::contract::Backend::kPostgres), \
                           ::authd::contract::backend_name)

}  // namespace authd::contract
