#include "store/sqlite/connection.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

namespace authd::store::sqlite {

Error classify(int rc, sqlite3* db, std::string_view what) {
  std::string message = "sqlite " + std::string(what) + ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  Errc code = Errc::kInternal;
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        code = Errc::kConflict;
      }
      break;
    case SQLITE_BUSY:  // another process held the write lock past busy_timeout
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_NOMEM:
      code = Errc::kUnavailable;
      break;
    case SQLITE_ERROR:
      // Plain SQLITE_ERROR covers SQL errors; the missing-object ones mean an unmigrated or
      // foreign schema.
      if (db != nullptr) {
        const std::string_view msg = sqlite3_errmsg(db);
        if (msg.starts_with("no such table") || msg.starts_with("no such column")) {
          code = Errc::kSchema;
        }
      }
      break;
    default:
      break;
  }
  return Error{code, std::move(message)};
}

// --- Query ---

Query::~Query() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Query& Query::text(std::string_view value) {
  note(sqlite3_bind_text64(stmt_, next_++, value.data(), value.size(), SQLITE_TRANSIENT,
                           SQLITE_UTF8));
  return *this;
}

Query& Query::int64(std::int64_t value) {
  note(sqlite3_bind_int64(stmt_, next_++, value));
  return *this;
}

Query& Query::blob(std::string_view value) {
  // A zero-length blob must still be a blob, not NULL: zeroblob(0) guarantees that.
  if (value.empty()) {
    note(sqlite3_bind_zeroblob(stmt_, next_++, 0));
  } else {
    note(sqlite3_bind_blob64(stmt_, next_++, value.data(), value.size(), SQLITE_TRANSIENT));
  }
  return *this;
}

Query& Query::null() {
  note(sqlite3_bind_null(stmt_, next_++));
  return *this;
}

StoreResult<bool> Query::step() {
  if (bind_rc_ != SQLITE_OK) return unexpected(classify(bind_rc_, db_, "bind"));
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return unexpected(classify(sqlite3_extended_errcode(db_), db_, "step"));
}

StoreResult<void> Query::run() {
  while (true) {
    auto r = step();
    if (!r) return unexpected(std::move(r).error());
    if (!*r) return {};
  }
}

std::string Query::text_at(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  const int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string() : std::string(p, static_cast<std::size_t>(n));
}

std::string Query::blob_at(int col) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  const int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string() : std::string(p, static_cast<std::size_t>(n));
}

std::optional<std::int64_t> Query::optional_int64_at(int col) const {
  if (is_null_at(col)) return std::nullopt;
  return int64_at(col);
}

// --- Connection ---

StoreResult<std::unique_ptr<Connection>> Connection::open(const std::string& path,
                                                          int busy_timeout_ms) {
  if (path.empty()) return fail(Errc::kInternal, "sqlite: no database path");
  const bool in_memory = path == ":memory:";
  if (!in_memory) {
    // The file holds password hashes and sealed keys: create it private. SQLite gives its -wal
    // and -shm files the database file's mode.
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return fail(Errc::kUnavailable, "sqlite: cannot open " + path + ": " + std::strerror(errno));
    }
    ::close(fd);
  }
  sqlite3* raw = nullptr;
  // NOMUTEX: the backend serialises every use of the connection with its own mutex.
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) return unexpected(classify(rc, db.get(), "open " + path));
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  std::unique_ptr<Connection> conn(new Connection(std::move(db), busy_timeout_ms));
  // WAL lets readers in other processes (sqlite3 CLI, backups) run during writes; NORMAL
  // synchronous is durable across application crashes in WAL mode, which is what dev mode
  // needs.
  if (!in_memory) {
    auto wal = conn->query("PRAGMA journal_mode=WAL");
    if (!wal) return unexpected(std::move(wal).error());
    auto row = wal->step();
    if (!row) return unexpected(std::move(row).error());
    if (!*row || wal->text_at(0) != "wal") {
      return fail(Errc::kUnavailable, "sqlite: cannot switch " + path + " to WAL mode");
    }
  }
  if (auto r = conn->exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;"); !r) {
    return unexpected(r.error());
  }
  return conn;
}

StoreResult<Query> Connection::query(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    StmtPtr stmt(raw);
    if (rc != SQLITE_OK)
      return unexpected(classify(sqlite3_extended_errcode(db_.get()), db_.get(), "prepare"));
    it = cache_.emplace(sql, std::move(stmt)).first;
  }
  return Query(db_.get(), it->second.get());
}

StoreResult<void> Connection::exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &err);
  if (err != nullptr) sqlite3_free(err);  // the same text is available from sqlite3_errmsg
  if (rc != SQLITE_OK)
    return unexpected(classify(sqlite3_extended_errcode(db_.get()), db_.get(), "exec"));
  return {};
}

// --- Transaction ---

Transaction::~Transaction() {
  if (open_) {
    // Fails only if SQLite already rolled back (e.g. after SQLITE_FULL); nothing left to undo.
    (void)conn_.exec("ROLLBACK");
  }
}

StoreResult<void> Transaction::begin() {
  if (auto r = conn_.exec("BEGIN IMMEDIATE"); !r) return r;
  open_ = true;
  return {};
}

StoreResult<void> Transaction::commit() {
  auto r = conn_.exec("COMMIT");
  // A failed COMMIT (SQLITE_BUSY) leaves the transaction open; the destructor rolls it back.
  if (r) open_ = false;
  return r;
}

}  // namespace authd::store::sqlite
