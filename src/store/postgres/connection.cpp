#include "store/postgres/connection.h"

#include <atomic>
#include <charconv>
#include <cstring>

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

StoreResult<std::unique_ptr<Connection>> Connection::open(const ConnectSettings& settings) {
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (std::size_t i = 0; i < settings.keywords.size(); ++i) {
    keywords.push_back(settings.keywords[i].c_str());
    values.push_back(settings.values[i].c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  // expand_dbname = 1: the "dbname" entry holds the whole conninfo string.
  ConnPtr conn(PQconnectdbParams(keywords.data(), values.data(), 1));
  if (!conn) return fail(Errc::kUnavailable, "postgres connect: out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    // libpq's reason names hosts, ports and the user, never the password.
    return fail(Errc::kUnavailable, "postgres connect: " + one_line(PQerrorMessage(conn.get())));
  }
  PQsetNoticeProcessor(conn.get(), ignore_notice, nullptr);
  return std::unique_ptr<Connection>(new Connection(std::move(conn)));
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
  if (!prepared_.contains(statement.name)) {
    count_round_trip();
    // Parameter types come from the casts in the SQL, so none are passed here.
    auto prepared =
        check(ResultPtr(PQprepare(conn_.get(), statement.name, statement.sql, 0, nullptr)),
              statement.name);
    if (!prepared) return unexpected(std::move(prepared).error());
    prepared_.insert(statement.name);
  }
  count_round_trip();
  return check(ResultPtr(PQexecPrepared(conn_.get(), statement.name, params.size(), params.values(),
                                        params.lengths(), params.formats(),
                                        /*resultFormat=*/0)),
               statement.name);
}

StoreResult<ResultPtr> Connection::exec_script(const std::string& sql) {
  count_round_trip();
  return check(ResultPtr(PQexec(conn_.get(), sql.c_str())), "script");
}

StoreResult<ResultPtr> Connection::exec_once(const char* sql, const Params& params) {
  count_round_trip();
  return check(ResultPtr(PQexecParams(conn_.get(), sql, params.size(), nullptr, params.values(),
                                      params.lengths(), params.formats(), 0)),
               "statement");
}

bool Connection::start(const Statement& statement, Params params) {
  pending_ = &statement;
  pending_params_ = std::move(params);
  preparing_ = !prepared_.contains(statement.name);
  wants_write_ = false;
  if (PQsetnonblocking(conn_.get(), 1) == 0 && send_pending()) return true;
  pending_ = nullptr;
  return false;
}

bool Connection::send_pending() {
  count_round_trip();
  const int sent = preparing_
                       ? PQsendPrepare(conn_.get(), pending_->name, pending_->sql, 0, nullptr)
                       : PQsendQueryPrepared(conn_.get(), pending_->name, pending_params_.size(),
                                             pending_params_.values(), pending_params_.lengths(),
                                             pending_params_.formats(), /*resultFormat=*/0);
  return sent == 1 && flush();
}

bool Connection::flush() {
  const int r = PQflush(conn_.get());
  wants_write_ = r == 1;
  return r >= 0;
}

StoreResult<ResultPtr> Connection::finish_async(ResultPtr result) {
  const char* what = pending_ != nullptr ? pending_->name : "statement";
  pending_ = nullptr;
  held_.reset();
  wants_write_ = false;
  // Without a result the socket or the protocol failed: libpq's state is not to be trusted.
  if (!result) broken_ = true;
  PQsetnonblocking(conn_.get(), 0);
  return check(std::move(result), what);
}

std::optional<StoreResult<ResultPtr>> Connection::advance() {
  if (pending_ == nullptr) return finish_async(nullptr);  // start() could not send
  if (wants_write_ && !flush()) return finish_async(nullptr);
  if (PQconsumeInput(conn_.get()) == 0) return finish_async(nullptr);
  while (PQisBusy(conn_.get()) == 0) {
    ResultPtr r(PQgetResult(conn_.get()));
    if (r) {
      if (!held_) held_ = std::move(r);  // the first result is the one (or the error)
      continue;
    }
    // nullptr: the command is complete.
    ResultPtr result = std::move(held_);
    if (!result) return finish_async(nullptr);
    const ExecStatusType status = PQresultStatus(result.get());
    if (!preparing_ || status != PGRES_COMMAND_OK) return finish_async(std::move(result));
    prepared_.insert(pending_->name);
    preparing_ = false;
    if (!send_pending()) return finish_async(nullptr);
  }
  return std::nullopt;
}

void Connection::rollback() noexcept {
  if (lost()) {
    broken_ = true;
    return;
  }
  count_round_trip();
  ResultPtr r(PQexec(conn_.get(), "ROLLBACK"));
  if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) broken_ = true;
}

}  // namespace authd::store::postgres
