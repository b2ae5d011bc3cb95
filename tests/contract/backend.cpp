#include "contract/backend.h"

#include <sqlite3.h>

#include <cstdlib>
#include <random>
#include <sstream>

#include "authd/core/clock.h"
#include "authd/store/sqlite.h"

namespace authd::store {
std::ostream& operator<<(std::ostream& os, Errc e) { return os << to_string(e); }
std::ostream& operator<<(std::ostream& os, const Error& e) {
  return os << to_string(e.code) << ": " << e.message;
}
}  // namespace authd::store

namespace authd::auth {
std::ostream& operator<<(std::ostream& os, RotateOutcome o) {
  switch (o) {
    case RotateOutcome::kRotated:
      return os << "kRotated";
    case RotateOutcome::kGraceReplay:
      return os << "kGraceReplay";
    case RotateOutcome::kReuseDetected:
      return os << "kReuseDetected";
    case RotateOutcome::kUnknown:
      return os << "kUnknown";
    case RotateOutcome::kRevoked:
      return os << "kRevoked";
    case RotateOutcome::kExpired:
      return os << "kExpired";
  }
  return os << "?";
}
}  // namespace authd::auth

namespace authd::contract {
namespace {

std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// --- SQLite ---

struct SqliteDeleter {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};

class SqliteTestDatabase final : public TestDatabase {
 public:
  SqliteTestDatabase() : path_(dir_.file("authd.db")) {}

  store::StoreResult<DatabasePtr> open() override {
    return store::open_sqlite(store::SqliteOptions{path_, 10000});
  }

  std::string exec(const std::string& sql) override {
    auto db = raw();
    if (!db) return "cannot open " + path_;
    char* err = nullptr;
    if (sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string message = err != nullptr ? err : "sqlite error";
      sqlite3_free(err);
      return message;
    }
    return "";
  }

  std::optional<std::int64_t> query_int(const std::string& sql) override {
    auto db = raw();
    if (!db) return std::nullopt;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      return std::nullopt;
    }
    std::optional<std::int64_t> out;
    if (sqlite3_step(stmt) == SQLITE_ROW) out = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return out;
  }

  std::optional<std::int64_t> count_tables() override {
    return query_int(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name <> 'schema_migrations'"
        " AND name NOT LIKE 'sqlite_%'");
  }

  std::span<const store::Migration> migrations() const override {
    return store::sqlite_migrations();
  }

 private:
  std::unique_ptr<sqlite3, SqliteDeleter> raw() {
    sqlite3* db = nullptr;
    if (sqlite3_open(path_.c_str(), &db) != SQLITE_OK) {
      sqlite3_close_v2(db);
      return nullptr;
    }
    sqlite3_busy_timeout(db, 10000);
    sqlite3_exec(db, "PRAGMA foreign_keys=ON", nullptr, nullptr, nullptr);
    return std::unique_ptr<sqlite3, SqliteDeleter>(db);
  }

  testing::TempDir dir_;
  std::string path_;
};

bool is_url(const std::string& conninfo) {
  return conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://");
}

}  // namespace

// --- Postgres ---

std::unique_ptr<PgTestDatabase> PgTestDatabase::create(std::string* error) {
  const std::string url = env("AUTHD_TEST_PG_URL");
  if (url.empty()) {
    *error =
        "AUTHD_TEST_PG_URL is not set, so the Postgres contract tests cannot run. Run them with "
        "scripts/test (or: scripts/services up DIR && . DIR/env) instead of skipping them.";
    return nullptr;
  }
  std::unique_ptr<PgTestDatabase> db(new PgTestDatabase());
  db->url_ = url;
  db->admin_.reset(PQconnectdb(url.c_str()));
  if (PQstatus(db->admin_.get()) != CONNECTION_OK) {
    *error =
        "cannot connect to AUTHD_TEST_PG_URL: " + std::string(PQerrorMessage(db->admin_.get()));
    return nullptr;
  }
  PQsetNoticeProcessor(
      db->admin_.get(), [](void*, const char*) {}, nullptr);
  std::ostringstream name;
  name << "t_" << std::hex << rng()();
  db->schema_ = name.str();
  if (auto e = db->exec("CREATE SCHEMA " + db->schema_ + "; SET search_path TO " + db->schema_);
      !e.empty()) {
    *error = "cannot create the test schema: " + e;
    db->schema_.clear();
    return nullptr;
  }
  return db;
}

PgTestDatabase::~PgTestDatabase() {
  if (schema_.empty() || !admin_) return;
  if (!env("AUTHD_TEST_KEEP").empty()) {
    std::fprintf(stderr, "AUTHD_TEST_KEEP: kept schema %s\n", schema_.c_str());
    return;
  }
  exec("DROP SCHEMA " + schema_ + " CASCADE");
}

std::string PgTestDatabase::exec(const std::string& sql) {
  PGresult* r = PQexec(admin_.get(), sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  std::string message;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) message = PQresultErrorMessage(r);
  PQclear(r);
  return message;
}

std::vector<std::vector<std::string>> PgTestDatabase::rows(const std::string& sql) {
  std::vector<std::vector<std::string>> out;
  PGresult* r = PQexec(admin_.get(), sql.c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    ADD_FAILURE() << sql << ": " << PQresultErrorMessage(r);
  } else {
    for (int i = 0; i < PQntuples(r); ++i) {
      std::vector<std::string> row;
      for (int j = 0; j < PQnfields(r); ++j) row.emplace_back(PQgetvalue(r, i, j));
      out.push_back(std::move(row));
    }
  }
  PQclear(r);
  return out;
}

std::optional<std::int64_t> PgTestDatabase::query_int(const std::string& sql) {
  PGresult* r = PQexec(admin_.get(), sql.c_str());
  std::optional<std::int64_t> out;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
    out = std::stoll(PQgetvalue(r, 0, 0));
  }
  PQclear(r);
  return out;
}

std::optional<std::int64_t> PgTestDatabase::count_tables() {
  return query_int("SELECT count(*) FROM information_schema.tables WHERE table_schema = '" +
                   schema_ + "' AND table_name <> 'schema_migrations'");
}

store::PostgresOptions PgTestDatabase::options() const {
  store::PostgresOptions o;
  const std::string option = "options=-csearch_path%3D" + schema_;
  if (is_url(url_)) {
    o.conninfo = url_ + (url_.find('?') == std::string::npos ? "?" : "&") + option;
  } else {
    o.conninfo = url_ + " options='-csearch_path=" + schema_ + "'";
  }
  o.pool_size = 8;
  o.connect_timeout_ms = 5000;
  o.acquire_timeout_ms = 20000;
  o.statement_timeout_ms = 20000;
  o.application_name = "authd_test_" + schema_;
  return o;
}

std::string PgTestDatabase::param(const std::string& keyword) const {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url_.c_str(), &err);
  if (err != nullptr) PQfreemem(err);
  std::string out;
  for (PQconninfoOption* o = opts; o != nullptr && o->keyword != nullptr; ++o) {
    if (keyword == o->keyword && o->val != nullptr) out = o->val;
  }
  PQconninfoFree(opts);
  return out;
}

std::string PgTestDatabase::conninfo_for(const std::string& hosts, const std::string& ports,
                                         const std::string& extra) const {
  std::string c = "host=" + hosts + " port=" + ports + " dbname='" + param("dbname") + "' user='" +
                  param("user") + "' options='-csearch_path=" + schema_ + "'";
  if (!extra.empty()) c += " " + extra;
  return c;
}

// --- fixtures and helpers ---

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

void PrintTo(Backend backend, std::ostream* os) {
  *os << (backend == Backend::kSqlite ? "Sqlite" : "Postgres");
}

std::unique_ptr<TestDatabase> make_test_database(Backend backend, std::string* error) {
  if (backend == Backend::kSqlite) return std::make_unique<SqliteTestDatabase>();
  return PgTestDatabase::create(error);
}

void ContractTest::SetUp() {
  std::string error;
  test_db_ = make_test_database(GetParam(), &error);
  ASSERT_TRUE(test_db_) << error;
  auto db = test_db_->open();
  ASSERT_TRUE(db) << db.error();
  db_ = std::move(db).value();
}

void ContractTest::TearDown() {
  db_.reset();
  test_db_.reset();
}

void ContractTest::migrate() {
  auto v = db_->migrate();
  ASSERT_TRUE(v) << v.error();
}

std::string new_uuid() {
  class Rng final : public Random {
   public:
    void fill(void* out, std::size_t n) override {
      auto* p = static_cast<unsigned char*>(out);
      for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>(rng()());
    }
  } random;
  return make_uuid_v4(random);
}

std::string new_hash() {
  std::string h(32, '\0');
  for (auto& c : h) c = static_cast<char>(rng()() & 0xff);
  h[7] = '\0';  // always exercise an embedded NUL
  return h;
}

std::string to_hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

}  // namespace authd::contract
