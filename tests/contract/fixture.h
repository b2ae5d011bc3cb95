#pragma once
// Contract-test fixture: every suite runs once per backend, on a fresh, empty database
// (support/backends.h) with an open, unmigrated handle; plus the printers and value makers
// the suites share.

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

#include "authd/auth/session_store.h"
#include "authd/store/database.h"
#include "support/backends.h"
#include "support/hex.h"

namespace authd::store {
std::ostream& operator<<(std::ostream& os, Errc e);
std::ostream& operator<<(std::ostream& os, const Error& e);
}  // namespace authd::store
namespace authd::auth {
std::ostream& operator<<(std::ostream& os, RotateOutcome o);
}  // namespace authd::auth

namespace authd::contract {

using testing::Backend;
using testing::DatabasePtr;
using testing::TestDatabase;

struct PgConnDeleter {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
using PgConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;

/// Base fixture of every contract suite: a fresh database and an open, unmigrated handle.
class ContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;
  void TearDown() override { test_db_.reset(); }

  store::Database& db() { return test_db_->db(); }
  /// Migrates db(); fails the test on error.
  void migrate();

  std::unique_ptr<TestDatabase> test_db_;
};

/// A fresh random v4 UUID.
std::string new_uuid();
/// 32 random bytes, like a keyed BLAKE2b token hash (contains NULs now and then).
std::string new_hash();
using testing::to_hex;

inline constexpr std::int64_t kT0 = 1'700'000'000;

/// Instantiates a contract suite for every backend.
#define AUTHD_INSTANTIATE_CONTRACT(suite)                                                          \
  INSTANTIATE_TEST_SUITE_P(                                                                        \
      Backends, suite,                                                                             \
      ::testing::Values(::authd::testing::Backend::kSqlite, ::authd::testing::Backend::kPostgres), \
      ::authd::testing::backend_name)

}  // namespace authd::contract
