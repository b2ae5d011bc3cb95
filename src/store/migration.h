#pragma once
// Schema migrations embedded in the binary at build time (see embed_migrations.cmake), so a
// deployed authd needs no SQL files on disk. Private to src/store and its tests.

#include <span>
#include <string_view>

namespace authd::store {

/// One versioned schema change. Versions run 1, 2, 3, ... without gaps; `up` is applied by
/// Database::migrate(), `down` is kept for operators and for the test that reverts everything.
/// Scripts must not contain BEGIN/COMMIT: migrate() runs each inside its own transaction, under
/// its lock.
struct Migration {
  int version;
  std::string_view name;
  std::string_view up;    ///< SQL script, possibly several statements
  std::string_view down;  ///< reverts `up`
};

/// Every Postgres migration, in version order (defined in authd_store_postgres).
std::span<const Migration> postgres_migrations();
/// Every SQLite migration, in version order (defined in authd_store_sqlite).
std::span<const Migration> sqlite_migrations();

/// The version a fully migrated database of this build reports.
inline int latest_version(std::span<const Migration> migrations) {
  return migrations.empty() ? 0 : migrations.back().version;
}

}  // namespace authd::store
