#include "store/postgres/connection.h"

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <system_error>
#include <thread>

namespace authd::store::postgres {
namespace {

std::atomic<std::uint64_t> g_round_trips{0};

void count_round_trip() { g_round_trips.fetch_add(1, std::memory_order_relaxed); }

// libpq prints NOTICEs (e.g. "relation already exists, skipping") to stderr by default; they
// are expected during migrations and carry nothing an operator needs.
void ignore_notice(void* /*arg*/, const char* /*message*/) {}

// First line of a libpq message, tabs and newlines removed, for a one-line log field.
std::string one_line(const char* message) {
  if (message == nullptr || *message == '\0') return "no message";
  std::string out(message);
  if (auto nl = out.find('\n'); nl != std::string::npos) out.resize(nl);
  for (char& c : out) {
    if (c == '\t' || c == '\r') c = ' ';
  }
  return out;
}

// PostgreSQL text[] output: {a,"b c","d\"e",NULL}. Elements are quoted when they contain
// special characters; backslash escapes the next character inside quotes.
bool parse_text_array(std::string_view in, std::vector<std::string>& out) {
  out.clear();
  if (in.size() < 2 || in.front() != '{' || in.back() != '}') return false;
  std::size_t i = 1;
  const std::size_t end = in.size() - 1;
  if (i == end) return true;
  while (true) {
    std::string element;
    if (in[i] == '"') {
      ++i;
      while (i < end && in[i] != '"') {
        if (in[i] == '\\') {
          ++i;
          if (i >= end) return false;
        }
        element.push_back(in[i++]);
      }
      if (i >= end) return false;
      ++i;  // closing quote
    } else {
      const std::size_t start = i;
      while (i < end && in[i] != ',') {
        if (in[i] == '{' || in[i] == '"') return false;  // nested arrays are not ours
        ++i;
      }
      element.assign(in.substr(start, i - start));
      if (element == "NULL") return false;  // our arrays have no NULL elements
    }
    out.push_back(std::move(element));
    if (i == end) return true;
    if (in[i] != ',') return false;
    ++i;
  }
}

std::string format_text_array(const std::vector<std::string>& value) {
  std::string out = "{";
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (i > 0) out.push_back(',');
    // Always quoting is valid for every element, including "" and "NULL".
    out.push_back('"');
    for (char c : value[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

}  // namespace

std::uint64_t round_trips() { return g_round_trips.load(std::memory_order_relaxed); }

Errc classify_sqlstate(std::string_view s) {
  if (s == "23505" || s == "40001" || s == "40P01") return Errc::kConflict;
  if (s == "25006") return Errc::kUnavailable;  // read-only transaction: a demoted primary
  if (s.size() == 5) {
    const std::string_view cls = s.substr(0, 2);
    if (cls == "08" || cls == "53" || cls == "57") return Errc::kUnavailable;
  }
  if (s == "42P01" || s == "42703" || s == "42883") return Errc::kSchema;
  return Errc::kInternal;
}

// --- Params ---

Params& Params::text(std::string value) {
  values_.push_back(std::move(value));
  is_null_.push_back(false);
  formats_.push_back(0);
  return *this;
}

Params& Params::int64(std::int64_t value) { return text(std::to_string(value)); }

Params& Params::boolean(bool value) { return text(value ? "t" : "f"); }

Params& Params::bytes(std::string value) {
  values_.push_back(std::move(value));
  is_null_.push_back(false);
  formats_.push_back(1);
  return *this;
}

Params& Params::text_array(const std::vector<std::string>& value) {
  return text(format_text_array(value));
}

namespace {

void put_be32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

// A one-dimensional array in the binary format of array_send(): dimensions, element type, then
// each element as length and bytes. No NULL elements.
template <typename Put>
std::string binary_array(std::uint32_t element_oid, std::size_t n, Put put_element) {
  std::string out;
  put_be32(out, 1);  // dimensions
  put_be32(out, 0);  // has NULLs
  put_be32(out, element_oid);
  put_be32(out, static_cast<std::uint32_t>(n));
  put_be32(out, 1);  // lower bound
  for (std::size_t i = 0; i < n; ++i) put_element(out, i);
  return out;
}

constexpr std::uint32_t kByteaOid = 17;
constexpr std::uint32_t kInt8Oid = 20;

}  // namespace

Params& Params::bytes_array(const std::vector<std::string>& value) {
  return bytes(binary_array(kByteaOid, value.size(), [&](std::string& out, std::size_t i) {
    put_be32(out, static_cast<std::uint32_t>(value[i].size()));
    out += value[i];
  }));
}

Params& Params::int64_array(const std::vector<std::int64_t>& value) {
  return bytes(binary_array(kInt8Oid, value.size(), [&](std::string& out, std::size_t i) {
    put_be32(out, 8);
    const auto v = static_cast<std::uint64_t>(value[i]);
    put_be32(out, static_cast<std::uint32_t>(v >> 32));
    put_be32(out, static_cast<std::uint32_t>(v));
  }));
}

Params& Params::null() {
  values_.emplace_back();
  is_null_.push_back(true);
  formats_.push_back(0);
  return *this;
}

const char* const* Params::values() const {
  // Built on demand: the strings' buffers may move while parameters are being added.
  pointers_.clear();
  for (std::size_t i = 0; i < values_.size(); ++i) {
    pointers_.push_back(is_null_[i] ? nullptr : values_[i].data());
  }
  return pointers_.data();
}

const int* Params::lengths() const {
  lengths_.clear();
  for (const auto& v : values_) lengths_.push_back(static_cast<int>(v.size()));
  return lengths_.data();
}

// --- Row ---

std::string Row::text(int col) const {
  return std::string(PQgetvalue(result_, row_, col),
                     static_cast<std::size_t>(PQgetlength(result_, row_, col)));
}

std::int64_t Row::int64(int col) {
  if (is_null(col)) {
    ok_ = false;
    return 0;
  }
  const char* p = PQgetvalue(result_, row_, col);
  const char* end = p + PQgetlength(result_, row_, col);
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(p, end, v);
  if (ec != std::errc() || ptr != end) ok_ = false;
  return v;
}

std::optional<std::int64_t> Row::optional_int64(int col) {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}

bool Row::boolean(int col) {
  const std::string v = text(col);
  if (v == "t") return true;
  if (v != "f") ok_ = false;
  return false;
}

std::string Row::bytes(int col) {
  std::size_t len = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(result_, row_, col)), &len);
  if (raw == nullptr) {
    ok_ = false;
    return {};
  }
  std::string out(reinterpret_cast<const char*>(raw), len);
  PQfreemem(raw);
  return out;
}

std::vector<std::string> Row::text_array(int col) {
  std::vector<std::string> out;
  if (!parse_text_array(text(col), out)) ok_ = false;
  return out;
}

// --- Connection ---

namespace {

// Cancels in flight at once, process-wide. Each may wait as long as its server is stopped, so
// a stall costs at most this many parked threads however many statements time out.
constexpr int kMaxCancelsInFlight = 4;
std::atomic<int> g_cancels_in_flight{0};
std::atomic<std::uint64_t> g_cancels_started{0};

const char* what_of(const char* name) { return name != nullptr ? name : "statement"; }

}  // namespace

bool cancel_in_background(PGconn* conn) {
  if (g_cancels_in_flight.fetch_add(1) >= kMaxCancelsInFlight) {
    g_cancels_in_flight.fetch_sub(1);
    return false;
  }
  // A copy of what the cancel needs (address, backend pid and key): independent of `conn`,
  // which the caller may close at once.
  PGcancel* cancel = PQgetCancel(conn);
  if (cancel == nullptr) {
    g_cancels_in_flight.fetch_sub(1);
    return false;
  }
  try {
    std::thread([cancel] {
      char error[256];
      PQcancel(cancel, error, sizeof error);  // best effort: the outcome changes nothing here
      PQfreeCancel(cancel);
      g_cancels_in_flight.fetch_sub(1);
    }).detach();
  } catch (const std::system_error&) {
    PQfreeCancel(cancel);
    g_cancels_in_flight.fetch_sub(1);
    return false;
  }
  g_cancels_started.fetch_add(1, std::memory_order_relaxed);
  return true;
}

std::uint64_t cancels_started() { return g_cancels_started.load(std::memory_order_relaxed); }

StoreResult<std::unique_ptr<Connection>> Connection::open(const ConnectSettings& settings) {
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (std::size_t i = 0; i < settings.keywords.size(); ++i) {
    keywords.push_back(settings.keywords[i].c_str());
    values.push_back(settings.values[i].c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  // expand_dbname = 1: the "dbname" entry holds the whole conninfo string. libpq applies
  // connect_timeout to each host's whole attempt (TCP, TLS, authentication), so a stopped
  // server that accepts TCP in its kernel but never answers costs connect_timeout, and with a
  // multi-host string the next host is tried after it.
  ConnPtr conn(PQconnectdbParams(keywords.data(), values.data(), 1));
  if (!conn) return fail(Errc::kUnavailable, "postgres connect: out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    // libpq's reason names hosts, ports and the user, never the password.
    return fail(Errc::kUnavailable, "postgres connect: " + one_line(PQerrorMessage(conn.get())));
  }
  // Non-blocking for good: every statement is sent with PQsend* and waited for here, and
  // PQfinish of a connection given up on never blocks on its unsent bytes.
  if (PQsetnonblocking(conn.get(), 1) != 0) {
    return fail(Errc::kUnavailable, "postgres connect: cannot use non-blocking mode: " +
                                        one_line(PQerrorMessage(conn.get())));
  }
  PQsetNoticeProcessor(conn.get(), ignore_notice, nullptr);
  return std::unique_ptr<Connection>(new Connection(std::move(conn), settings.deadline));
}

StoreResult<ResultPtr> Connection::check(ResultPtr result, std::string_view what) {
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;

  Errc code = Errc::kInternal;
  std::string message = "postgres " + std::string(what) + ": ";
  const char* sqlstate = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
  if (lost()) {
    // libpq reports a dropped connection (server crash, pg_terminate_backend, network) without
    // a SQLSTATE, or with the server's 57P01 just before the socket closes.
    code = Errc::kUnavailable;
    stale_ = true;
    message += "connection lost: " + one_line(PQerrorMessage(conn_.get()));
  } else if (sqlstate != nullptr) {
    code = classify_sqlstate(sqlstate);
    const std::string_view state(sqlstate);
    stale_ = state == "25006" || state.starts_with("08") || state.starts_with("57P");
    // The primary message only: DETAIL can quote key values (emails, hashes).
    const char* primary = PQresultErrorField(result.get(), PG_DIAG_MESSAGE_PRIMARY);
    message += "SQLSTATE " + std::string(sqlstate) + ": " + one_line(primary);
  } else {
    message += one_line(result ? PQresultErrorMessage(result.get()) : PQerrorMessage(conn_.get()));
  }
  if (code == Errc::kUnavailable) broken_ = true;
  return fail(code, std::move(message));
}

StoreResult<ResultPtr> Connection::exec(const Statement& statement, const Params& params) {
  return run(Kind::kPrepared, statement.name, statement.sql, &params);
}

StoreResult<ResultPtr> Connection::exec_script(const std::string& sql) {
  return run(Kind::kScript, "script", sql.c_str(), nullptr);
}

StoreResult<ResultPtr> Connection::exec_once(const char* sql, const Params& params) {
  return run(Kind::kOnce, "statement", sql, &params);
}

StoreResult<ResultPtr> Connection::run(Kind kind, const char* name, const char* sql,
                                       const Params* params) {
  if (!begin(kind, name, sql, params)) return finish(nullptr);
  while (true) {
    if (!wait_ready()) return expire();
    if (auto result = advance()) return std::move(*result);
  }
}

bool Connection::begin(Kind kind, const char* name, const char* sql, const Params* params) {
  kind_ = kind;
  name_ = name;
  sql_ = sql;
  params_ = params;
  preparing_ = kind == Kind::kPrepared && !prepared_.contains(name);
  wants_write_ = false;
  held_.reset();
  deadline_at_.reset();
  if (deadline_.count() > 0) deadline_at_ = Clock::now() + deadline_;
  // After a deadline the previous statement may still be in flight: nothing more is sent.
  send_failed_ = timed_out_ || !send_pending();
  return !send_failed_;
}

bool Connection::start(const Statement& statement, Params params) {
  owned_params_ = std::move(params);
  return begin(Kind::kPrepared, statement.name, statement.sql, &owned_params_);
}

bool Connection::send_pending() {
  count_round_trip();
  int sent = 0;
  if (preparing_) {
    // Parameter types come from the casts in the SQL, so none are passed here.
    sent = PQsendPrepare(conn_.get(), name_, sql_, 0, nullptr);
  } else if (kind_ == Kind::kScript) {
    sent = PQsendQuery(conn_.get(), sql_);
  } else {
    const Params& p = *params_;  // set for every kind but a script
    sent = kind_ == Kind::kPrepared
               ? PQsendQueryPrepared(conn_.get(), name_, p.size(), p.values(), p.lengths(),
                                     p.formats(), /*resultFormat=*/0)
               : PQsendQueryParams(conn_.get(), sql_, p.size(), nullptr, p.values(), p.lengths(),
                                   p.formats(), /*resultFormat=*/0);
  }
  return sent == 1 && flush();
}

bool Connection::flush() {
  const int r = PQflush(conn_.get());
  wants_write_ = r == 1;
  return r >= 0;
}

bool Connection::wait_ready() const {
  const int fd = socket();
  if (fd < 0) return true;  // gone: advance() reports it
  // While libpq still holds unsent bytes, reading may be what unblocks the server's side.
  pollfd p{fd, static_cast<short>(wants_write_ ? (POLLIN | POLLOUT) : POLLIN), 0};
  while (true) {
    int timeout_ms = -1;
    if (deadline_at_) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(*deadline_at_ - Clock::now()).count();
      if (left <= 0) return false;
      timeout_ms = static_cast<int>(std::min<long long>(left, INT_MAX));
    }
    const int r = ::poll(&p, 1, timeout_ms);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return true;  // let advance() find out what is wrong
  }
}

StoreResult<ResultPtr> Connection::finish(ResultPtr result) {
  const char* what = what_of(name_);
  name_ = nullptr;
  send_failed_ = false;
  params_ = nullptr;
  owned_params_ = Params{};
  deadline_at_.reset();
  held_.reset();
  wants_write_ = false;
  if (timed_out_) {
    return fail(Errc::kUnavailable,
                "postgres " + std::string(what) +
                    ": connection given up after a client deadline; not reused");
  }
  // Without a result the socket or the protocol failed: libpq's state is not to be trusted.
  if (!result) broken_ = true;
  return check(std::move(result), what);
}

std::optional<StoreResult<ResultPtr>> Connection::advance() {
  if (name_ == nullptr || send_failed_) return finish(nullptr);  // begin() could not send
  if (wants_write_ && !flush()) return finish(nullptr);
  if (PQconsumeInput(conn_.get()) == 0) return finish(nullptr);
  while (PQisBusy(conn_.get()) == 0) {
    ResultPtr r(PQgetResult(conn_.get()));
    if (r) {
      // A statement has one result; a script one per statement, and the first error ends it
      // (the server skips the rest): keep that error, else the last result, as PQexec does.
      const bool held_error = held_ && PQresultStatus(held_.get()) == PGRES_FATAL_ERROR;
      if (!held_error) held_ = std::move(r);
      continue;
    }
    // nullptr: the command is complete.
    ResultPtr result = std::move(held_);
    if (!result) return finish(nullptr);
    const ExecStatusType status = PQresultStatus(result.get());
    if (!preparing_ || status != PGRES_COMMAND_OK) return finish(std::move(result));
    prepared_.insert(name_);
    preparing_ = false;
    if (!send_pending()) return finish(nullptr);
  }
  return std::nullopt;
}

StoreResult<ResultPtr> Connection::expire() {
  const std::string what = what_of(name_);
  const long long ms = deadline_.count();
  // The statement may be running, queued in the server's socket buffer, or done with its answer
  // not yet read: the cancel stops it if the server can still act on one (a commit waiting for
  // a synchronous standby, say). Either way the connection is given up, never reused.
  cancel_in_background(conn_.get());
  timed_out_ = true;
  broken_ = true;
  stale_ = true;
  name_ = nullptr;
  params_ = nullptr;
  owned_params_ = Params{};
  deadline_at_.reset();
  held_.reset();
  wants_write_ = false;
  return fail(Errc::kUnavailable, "postgres " + what + ": no answer within the client deadline (" +
                                      std::to_string(ms) + " ms); connection discarded");
}

void Connection::rollback() noexcept {
  if (broken_ || lost()) {
    broken_ = true;
    return;
  }
  if (!exec_script("ROLLBACK")) broken_ = true;
}

}  // namespace authd::store::postgres
