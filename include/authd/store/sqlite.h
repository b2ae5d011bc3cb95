#pragma once
// The embedded SQLite backend, for `authd --dev` and single-node installs: one file, no server.
// It passes the same contract tests as the Postgres backend.

#include <memory>
#include <string>

#include "authd/store/database.h"
#include "authd/store/errc.h"

namespace authd::store {

struct SqliteOptions {
  /// Database file, created with mode 0600 if missing (it holds password hashes and sealed
  /// keys). ":memory:" gives a private in-memory database (tests only; no WAL).
  std::string path;
  /// How long a writer waits for another process's write lock before kUnavailable.
  int busy_timeout_ms = 5000;
};

/// Opens (creating if needed) a SQLite database in WAL mode with foreign keys on. Does not
/// migrate: call Database::migrate().
///
/// One connection, guarded by a mutex: SQLite has a single writer anyway, and dev mode does not
/// need parallel reads. Multi-statement writes (session create, rotation, migrations, key
/// rotation) run in BEGIN IMMEDIATE transactions, so another process on the same file is
/// excluded too. Result codes are classified once: UNIQUE/PRIMARY KEY -> kConflict;
/// BUSY/LOCKED, I/O, full disk, read-only, cannot open -> kUnavailable; missing table or
/// column -> kSchema; everything else -> kInternal.
///
/// @return kUnavailable if the file cannot be opened or configured.
/// The Database and its stores are thread-safe; every call blocks.
StoreResult<std::unique_ptr<Database>> open_sqlite(const SqliteOptions& options);

}  // namespace authd::store
