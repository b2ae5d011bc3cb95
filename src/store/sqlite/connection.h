#pragma once
// sqlite3 handles with RAII, a statement cache, error classification and a transaction guard.
// Private to the SQLite backend.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "authd/store/errc.h"

namespace authd::store::sqlite {

struct DbDeleter {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbDeleter>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

/// Maps a SQLite (extended) result code to an Errc. The one place that knows SQLite codes.
Error classify(int rc, sqlite3* db, std::string_view what);

/// One execution of a cached statement: bind, step, read columns. Resets the statement when
/// destroyed so the cache can hand it out again. Bind failures are reported by step().
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Query(Query&& other) noexcept
      : db_(other.db_),
        stmt_(std::exchange(other.stmt_, nullptr)),
        next_(other.next_),
        bind_rc_(other.bind_rc_) {}
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query();

  /// Binds the next parameter (1, 2, 3, ... in call order).
  Query& text(std::string_view value);
  Query& int64(std::int64_t value);
  Query& blob(std::string_view value);
  Query& null();

  /// Advances: true with a row, false when done; kConflict/kUnavailable/... on failure.
  StoreResult<bool> step();
  /// Runs a statement that returns no rows we need.
  StoreResult<void> run();

  /// Column readers for the current row (0-based).
  bool is_null_at(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text_at(int col) const;
  std::string blob_at(int col) const;
  std::int64_t int64_at(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::optional<std::int64_t> optional_int64_at(int col) const;

 private:
  void note(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int next_ = 1;
  int bind_rc_ = SQLITE_OK;
};

class Connection {
 public:
  /// Opens `path` (creating it with mode 0600) in WAL mode with foreign keys on.
  static StoreResult<std::unique_ptr<Connection>> open(const std::string& path,
                                                       int busy_timeout_ms);

  /// A cached prepared statement for `sql` (prepared on first use).
  StoreResult<Query> query(const char* sql);
  /// Executes SQL text, possibly several statements (BEGIN, migrations).
  StoreResult<void> exec(const std::string& sql);
  /// Rows changed by the last INSERT/UPDATE/DELETE (not counting cascades).
  std::int64_t changes() const { return sqlite3_changes64(db_.get()); }
  void set_busy_timeout(int ms) { sqlite3_busy_timeout(db_.get(), ms); }
  int busy_timeout() const { return busy_timeout_ms_; }

 private:
  Connection(DbPtr db, int busy_timeout_ms)
      : db_(std::move(db)), busy_timeout_ms_(busy_timeout_ms) {}
  DbPtr db_;
  int busy_timeout_ms_;
  std::unordered_map<std::string, StmtPtr> cache_;
};

/// BEGIN IMMEDIATE ... COMMIT, rolled back unless committed. IMMEDIATE takes the write lock up
/// front, so a transaction that reads then writes cannot be overtaken by another process.
class Transaction {
 public:
  explicit Transaction(Connection& conn) : conn_(conn) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  StoreResult<void> begin();
  StoreResult<void> commit();

 private:
  Connection& conn_;
  bool open_ = false;
};

}  // namespace authd::store::sqlite
