#pragma once
// Test helper: fresh databases of each backend. SQLite in a temp dir; Postgres in a fresh
// schema of the database named by AUTHD_TEST_PG_URL (scripts/test sets it), dropped afterwards
// unless AUTHD_TEST_KEEP is set.

#include <memory>
#include <string>

#include "authd/store/database.h"
#include "support/process.h"

namespace authd::testing {

enum class Backend { kSqlite, kPostgres };
std::string to_string(Backend b);

class TestDatabase {
 public:
  /// Opens and migrates a fresh database; ok() says whether it worked, error() why not.
  explicit TestDatabase(Backend backend, bool migrate = true);
  ~TestDatabase();
  bool ok() const { return db_ != nullptr; }
  const std::string& error() const { return error_; }
  store::Database& db() { return *db_; }
  /// A conninfo for the same fresh schema (Postgres) or file path (SQLite), for daemons.
  const std::string& location() const { return location_; }

 private:
  Backend backend_;
  TempDir dir_;
  std::string schema_;
  std::string location_;
  std::string error_;
  std::unique_ptr<store::Database> db_;
};

}  // namespace authd::testing
