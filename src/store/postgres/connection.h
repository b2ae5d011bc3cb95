#pragma once
// libpq handles with RAII, statement parameters, error classification, and one connection
// that prepares its statements lazily. Private to the Postgres backend.

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "authd/store/errc.h"

namespace authd::store::postgres {

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
struct ConnDeleter {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;
using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;

/// A statement prepared once per connection under `name` (names are unique per backend).
struct Statement {
  const char* name;
  const char* sql;
};

/// Statements sent to a server by this process so far (each PQsend* call is one
/// round trip). Lets a test prove that a rotation costs one round trip on a warm connection.
std::uint64_t round_trips();

/// Maps a SQLSTATE to an Errc. The one place that knows Postgres error codes.
Errc classify_sqlstate(std::string_view sqlstate);

/// Parameters for one statement. Integers and text go in text format; bytes in binary format,
/// so hashes and sealed keys are sent as they are, with no escaping.
class Params {
 public:
  Params& text(std::string value);
  Params& int64(std::int64_t value);
  Params& boolean(bool value);
  Params& bytes(std::string value);
  /// A text[] value, as an array literal.
  Params& text_array(const std::vector<std::string>& value);
  /// A bytea[] value, in binary format (no escaping), as are int64_array's bigint[].
  Params& bytes_array(const std::vector<std::string>& value);
  Params& int64_array(const std::vector<std::int64_t>& value);
  Params& null();

  int size() const { return static_cast<int>(values_.size()); }
  /// Parameter `i` as sent: raw bytes for bytes(), text for the others.
  const std::string& value(int i) const { return values_[static_cast<std::size_t>(i)]; }
  /// Pointer arrays for libpq; valid until the next change to this object.
  const char* const* values() const;
  const int* lengths() const;
  const int* formats() const { return formats_.data(); }

 private:
  std::vector<std::string> values_;
  std::vector<bool> is_null_;
  std::vector<int> formats_;
  mutable std::vector<const char*> pointers_;
  mutable std::vector<int> lengths_;
};

/// Reads the columns of one result row. Parsing failures are remembered instead of thrown;
/// check ok() after reading a row (a failure means a corrupt row or a schema mismatch).
class Row {
 public:
  Row(const PGresult* result, int row) : result_(result), row_(row) {}
  bool is_null(int col) const { return PQgetisnull(result_, row_, col) != 0; }
  std::string text(int col) const;
  std::int64_t int64(int col);
  std::optional<std::int64_t> optional_int64(int col);
  bool boolean(int col);
  /// A bytea column (text result format, hex-escaped by the server).
  std::string bytes(int col);
  /// A text[] column.
  std::vector<std::string> text_array(int col);
  bool ok() const { return ok_; }

 private:
  const PGresult* result_;
  int row_;
  bool ok_ = true;
};

/// Settings every connection is opened with.
struct ConnectSettings {
  std::vector<std::string> keywords;
  std::vector<std::string> values;
  /// The client deadline of every statement on the connection (see Connection); zero: none.
  std::chrono::milliseconds deadline{0};
};

/// Sends a cancel request for the statement running on `conn` from a short-lived background
/// thread, never blocking the caller: PQcancel opens a new connection to the server and waits
/// for it to close, which a stopped or cut-off server never does (then the thread waits until
/// the server resumes or TCP gives up). At most a few are in flight at once, process-wide;
/// beyond that the cancel is skipped. Returns whether one was started.
bool cancel_in_background(PGconn* conn);

/// Cancel threads started so far (a test proves that a deadline sends one).
std::uint64_t cancels_started();

/// One server connection. Not thread-safe: the pool hands it to one caller at a time.
///
/// Every statement is sent with PQsend* on a non-blocking socket and waited for with a client
/// deadline (ConnectSettings::deadline), by poll() in the blocking calls and by the event loop
/// in the non-blocking ones. statement_timeout is enforced by the server, so it cannot end a
/// wait on a server that is stopped, frozen or cut off while its TCP connections stay open
/// (the kernel still acknowledges, so neither keepalives nor tcp_user_timeout fire): the
/// deadline does. On expiry the call fails with kUnavailable, a cancel goes out in the
/// background, and the connection is marked broken and in doubt: its protocol state is
/// unknown (the statement may still run, and commit, when the server resumes), so it is never
/// used again and the pool discards it.
class Connection {
 public:
  using Clock = std::chrono::steady_clock;

  /// Connects (blocking, bounded by connect_timeout per host tried, which libpq enforces also
  /// against a server that accepts TCP but never answers). kUnavailable with libpq's reason on
  /// failure; the reason never contains the password.
  static StoreResult<std::unique_ptr<Connection>> open(const ConnectSettings& settings);

  /// Executes a prepared statement, preparing it first if this connection has not yet.
  StoreResult<ResultPtr> exec(const Statement& statement, const Params& params = {});
  /// Executes parameterless SQL, possibly several statements (BEGIN, migrations).
  StoreResult<ResultPtr> exec_script(const std::string& sql);
  /// Executes one unprepared statement with parameters (for one-off statements).
  StoreResult<ResultPtr> exec_once(const char* sql, const Params& params = {});

  /// The client deadline of each statement; zero: none (migrations, which may run for long).
  std::chrono::milliseconds deadline() const { return deadline_; }
  void set_deadline(std::chrono::milliseconds deadline) { deadline_ = deadline; }

  /// True once an error said this connection should not be reused.
  bool broken() const { return broken_; }
  /// True when the last failure was about this connection or its server rather than the
  /// statement: the socket died, the server is shutting down (57P01-57P03), it is read-only
  /// (25006, a demoted primary), or it did not answer within the client deadline. A new
  /// connection may then succeed where this one failed; after a statement timeout (57014) or
  /// a resource error (53xxx) it would not.
  bool stale() const { return stale_; }
  /// True when the client deadline ended the last statement: whether it ran, or will still
  /// run, is unknown, and the connection is unusable.
  bool timed_out() const { return timed_out_; }
  /// True when libpq itself has lost the server (then every idle connection is suspect).
  bool lost() const { return PQstatus(conn_.get()) == CONNECTION_BAD; }
  /// True when no transaction is open on the server.
  bool idle() const { return PQtransactionStatus(conn_.get()) == PQTRANS_IDLE; }
  /// Best-effort ROLLBACK; marks the connection broken when even that fails.
  void rollback() noexcept;
  /// Whether the pool's primer has run on this connection (Pool::set_primer).
  bool primed() const { return primed_; }
  void mark_primed() { primed_ = true; }

  // --- Non-blocking use, by an event loop (see event_loop.h) ---
  // start() sends a statement without waiting; the loop then waits for the socket (writable
  // while wants_write(), else readable) and calls advance() after each wake-up until it returns
  // the result, or calls expire() once deadline_at() has passed. A statement not yet prepared
  // on this connection is prepared first (two round trips, once per connection). In between,
  // the connection must not be used otherwise.

  /// The socket libpq reads and writes; -1 when the connection is gone.
  int socket() const { return PQsocket(conn_.get()); }
  /// False when even sending failed: advance() then returns the error at once.
  bool start(const Statement& statement, Params params);
  bool wants_write() const { return wants_write_; }
  /// Reads what has arrived. nullopt: the answer is not complete yet, wait again.
  std::optional<StoreResult<ResultPtr>> advance();
  /// When the statement in flight runs out of time; nullopt without a deadline.
  std::optional<Clock::time_point> deadline_at() const { return deadline_at_; }
  /// Gives the statement in flight up at its deadline: sends a cancel in the background,
  /// marks the connection broken, stale and timed out, and returns the kUnavailable to report.
  StoreResult<ResultPtr> expire();

 private:
  enum class Kind { kPrepared, kScript, kOnce };

  explicit Connection(ConnPtr conn, std::chrono::milliseconds deadline)
      : conn_(std::move(conn)), deadline_(deadline) {}
  /// Sends a statement and runs it to its result or its deadline, waiting with poll().
  StoreResult<ResultPtr> run(Kind kind, const char* name, const char* sql, const Params* params);
  /// Records the statement in flight and sends it; false when the send failed.
  bool begin(Kind kind, const char* name, const char* sql, const Params* params);
  /// Sends the pending statement's Parse, or its Bind/Execute or query. False when it failed.
  bool send_pending();
  /// Flushes what libpq still holds; false when the socket failed.
  bool flush();
  /// Waits until the socket is ready for what libpq needs or the deadline passes (false).
  bool wait_ready() const;
  /// Ends the statement in flight and returns `result` checked.
  StoreResult<ResultPtr> finish(ResultPtr result);
  /// Checks a result, classifies a failure, and marks the connection broken when needed.
  StoreResult<ResultPtr> check(ResultPtr result, std::string_view what);

  ConnPtr conn_;
  std::chrono::milliseconds deadline_;
  std::unordered_set<std::string> prepared_;
  bool broken_ = false;
  bool stale_ = false;
  bool primed_ = false;
  bool timed_out_ = false;

  // The statement in flight.
  Kind kind_ = Kind::kPrepared;
  const char* name_ = nullptr;  // nullptr: none in flight
  const char* sql_ = nullptr;
  const Params* params_ = nullptr;  // the caller's (blocking calls) or owned_params_
  Params owned_params_;             // the event loop's, kept here while in flight
  std::optional<Clock::time_point> deadline_at_;
  ResultPtr held_;  // its result so far, until libpq says the command is complete
  bool preparing_ = false;
  bool wants_write_ = false;
  bool send_failed_ = false;  // begin() could not send it: advance() ends it at once
};

}  // namespace authd::store::postgres
