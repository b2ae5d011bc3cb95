// Postgres-only behaviour: SQLSTATE classification, connection failures, multi-host failover
// strings, the read-only standby, pool limits, statement timeouts, and rotation while
// connections are being killed.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "contract/fixture.h"
#include "contract/rotate_from_loop.h"
#include "store/postgres/connection.h"
#include "store/postgres/stores.h"
#include "support/event_loop.h"
#include "support/eventually.h"
#include "support/stopwatch.h"

namespace authd::contract {
namespace {

using auth::RotateOutcome;
using auth::RotateRequest;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using store::Errc;
using testing::elapsed_ms;
using testing::Rows;

// A loopback port that refuses connections: bound, never listened on, for the test's life.
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~ClosedPort() { ::close(fd_); }
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  std::string port() const { return std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// A pool of one connection to a port that refuses, with short waits.
store::PostgresOptions refused_options(const ClosedPort& closed) {
  store::PostgresOptions o;
  o.conninfo = "host=127.0.0.1 port=" + closed.port() + " dbname=authd user=authd";
  o.pool_size = 1;
  o.connect_timeout_ms = 2000;
  o.acquire_timeout_ms = 100;
  return o;
}

TEST(PostgresClassifyTest, SqlstatesMapToErrc) {
  using store::postgres::classify_sqlstate;
  for (const char* s : {"23505", "40001", "40P01"})
    EXPECT_EQ(classify_sqlstate(s), Errc::kConflict) << s;
  for (const char* s :
       {"08000", "08006", "08001", "53300", "53100", "57P01", "57P02", "57P03", "57014", "25006"}) {
    EXPECT_EQ(classify_sqlstate(s), Errc::kUnavailable) << s;
  }
  for (const char* s : {"42P01", "42703", "42883"})
    EXPECT_EQ(classify_sqlstate(s), Errc::kSchema) << s;
  for (const char* s : {"22P02", "23503", "23514", "25001", "42601", "XX000", ""}) {
    EXPECT_EQ(classify_sqlstate(s), Errc::kInternal) << s;
  }
}

// A malformed conninfo is refused at open, and the message does not echo the string (it may
// hold a password).
TEST(PostgresOpenTest, InvalidConninfoIsRejectedWithoutEchoingIt) {
  store::PostgresOptions o;
  o.conninfo = "postgresql://authd:s3cret-pw@localhost/authd?no_such_option=1";
  auto db = store::open_postgres(o);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, Errc::kInternal);
  EXPECT_EQ(db.error().message.find("s3cret"), std::string::npos) << db.error();
}

TEST(PostgresOpenTest, ZeroPoolSizeIsRejected) {
  store::PostgresOptions o;
  o.conninfo = "host=127.0.0.1";
  o.pool_size = 0;
  EXPECT_FALSE(store::open_postgres(o));
}

// Nothing listens on the port: calls fail fast with kUnavailable, and a failed connect does
// not leak a pool slot (every later call fails the same way, not with a pool timeout).
TEST(PostgresOpenTest, RefusedPortIsUnavailableQuickly) {
  ClosedPort closed;
  auto db = store::open_postgres(refused_options(closed));
  ASSERT_TRUE(db) << db.error();
  for (int i = 0; i < 3; ++i) {
    const auto start = steady_clock::now();
    auto ping = (*db)->ping();
    ASSERT_FALSE(ping);
    EXPECT_EQ(ping.error().code, Errc::kUnavailable);
    EXPECT_NE(ping.error().message.find("connect"), std::string::npos) << ping.error();
    EXPECT_LT(elapsed_ms(start), 2000);
  }
}

// A warm-up against a server that refuses: it stops at the first failed connect, gives the
// slot it took back (the next call connects and fails for itself rather than waiting for a
// free connection), and destroying the store does not wait for anything more.
TEST(PostgresOpenTest, WarmUpStopsAtTheFirstFailedConnectAndLeaksNoSlot) {
  ClosedPort closed;
  auto db = store::open_postgres(refused_options(closed));
  ASSERT_TRUE(db) << db.error();
  (*db)->warm_up(milliseconds(0));
  ASSERT_TRUE(testing::eventually([&] {
    auto ping = (*db)->ping();
    return !ping && ping.error().message.find("no free connection") == std::string::npos;
  })) << "the warm-up kept the pool's only slot";
  auto ping = (*db)->ping();
  ASSERT_FALSE(ping);
  EXPECT_EQ(ping.error().code, Errc::kUnavailable);
  EXPECT_NE(ping.error().message.find("connect"), std::string::npos) << ping.error();
  const auto start = steady_clock::now();
  db->reset();
  EXPECT_LT(elapsed_ms(start), 1000);
}

class PostgresTest : public ::testing::Test {
 protected:
  using Rotate = std::function<store::StoreResult<auth::RotateResult>(const RotateRequest&)>;
  void rotate_chain_while_killing(store::Database& db, const store::PostgresOptions& o,
                                  const Rotate& rotate);

  void SetUp() override {
    pg_ = std::make_unique<TestDatabase>(Backend::kPostgres, /*migrate=*/false);
    ASSERT_TRUE(pg_->ok()) << pg_->error();
  }
  void TearDown() override { pg_.reset(); }

  DatabasePtr open(const store::PostgresOptions& o) {
    auto db = store::open_postgres(o);
    EXPECT_TRUE(db) << db.error();
    return db ? std::move(db).value() : nullptr;
  }
  DatabasePtr open_migrated(const store::PostgresOptions& o) {
    DatabasePtr db = open(o);
    if (!db) return db;
    auto v = db->migrate();
    EXPECT_TRUE(v) << v.error();
    return db;
  }

  // Options for a key=value conninfo built from the test URL, with the password passed apart.
  store::PostgresOptions options_for(const std::string& hosts, const std::string& ports,
                                     const std::string& extra = "") {
    store::PostgresOptions o = pg_->postgres_options();
    o.conninfo = pg_->conninfo_for(hosts, ports, extra);
    o.password = pg_->param("password");
    return o;
  }

  // A superuser connection (AUTHD_TEST_PG_ADMIN_URL) for terminating backends.
  PgConnPtr superuser() {
    const std::string url = env("AUTHD_TEST_PG_ADMIN_URL");
    EXPECT_FALSE(url.empty()) << "AUTHD_TEST_PG_ADMIN_URL is not set: run scripts/test";
    PgConnPtr c(PQconnectdb(url.c_str()));
    EXPECT_EQ(PQstatus(c.get()), CONNECTION_OK) << PQerrorMessage(c.get());
    return c;
  }

  // The count a `SELECT count(...)` answers; -1 when the query fails.
  static int count(PGconn* su, const std::string& sql) {
    PGresult* r = PQexec(su, sql.c_str());
    int n = PQresultStatus(r) == PGRES_TUPLES_OK ? std::atoi(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
  }

  static int terminate(PGconn* su, const std::string& application_name) {
    return count(su,
                 "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                 "application_name = '" +
                     application_name + "' AND pid <> pg_backend_pid()");
  }

  store::PostgresOptions pool_of_four() {
    store::PostgresOptions o = pg_->postgres_options();
    o.pool_size = 4;
    return o;
  }

  static int backends(PGconn* su, const std::string& application_name) {
    return count(su, "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" +
                         application_name + "'");
  }

  std::string new_user(store::Database& db) {
    auth::User u;
    u.id = new_uuid();
    u.email = u.id + "@example.com";
    u.password_hash = "h";
    u.created_at = u.updated_at = kT0;
    auto r = db.users().create(u);
    EXPECT_TRUE(r) << r.error();
    return u.id;
  }

  std::string new_family(store::Database& db, const std::string& first_hash) {
    auth::Session s;
    s.id = new_uuid();
    s.user_id = new_user(db);
    s.client_id = "authd";
    s.created_at = s.last_used_at = kT0;
    s.absolute_expires_at = s.idle_expires_at = kT0 + 86400;
    auto r = db.sessions().create(s, {first_hash, kT0});
    EXPECT_TRUE(r) << r.error();
    return s.id;
  }

  // A pool of one connection, already prepared by one rotation of a new family whose live
  // token's hash is left in `current`: every later call reuses that warm connection.
  DatabasePtr open_warm_chain(std::string& current) {
    return open_warm_chain(current, pg_->postgres_options());
  }
  DatabasePtr open_warm_chain(std::string& current, store::PostgresOptions o) {
    o.pool_size = 1;
    DatabasePtr db = open_migrated(o);
    if (!db) return db;
    const std::string first = new_hash();
    new_family(*db, first);
    current = new_hash();
    auto r = db->sessions().rotate({first, current, kT0 + 1, 10, 3600});
    EXPECT_TRUE(r && r->outcome == RotateOutcome::kRotated);
    return db;
  }

  std::unique_ptr<TestDatabase> pg_;
};

TEST_F(PostgresTest, UniqueViolationIsConflict) {
  DatabasePtr db = open_migrated(pg_->postgres_options());
  ASSERT_TRUE(db);
  auth::User u;
  u.id = new_uuid();
  u.email = "x@example.com";
  u.password_hash = "h";
  ASSERT_TRUE(db->users().create(u));
  u.id = new_uuid();
  auto dup = db->users().create(u);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::kConflict);
  EXPECT_NE(dup.error().message.find("23505"), std::string::npos) << dup.error();
  // DETAIL ("Key (lower(email))=(x@example.com) already exists") is never passed on.
  EXPECT_EQ(dup.error().message.find("x@example.com"), std::string::npos) << dup.error();
}

TEST_F(PostgresTest, MissingTableIsSchemaError) {
  DatabasePtr db = open(pg_->postgres_options());
  ASSERT_TRUE(db);
  auto r = db->sessions().find(new_uuid());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kSchema) << r.error();
  EXPECT_NE(r.error().message.find("42P01"), std::string::npos) << r.error();
}

// The password travels as its own libpq parameter, not inside the conninfo; a wrong one is
// kUnavailable and is never echoed.
TEST_F(PostgresTest, PasswordIsPassedSeparatelyAndNeverEchoed) {
  store::PostgresOptions o = options_for(pg_->param("host"), pg_->param("port"));
  ASSERT_EQ(o.conninfo.find(o.password), std::string::npos);
  DatabasePtr db = open(o);
  ASSERT_TRUE(db);
  auto ok = db->ping();
  EXPECT_TRUE(ok) << ok.error();

  o.password = "wrong-Pa55word-xyz";
  DatabasePtr bad = open(o);
  ASSERT_TRUE(bad);
  auto refused = bad->ping();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kUnavailable);
  EXPECT_EQ(refused.error().message.find("wrong-Pa55word"), std::string::npos) << refused.error();
}

// libpq tries the hosts in order: a refused first host is skipped.
TEST_F(PostgresTest, MultiHostConninfoSkipsDeadHost) {
  ClosedPort closed;
  store::PostgresOptions o =
      options_for("127.0.0.1,127.0.0.1", closed.port() + "," + pg_->param("port"),
                  "target_session_attrs=read-write");
  DatabasePtr db = open_migrated(o);
  ASSERT_TRUE(db);
  const std::string user = new_user(*db);
  auto found = db->users().find_by_id(user);
  ASSERT_TRUE(found) << found.error();
  EXPECT_TRUE(found->has_value());
}

// With the synchronous standby listed first, target_session_attrs=read-write lands on the
// primary, so writes work.
TEST_F(PostgresTest, MultiHostConninfoSkipsStandby) {
  const std::string replica = env("AUTHD_TEST_PG_REPLICA_PORT");
  ASSERT_FALSE(replica.empty()) << "AUTHD_TEST_PG_REPLICA_PORT is not set: run scripts/test";
  store::PostgresOptions o = options_for("127.0.0.1,127.0.0.1", replica + "," + pg_->param("port"),
                                         "target_session_attrs=read-write");
  DatabasePtr db = open_migrated(o);
  ASSERT_TRUE(db);
  new_user(*db);
}

// Writing through a read-only server (a standby, or a demoted primary) is kUnavailable, so the
// caller retries and a fresh connection finds the new primary.
TEST_F(PostgresTest, WriteOnStandbyIsUnavailable) {
  const std::string replica = env("AUTHD_TEST_PG_REPLICA_PORT");
  ASSERT_FALSE(replica.empty()) << "AUTHD_TEST_PG_REPLICA_PORT is not set: run scripts/test";
  DatabasePtr primary = open_migrated(pg_->postgres_options());
  ASSERT_TRUE(primary);
  DatabasePtr standby = open(options_for("127.0.0.1", replica));
  ASSERT_TRUE(standby);
  // synchronous_commit=on guarantees the standby flushed the migration, not that it applied it.
  ASSERT_TRUE(testing::eventually([&] { return static_cast<bool>(standby->check_schema()); },
                                  std::chrono::seconds(10), milliseconds(100)))
      << "the standby never saw the migrated schema";
  auth::User u;
  u.id = new_uuid();
  u.email = "standby@example.com";
  u.password_hash = "h";
  auto r = standby->users().create(u);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnavailable);
  EXPECT_NE(r.error().message.find("25006"), std::string::npos) << r.error();
}

// The failover watch asks ping() whether the store is back: a connection that reaches a
// standby (a demoted leader) must not say so.
TEST_F(PostgresTest, PingOnStandbyIsUnavailableAndOnThePrimaryOk) {
  const std::string replica = env("AUTHD_TEST_PG_REPLICA_PORT");
  ASSERT_FALSE(replica.empty()) << "AUTHD_TEST_PG_REPLICA_PORT is not set: run scripts/test";
  DatabasePtr primary = open_migrated(pg_->postgres_options());
  ASSERT_TRUE(primary);
  EXPECT_TRUE(primary->ping());
  DatabasePtr standby = open(options_for("127.0.0.1", replica));
  ASSERT_TRUE(standby);
  auto r = standby->ping();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnavailable);
}

// A call blocked past statement_timeout is cancelled (57014) and reported as kUnavailable,
// and the pool recovers once the blocker is gone.
TEST_F(PostgresTest, StatementTimeoutBoundsABlockedCall) {
  store::PostgresOptions o = pg_->postgres_options();
  o.statement_timeout_ms = 300;
  DatabasePtr db = open_migrated(o);
  ASSERT_TRUE(db);
  ASSERT_EQ(pg_->exec("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE"), "");
  auto r = db->users().find_by_email("a@example.com");
  ASSERT_EQ(pg_->exec("ROLLBACK"), "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnavailable) << r.error();
  EXPECT_NE(r.error().message.find("57014"), std::string::npos) << r.error();
  auto again = db->users().find_by_email("a@example.com");
  EXPECT_TRUE(again) << again.error();
}

// The same from an event loop: a rotation stuck behind a lock fails at the statement timeout,
// and is not retried on a new connection (a timeout says nothing about the connection): one
// round trip, then the loop's next rotation works.
TEST_F(PostgresTest, StatementTimeoutEndsAnAsyncRotationWithoutRetry) {
  store::PostgresOptions o = pg_->postgres_options();
  o.statement_timeout_ms = 300;
  std::string current;
  DatabasePtr db = open_warm_chain(current, o);
  ASSERT_TRUE(db);
  testing::AttachedEventLoop loop(*db, 2);
  ASSERT_EQ(pg_->exec("BEGIN; LOCK TABLE refresh_tokens IN ACCESS EXCLUSIVE MODE"), "");
  const std::uint64_t before = store::postgres::round_trips();
  bool async = false;
  auto r = rotate_from_loop(loop, *db, {current, new_hash(), kT0 + 2, 10, 3600}, &async);
  const std::uint64_t trips = store::postgres::round_trips() - before;
  ASSERT_EQ(pg_->exec("ROLLBACK"), "");
  EXPECT_TRUE(async);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnavailable) << r.error();
  EXPECT_NE(r.error().message.find("57014"), std::string::npos) << r.error();
  EXPECT_EQ(trips, 1u) << "no retry after a statement timeout";
  auto next = rotate_from_loop(loop, *db, {current, new_hash(), kT0 + 3, 10, 3600}, &async);
  ASSERT_TRUE(next) << next.error();
  EXPECT_EQ(next->outcome, RotateOutcome::kRotated);
}

// A statement the server does not end by itself (no statement_timeout here, as for a commit
// waiting for a synchronous standby that is gone) ends at the client deadline, and the cancel
// sent in the background stops it on the server: the backend no longer waits for the lock,
// although the lock is still held and nothing else would wake it (the server does not notice
// a closed client socket while it waits).
TEST_F(PostgresTest, ClientDeadlineCancelsAStatementTheServerDoesNotEnd) {
  store::PostgresOptions o = pg_->postgres_options();
  o.statement_timeout_ms = 0;
  o.client_deadline_ms = 300;
  DatabasePtr db = open_migrated(o);
  ASSERT_TRUE(db);
  const std::uint64_t cancels = store::postgres::cancels_started();
  ASSERT_EQ(pg_->exec("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE"), "");
  auto r = db->users().find_by_email("a@example.com");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnavailable) << r.error();
  EXPECT_NE(r.error().message.find("client deadline (300 ms)"), std::string::npos) << r.error();
  EXPECT_EQ(store::postgres::cancels_started(), cancels + 1);
  const std::string waiting =
      "SELECT pg_stat_clear_snapshot(); SELECT count(*) FROM pg_stat_activity WHERE "
      "application_name = '" +
      o.application_name + "' AND wait_event_type = 'Lock'";
  EXPECT_TRUE(testing::eventually([&] { return pg_->query_int(waiting) == 0; }))
      << "the abandoned statement still waits for the lock";
  ASSERT_EQ(pg_->exec("ROLLBACK"), "");
  auto again = db->users().find_by_email("a@example.com");
  EXPECT_TRUE(again) << again.error();
}

// Migrations run without the client deadline, as without statement_timeout: here migrate()
// waits for another replica's migration lock for longer than the deadline, and succeeds.
TEST_F(PostgresTest, MigrationIsNotCutByTheClientDeadline) {
  store::PostgresOptions o = pg_->postgres_options();
  o.client_deadline_ms = 200;
  DatabasePtr db = open(o);
  ASSERT_TRUE(db);
  ASSERT_EQ(pg_->exec("BEGIN; SELECT pg_advisory_xact_lock(" +
                      std::to_string(store::postgres::kMigrateLockClass) +
                      ", hashtext(coalesce(current_schema(), '')))"),
            "");
  auto migrated = std::async(std::launch::async, [&] { return db->migrate(); });
  const std::string waiting =
      "SELECT pg_stat_clear_snapshot(); SELECT count(*) FROM pg_stat_activity WHERE "
      "application_name = '" +
      o.application_name + "' AND wait_event_type = 'Lock'";
  const bool blocked = testing::eventually([&] { return pg_->query_int(waiting) == 1; });
  // Holding the lock past the deadline is the point of the test, not synchronisation.
  if (blocked) std::this_thread::sleep_for(milliseconds(3 * o.client_deadline_ms));
  ASSERT_EQ(pg_->exec("COMMIT"), "");
  ASSERT_TRUE(blocked) << "migrate() never waited for the lock";
  auto v = migrated.get();
  ASSERT_TRUE(v) << v.error();
  // The deadline is back once the connection returns to the pool.
  ASSERT_EQ(pg_->exec("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE"), "");
  auto r = db->users().find_by_email("a@example.com");
  ASSERT_EQ(pg_->exec("ROLLBACK"), "");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("client deadline"), std::string::npos) << r.error();
}

// Every connection busy: a call waits acquire_timeout, then fails with kUnavailable.
TEST_F(PostgresTest, ExhaustedPoolTimesOut) {
  store::PostgresOptions o = pg_->postgres_options();
  o.pool_size = 1;
  o.acquire_timeout_ms = 200;
  DatabasePtr db = open_migrated(o);
  ASSERT_TRUE(db);
  // The holder keeps the only connection (inside a rotation plan) until the ping has returned:
  // the ping can only have failed by waiting out acquire_timeout, never by the holder leaving.
  std::atomic<bool> in_plan{false};
  std::atomic<bool> ping_returned{false};
  std::thread holder([&] {
    auto r = db->keys().rotate_exclusive([&](const std::vector<keys::StoredKey>&) {
      in_plan = true;
      EXPECT_TRUE(
          testing::eventually([&] { return ping_returned.load(); }, std::chrono::seconds(30)));
      return keys::KeyChanges{};
    });
    EXPECT_TRUE(r) << r.error();
  });
  ASSERT_TRUE(testing::eventually([&] { return in_plan.load(); }));
  const auto start = steady_clock::now();
  auto ping = db->ping();
  const auto took = elapsed_ms(start);
  ping_returned = true;
  holder.join();
  ASSERT_FALSE(ping);
  EXPECT_EQ(ping.error().code, Errc::kUnavailable);
  EXPECT_NE(ping.error().message.find("no free connection"), std::string::npos) << ping.error();
  EXPECT_GE(took, 150) << "failed before acquire_timeout (200 ms)";
  auto after = db->ping();
  EXPECT_TRUE(after) << after.error();
}

// After a start, the pool opens all its connections in the background, while calls go on as
// usual: the first burst of requests finds them open instead of waiting for handshakes.
TEST_F(PostgresTest, WarmUpOpensTheWholePoolWhileCallsGoOn) {
  const store::PostgresOptions o = pool_of_four();
  DatabasePtr db = open_migrated(o);
  ASSERT_TRUE(db);
  PgConnPtr su = superuser();
  ASSERT_EQ(backends(su.get(), o.application_name), 1) << "migrate used one connection";
  db->warm_up(milliseconds(0));
  for (int i = 0; i < 20; ++i) {
    auto ping = db->ping();
    ASSERT_TRUE(ping) << ping.error();
  }
  EXPECT_TRUE(testing::eventually([&] { return backends(su.get(), o.application_name) == 4; }));
  db->warm_up(milliseconds(0));  // a second call changes nothing
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(db->ping());
  EXPECT_EQ(backends(su.get(), o.application_name), 4) << "the pool stays within pool_size";
}

// The warm-up waits out its delay before opening anything, and a store destroyed meanwhile
// stops it at once.
TEST_F(PostgresTest, WarmUpWaitsForItsDelayAndStopsWithTheStore) {
  const store::PostgresOptions o = pool_of_four();
  DatabasePtr db = open_migrated(o);
  ASSERT_TRUE(db);
  PgConnPtr su = superuser();
  db->warm_up(std::chrono::minutes(1));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(db->ping());
  EXPECT_EQ(backends(su.get(), o.application_name), 1) << "opened before its delay";
  const auto start = steady_clock::now();
  db.reset();
  EXPECT_LT(elapsed_ms(start), 1000);
}

// The warm-up readies each connection it opens for rotations: a backend's first rotation would
// otherwise prepare the statement and compile the rotation functions first (tens of ms under
// load, which every refresh batched behind it waits for). On a primed connection the first
// rotation is one round trip.
TEST_F(PostgresTest, WarmUpPrimesEachConnectionForRotations) {
  const store::PostgresOptions o = pool_of_four();
  DatabasePtr db = open_migrated(o);
  ASSERT_TRUE(db);
  const std::string first = new_hash();
  new_family(*db, first);
  PgConnPtr su = superuser();
  db->warm_up(milliseconds(0));
  // The last statement each warm-up connection ran is the primer's batch call.
  EXPECT_TRUE(testing::eventually([&] {
    return count(su.get(),
                 "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" +
                     o.application_name +
                     "' AND state = 'idle' AND query LIKE '%authd_rotate_refresh_batch%'") == 4;
  })) << "the warm-up primes the migration's connection and opens the other three, primed";
  EXPECT_EQ(pg_->query_int("SELECT count(*) FROM refresh_tokens WHERE length(hash) = 0"), 0)
      << "priming wrote nothing";
  // The most recently idled connection is a primed one: its first rotation needs no prepare.
  const std::uint64_t before = store::postgres::round_trips();
  auto r = db->sessions().rotate({first, new_hash(), kT0 + 1, 10, 3600});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->outcome, RotateOutcome::kRotated);
  EXPECT_EQ(store::postgres::round_trips() - before, 1u);
}

// Once the warm-up has started, a connection is primed before its first use however it came
// to be: the migration's, taken by a caller before the warm-up's delay has passed, and one a
// caller opens on demand (after a failover, or when a burst finds none idle). An event loop,
// which takes idle connections as they are, then never meets an unprimed one from them.
TEST_F(PostgresTest, ConnectionsUsedBeforeTheWarmUpFillsArePrimedToo) {
  const store::PostgresOptions o = pool_of_four();
  DatabasePtr db = open_migrated(o);
  ASSERT_TRUE(db);
  const std::string first = new_hash();
  new_family(*db, first);
  db->warm_up(std::chrono::minutes(1));  // primes from now on, fills only after the delay
  auto rotate_costs_one_round_trip = [&](const std::string& hash) {
    const std::uint64_t before = store::postgres::round_trips();
    auto r = db->sessions().rotate({hash, new_hash(), kT0 + 1, 10, 3600});
    EXPECT_TRUE(r) << r.error();
    return store::postgres::round_trips() - before == 1u;
  };
  // The migration's connection, opened before there was a primer: readied by this ping.
  ASSERT_TRUE(db->ping());
  EXPECT_TRUE(rotate_costs_one_round_trip(first)) << "the migration's connection is unprimed";
  // A connection opened on demand, by the ping after its only predecessor was killed.
  PgConnPtr su = superuser();
  ASSERT_EQ(terminate(su.get(), o.application_name), 1);
  ASSERT_TRUE(db->ping());
  const std::string second = new_hash();
  new_family(*db, second);
  EXPECT_TRUE(rotate_costs_one_round_trip(second)) << "a connection opened on demand is unprimed";
}

// Every pooled connection killed by the server (restart, failover, pg_terminate_backend): the
// next calls reconnect by themselves instead of failing.
TEST_F(PostgresTest, ReconnectsAfterConnectionsAreTerminated) {
  DatabasePtr db = open_migrated(pg_->postgres_options());
  ASSERT_TRUE(db);
  const std::string first = new_hash();
  new_family(*db, first);
  PgConnPtr su = superuser();
  ASSERT_GT(terminate(su.get(), pg_->postgres_options().application_name), 0);

  auto ping = db->ping();
  EXPECT_TRUE(ping) << ping.error();
  ASSERT_GT(terminate(su.get(), pg_->postgres_options().application_name), 0);
  auto rotated = db->sessions().rotate({first, new_hash(), kT0 + 1, 10, 3600});
  ASSERT_TRUE(rotated) << rotated.error();
  EXPECT_EQ(rotated->outcome, RotateOutcome::kRotated);
}

// A rotation is one round trip on a warm connection: one prepared statement running
// authd_rotate_refresh(), whatever the outcome. (The first use on a connection also prepares
// it: one more round trip per connection lifetime.)
TEST_F(PostgresTest, RotationIsOneRoundTrip) {
  std::string current;
  DatabasePtr db = open_warm_chain(current);
  ASSERT_TRUE(db);

  const std::uint64_t before = store::postgres::round_trips();
  constexpr int kRotations = 20;
  for (int i = 0; i < kRotations; ++i) {
    const std::string next = new_hash();
    auto r = db->sessions().rotate({current, next, kT0 + 2 + i, 10, 3600});
    ASSERT_TRUE(r) << r.error();
    ASSERT_EQ(r->outcome, RotateOutcome::kRotated);
    auto replay = db->sessions().rotate({current, next, kT0 + 2 + i, 10, 3600});
    ASSERT_TRUE(replay) << replay.error();
    ASSERT_EQ(replay->outcome, RotateOutcome::kGraceReplay);
    current = next;
  }
  EXPECT_EQ(store::postgres::round_trips() - before, 2u * kRotations);
}

// One thread rotates a chain as fast as it can while another kills the store's connections
// every ~20 ms. Whatever the timing, every rotation reported as done is in the chain, no token
// has two successors (or two predecessors), the family has exactly one live token, and the
// store keeps working without help.
// `rotate` is how the store is called (from a worker, or from an event loop).
void PostgresTest::rotate_chain_while_killing(store::Database& db_ref,
                                              const store::PostgresOptions& o,
                                              const Rotate& rotate_fn) {
  store::Database* db = &db_ref;
  const std::string first = new_hash();
  const std::string session_id = new_family(db_ref, first);
  PgConnPtr su = superuser();
  ASSERT_EQ(PQstatus(su.get()), CONNECTION_OK);

  std::atomic<bool> stop{false};
  std::atomic<int> kills{0};
  std::atomic<int> attempts{0};  // rotation calls returned so far
  std::thread killer([&] {
    int seen = 0;
    while (!stop) {
      // At most one kill per call returned: on a loaded machine a call (with the store's own
      // retry on a fresh connection) can take longer than the pause, and killing on a fixed
      // clock would then let nothing through.
      if (attempts.load() != seen) {
        seen = attempts.load();
        kills += terminate(su.get(), o.application_name);
      }
      // Pacing, not synchronisation: a kill every 20 ms lets some rotations through.
      std::this_thread::sleep_for(milliseconds(20));
    }
  });

  struct Done {
    std::string presented, successor;
    RotateOutcome outcome;
  };
  std::vector<Done> done;
  int unavailable = 0;
  std::string unexpected;
  std::string current = first;
  const auto deadline = steady_clock::now() + std::chrono::seconds(3);
  std::string successor = new_hash();
  while (steady_clock::now() < deadline && unexpected.empty()) {
    // A client retrying after an error presents the same token, and the server derives the
    // same successor from it: the successor hash only changes once a rotation succeeded.
    auto r = rotate_fn({current, successor, kT0 + 1, 10, 3600});
    ++attempts;
    if (!r) {
      if (r.error().code == Errc::kUnavailable) {
        ++unavailable;
        continue;
      }
      unexpected = "error: " + r.error().message;
      break;
    }
    if (r->outcome != RotateOutcome::kRotated && r->outcome != RotateOutcome::kGraceReplay) {
      std::ostringstream os;
      os << "outcome " << r->outcome;
      unexpected = os.str();
      break;
    }
    done.push_back({current, successor, r->outcome});
    current = successor;
    successor = new_hash();
  }
  stop = true;
  killer.join();
  ASSERT_EQ(unexpected, "");

  // The store recovers by itself once the killing stops. The loop may have ended on an
  // attempt whose outcome was unknown (kUnavailable after the retry); if it had committed,
  // repeating it now is a grace replay.
  auto last = rotate_fn({current, successor, kT0 + 1, 10, 3600});
  ASSERT_TRUE(last) << last.error();
  EXPECT_TRUE(last->outcome == RotateOutcome::kRotated ||
              last->outcome == RotateOutcome::kGraceReplay)
      << last->outcome;
  done.push_back({current, successor, last->outcome});
  current = successor;
  auto next = rotate_fn({current, new_hash(), kT0 + 2, 10, 3600});
  ASSERT_TRUE(next) << next.error();
  EXPECT_EQ(next->outcome, RotateOutcome::kRotated);
  done.push_back({current, "", RotateOutcome::kRotated});

  std::map<std::string, std::string> successor_of;  // hex hash -> hex successor ("" if live)
  std::set<std::string> generations;
  int live = 0;
  for (const auto& row : pg_->rows("SELECT encode(hash, 'hex'), coalesce(encode(successor_hash, "
                                   "'hex'), ''), generation FROM refresh_tokens WHERE "
                                   "session_id = '" +
                                   session_id + "'")) {
    successor_of[row[0]] = row[1];
    EXPECT_TRUE(generations.insert(row[2]).second) << "two tokens of generation " << row[2];
    if (row[1].empty()) ++live;
  }
  EXPECT_EQ(live, 1);
  std::set<std::string> successors;
  for (const auto& [hash, next] : successor_of) {
    if (!next.empty()) {
      EXPECT_TRUE(successors.insert(next).second) << "two predecessors";
    }
  }
  for (const Done& d : done) {
    auto it = successor_of.find(to_hex(d.presented));
    ASSERT_NE(it, successor_of.end()) << "a rotated token is missing";
    if (d.successor.empty()) continue;  // the last one, checked by its outcome
    EXPECT_EQ(it->second, to_hex(d.successor)) << "a reported rotation is not in the chain";
  }
  // The chain is one line from the first token to the live one, with nothing else in it.
  std::size_t length = 1;
  for (std::string h = to_hex(first); !successor_of[h].empty(); h = successor_of[h]) ++length;
  EXPECT_EQ(length, successor_of.size());
  EXPECT_EQ(successor_of.size(), done.size() + 1);

  auto session = db->sessions().find(session_id);
  ASSERT_TRUE(session) << session.error();
  ASSERT_TRUE(session->has_value());
  EXPECT_FALSE((*session)->revoked_at.has_value());
  EXPECT_EQ((*session)->generation, static_cast<std::int64_t>(done.size()) + 1);

  std::printf("[ stats    ] %zu rotations, %d connections killed, %d kUnavailable seen\n",
              done.size(), kills.load(), unavailable);
  EXPECT_GT(kills.load(), 10);
  EXPECT_GT(done.size(), 20u);
}

TEST_F(PostgresTest, ConnectionKilledMidRotation) {
  store::PostgresOptions o = pg_->postgres_options();
  o.pool_size = 4;
  DatabasePtr db = open_migrated(o);
  ASSERT_TRUE(db);
  rotate_chain_while_killing(*db, o,
                             [&](const RotateRequest& r) { return db->sessions().rotate(r); });
}

// The same from an event loop, as the daemon's /refresh runs it: the rotation goes out on the
// loop without blocking it when a pooled connection is idle or busy here, else on a worker.
TEST_F(PostgresTest, ConnectionKilledMidAsyncRotation) {
  store::PostgresOptions o = pg_->postgres_options();
  o.pool_size = 4;
  DatabasePtr db = open_migrated(o);
  ASSERT_TRUE(db);
  testing::AttachedEventLoop loop(*db, 2);
  int async = 0;
  rotate_chain_while_killing(*db, o, [&](const RotateRequest& r) {
    bool took_async = false;
    auto result = rotate_from_loop(loop, *db, r, &took_async);
    async += took_async ? 1 : 0;
    return result;
  });
  std::printf("[ stats    ] %d rotations went out on the loop\n", async);
  EXPECT_GT(async, 20);
}

// On a warm connection an asynchronous rotation is one round trip too, answered on the loop
// thread; off the loop threads the store declines (the caller then blocks on a worker).
TEST_F(PostgresTest, AsyncRotationIsOneRoundTripOnTheLoop) {
  std::string current;
  DatabasePtr db = open_warm_chain(current);
  ASSERT_TRUE(db);
  testing::AttachedEventLoop loop(*db, 2);
  EXPECT_FALSE(db->sessions().rotate_async({current, new_hash(), kT0 + 2, 10, 3600},
                                           [](auto) { ADD_FAILURE() << "must not run"; }));

  const std::uint64_t before = store::postgres::round_trips();
  constexpr int kRotations = 20;
  for (int i = 0; i < kRotations; ++i) {
    const std::string next = new_hash();
    bool async = false, on_loop = false;
    auto r = rotate_from_loop(loop, *db, {current, next, kT0 + 2 + i, 10, 3600}, &async, &on_loop);
    ASSERT_TRUE(r) << r.error();
    ASSERT_EQ(r->outcome, RotateOutcome::kRotated);
    EXPECT_TRUE(async && on_loop);
    auto replay =
        rotate_from_loop(loop, *db, {current, next, kT0 + 2 + i, 10, 3600}, &async, &on_loop);
    ASSERT_TRUE(replay) << replay.error();
    ASSERT_EQ(replay->outcome, RotateOutcome::kGraceReplay);
    EXPECT_EQ(replay->generation, r->generation);
    current = next;
  }
  EXPECT_EQ(store::postgres::round_trips() - before, 2u * kRotations);
}

// More rotations at once than the pool has connections: the loop queues them behind its
// running ones rather than blocking. Thirty families rotate once each; twenty presentations
// of one token yield exactly one rotation and nineteen grace replays of the same successor.
TEST_F(PostgresTest, AsyncRotationsQueueBehindABusyPool) {
  store::PostgresOptions o = pg_->postgres_options();
  o.pool_size = 2;
  DatabasePtr db = open_migrated(o);
  ASSERT_TRUE(db);
  std::vector<std::string> firsts;
  for (int i = 0; i < 30; ++i) {
    firsts.push_back(new_hash());
    new_family(*db, firsts.back());
  }
  const std::string shared_next = new_hash();
  testing::AttachedEventLoop loop(*db, 2);
  std::mutex mu;
  std::vector<store::StoreResult<auth::RotateResult>> families, same_token;
  std::latch finished(50);
  int declined = 0;
  loop.post([&] {
    for (int i = 0; i < 50; ++i) {
      const bool shared = i >= 30;
      RotateRequest r{shared ? firsts[0] : firsts[static_cast<std::size_t>(i)],
                      shared ? shared_next : new_hash(), kT0 + 1, 10, 3600};
      if (i == 0) r.successor_hash = shared_next;
      const bool started = db->sessions().rotate_async(r, [&, shared](auto result) {
        {
          std::lock_guard lock(mu);
          (shared ? same_token : families).push_back(std::move(result));
        }
        finished.count_down();
      });
      if (!started) {
        ++declined;
        finished.count_down();
      }
    }
  });
  finished.wait();
  EXPECT_EQ(declined, 0) << "a busy lane queues instead of declining";
  ASSERT_EQ(families.size(), 30u);
  for (const auto& r : families) {
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->outcome, RotateOutcome::kRotated);
  }
  ASSERT_EQ(same_token.size(), 20u);
  for (const auto& r : same_token) {
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->outcome, RotateOutcome::kGraceReplay) << "the first presentation rotated";
    EXPECT_EQ(r->generation, 2);
  }
  EXPECT_EQ(pg_->rows("SELECT 1 FROM refresh_tokens WHERE successor_hash IS NULL AND session_id = "
                      "(SELECT session_id FROM refresh_tokens WHERE hash = '\\x" +
                      to_hex(firsts[0]) + "')")
                .size(),
            1u)
      << "the family has one live token";
}

// Asynchronous rotations submitted from event loops, in stages if a test wants, and awaited
// together. A call the loop declines (no connection for it) fails with "declined".
class AsyncRotations {
 public:
  AsyncRotations(testing::AttachedEventLoop& loops, store::Database& db,
                 const std::vector<RotateRequest>& requests)
      : loops_(loops),
        db_(db),
        requests_(requests),
        answers_(requests.size()),
        finished_(static_cast<std::ptrdiff_t>(requests.size())) {}

  /// Submits requests [from, to) on loop `loop_index`; returns once they are submitted.
  void submit(std::size_t from, std::size_t to, std::size_t loop_index = 0) {
    std::latch submitted(1);
    loops_.post(
        [&, from, to] {
          for (std::size_t i = from; i < to; ++i) {
            const bool started = db_.sessions().rotate_async(requests_[i], [this, i](auto result) {
              answers_[i] = std::move(result);
              finished_.count_down();
            });
            if (!started) {
              answers_[i] = store::fail(store::Errc::kInternal, "declined");
              finished_.count_down();
            }
          }
          submitted.count_down();
        },
        loop_index);
    submitted.wait();
  }

  std::vector<store::StoreResult<auth::RotateResult>> wait() {
    finished_.wait();
    std::vector<store::StoreResult<auth::RotateResult>> out;
    for (auto& a : answers_) out.push_back(std::move(*a));
    return out;
  }

 private:
  testing::AttachedEventLoop& loops_;
  store::Database& db_;
  const std::vector<RotateRequest>& requests_;
  std::vector<std::optional<store::StoreResult<auth::RotateResult>>> answers_;
  std::latch finished_;
};

// Rotations from one loop, all at once, for more families than the pool has connections.
// Runs them and returns each answer in the order they were posted.
std::vector<store::StoreResult<auth::RotateResult>> rotate_all_at_once(
    testing::AttachedEventLoop& loop, store::Database& db, const std::vector<RotateRequest>& rs) {
  AsyncRotations rotations(loop, db, rs);
  rotations.submit(0, rs.size());
  return rotations.wait();
}

// Under load the rotations that queue behind the one connection go out together: forty
// refreshes cost a handful of round trips, and each family still gains exactly its successor.
TEST_F(PostgresTest, QueuedAsyncRotationsGoOutInBatches) {
  store::PostgresOptions o = pg_->postgres_options();
  o.pool_size = 1;
  DatabasePtr db = open_migrated(o);
  ASSERT_TRUE(db);
  std::vector<RotateRequest> requests;
  for (int i = 0; i < 40; ++i) {
    const std::string first = new_hash();
    new_family(*db, first);
    requests.push_back({first, new_hash(), kT0 + 1, 10, 3600});
  }
  testing::AttachedEventLoop loop(*db, 2);
  const std::uint64_t before = store::postgres::round_trips();
  const std::uint64_t rolled_back_before = store::postgres::batches_rolled_back();
  auto answers = rotate_all_at_once(loop, *db, requests);
  const std::uint64_t trips = store::postgres::round_trips() - before;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    ASSERT_TRUE(answers[i]) << i << ": " << answers[i].error();
    EXPECT_EQ(answers[i]->outcome, RotateOutcome::kRotated) << i;
    EXPECT_EQ(answers[i]->generation, 2) << i;
    ASSERT_TRUE(answers[i]->session);
    EXPECT_EQ(pg_->rows("SELECT 1 FROM refresh_tokens WHERE hash = '\\x" +
                        to_hex(requests[i].successor_hash) + "' AND session_id = '" +
                        answers[i]->session->id + "' AND used_at IS NULL AND generation = 2")
                  .size(),
              1u)
        << i << ": its successor is its family's live token";
  }
  // The first call alone (with its statement's preparation), then the queue in batches of at
  // most 32 (each prepared once): far fewer than the 40 round trips of one call at a time.
  std::printf("[ stats    ] 40 rotations in %llu round trips\n",
              static_cast<unsigned long long>(trips));
  EXPECT_LE(trips, 8u);
  EXPECT_EQ(store::postgres::batches_rolled_back(), rolled_back_before);
}

// One call in a batch fails (its successor collides with an existing token): the batch rolls
// back as a whole, and each call then runs alone, so only that one fails and the rest rotate.
// The batch locked its families with `id IN (SELECT session_id ...)`, which the planner ran,
// on a table of a few hundred sessions, as a scan of all of them: under the update churn of
// rotations each batch read more dead row versions, and /refresh slowed down round after round
// of the benchmark while pgbench (one family by key) did not. Families are found by key.
TEST_F(PostgresTest, RotationBatchLocksItsFamiliesByKeyNotByScanningSessions) {
  DatabasePtr db = open_migrated(pg_->postgres_options());
  ASSERT_TRUE(db);
  std::string hashes;
  for (int i = 0; i < 2; ++i) {
    const std::string first = new_hash();
    new_family(*db, first);
    hashes += std::string(i == 0 ? "" : ", ") + "'\\x" + to_hex(first) + "'::bytea";
  }
  // Other families, each with the 40 tokens of its past rotations.
  ASSERT_EQ(pg_->exec("INSERT INTO sessions (id, user_id, client_id, created_at, last_used_at,"
                      " absolute_expires_at, idle_expires_at)"
                      " SELECT gen_random_uuid(), (SELECT user_id FROM sessions LIMIT 1), 'authd',"
                      " 1, 0, 4000000000, 4000000000 FROM generate_series(1, 500);"
                      " INSERT INTO refresh_tokens (hash, session_id, generation, issued_at,"
                      " used_at, successor_hash)"
                      " SELECT sha256(convert_to(s.id || ':' || g, 'UTF8')), s.id, g, 0,"
                      " CASE WHEN g < 40 THEN 1 END,"
                      " CASE WHEN g < 40 THEN sha256(convert_to(s.id || ':' || g + 1, 'UTF8')) END"
                      " FROM sessions s, generate_series(1, 40) g WHERE s.created_at = 1;"
                      " ANALYZE sessions; ANALYZE refresh_tokens"),
            "");
  // This backend's counts not yet reported (earlier transactions' too, until the next report,
  // which never happens inside a transaction): compared before and after the batch.
  const auto scans = [&](const std::string& column) {
    return pg_->query_int("SELECT " + column +
                          " FROM pg_stat_xact_user_tables WHERE relid = 'sessions'::regclass");
  };
  // As on a long-lived connection, where plpgsql's plans become generic.
  ASSERT_EQ(pg_->exec("BEGIN; SET LOCAL plan_cache_mode = force_generic_plan"), "");
  const auto sequential_before = scans("seq_scan"), index_before = scans("idx_scan");
  ASSERT_EQ(pg_->exec("SELECT count(*) FROM authd_rotate_refresh_batch(ARRAY[" + hashes +
                      "], ARRAY[sha256('a'), sha256('b')], ARRAY[" + std::to_string(kT0 + 1) +
                      ", " + std::to_string(kT0 + 1) +
                      "]::bigint[], ARRAY[10, 10]::bigint[], ARRAY[3600, 3600]::bigint[])"),
            "");
  const auto sequential_after = scans("seq_scan"), index_after = scans("idx_scan");
  ASSERT_EQ(pg_->exec("ROLLBACK"), "");
  ASSERT_TRUE(sequential_before && index_before && sequential_after && index_after);
  EXPECT_GT(*index_after, *index_before) << "the batch ran and looked its families up";
  EXPECT_EQ(*sequential_after, *sequential_before) << "the batch read the whole sessions table";
}

// The batch rotates the calls that need no case analysis as sets (0012) and the rest one by one:
// every call must get the answer, and leave the rows, that calling authd_rotate_refresh() for
// each call in order gives. The batch mixes plain rotations with every other case: a token
// presented twice (a grace replay, then with another successor a reuse), a used token before
// its family's live one, and revoked, expired and unknown tokens.
TEST_F(PostgresTest, RotationBatchAnswersAsItsCallsWouldOneByOne) {
  DatabasePtr db = open_migrated(pg_->postgres_options());
  ASSERT_TRUE(db);
  const std::int64_t now = kT0 + 100;
  std::vector<std::string> families;
  const auto family = [&](const std::string& first) {
    families.push_back(new_family(*db, first));
    return families.back();
  };
  std::vector<RotateRequest> calls;
  const auto call = [&](const std::string& presented, const std::string& successor) {
    calls.push_back({presented, successor, now, 10, 3600});
  };
  for (int i = 0; i < 3; ++i) {  // plain
    const std::string live = new_hash();
    family(live);
    call(live, new_hash());
  }
  const std::string twice = new_hash(), twice_next = new_hash();
  family(twice);
  call(twice, twice_next);
  call(twice, twice_next);  // within grace, same successor: a replay
  const std::string forked = new_hash();
  family(forked);
  call(forked, new_hash());
  call(forked, new_hash());  // another successor: reuse, the family is revoked
  const std::string old = new_hash(), live = new_hash();
  family(old);
  ASSERT_TRUE(db->sessions().rotate({old, live, kT0 + 1, 10, 3600}));
  call(old, new_hash());  // reuse first: the live token after it finds the family revoked
  call(live, new_hash());
  const std::string revoked = new_hash();
  const std::string revoked_family = family(revoked);
  ASSERT_EQ(pg_->exec("UPDATE sessions SET revoked_at = " + std::to_string(kT0 + 2) +
                      ", revoked_reason = 'logout' WHERE id = '" + revoked_family + "'"),
            "");
  call(revoked, new_hash());
  const std::string expired = new_hash();
  const std::string expired_family = family(expired);
  ASSERT_EQ(pg_->exec("UPDATE sessions SET idle_expires_at = " + std::to_string(kT0 + 50) +
                      " WHERE id = '" + expired_family + "'"),
            "");
  call(expired, new_hash());
  call(new_hash(), new_hash());  // unknown
  for (int i = 0; i < 2; ++i) {  // plain, after the others
    const std::string token = new_hash();
    family(token);
    call(token, new_hash());
  }

  const auto bytea = [](const std::string& hash) { return "'\\x" + to_hex(hash) + "'::bytea"; };
  const std::string answer_columns =
      "o_outcome, o_generation, o_id, o_user_id, o_client_id, o_created_at, o_last_used_at,"
      " o_absolute_expires_at, o_idle_expires_at, o_revoked_at, o_revoked_reason,"
      " o_session_generation, o_user_disabled, o_user_roles, o_user_tenant";
  std::string ids;
  for (const auto& id : families) ids += (ids.empty() ? "'" : ", '") + id + "'";
  const auto state = [&] {
    Rows rows = pg_->rows(
        "SELECT id, generation, last_used_at, idle_expires_at, revoked_at, revoked_reason"
        " FROM sessions WHERE id IN (" +
        ids + ") ORDER BY id");
    Rows tokens = pg_->rows(
        "SELECT encode(hash, 'hex'), session_id, generation, issued_at, used_at,"
        " encode(successor_hash, 'hex') FROM refresh_tokens WHERE session_id IN (" +
        ids + ") ORDER BY 1");
    rows.insert(rows.end(), tokens.begin(), tokens.end());
    return rows;
  };

  ASSERT_EQ(pg_->exec("BEGIN"), "");
  Rows one_by_one;
  for (const auto& c : calls) {
    Rows answer = pg_->rows("SELECT " + answer_columns + " FROM authd_rotate_refresh(" +
                            bytea(c.presented_hash) + ", " + bytea(c.successor_hash) + ", " +
                            std::to_string(c.now) + ", 10, 3600)");
    ASSERT_EQ(answer.size(), 1u);
    one_by_one.push_back(answer[0]);
  }
  const Rows state_one_by_one = state();
  ASSERT_EQ(pg_->exec("ROLLBACK"), "");

  std::string hashes, successors, nows;
  for (const auto& c : calls) {
    hashes += (hashes.empty() ? "" : ", ") + bytea(c.presented_hash);
    successors += (successors.empty() ? "" : ", ") + bytea(c.successor_hash);
    nows += (nows.empty() ? "" : ", ") + std::to_string(c.now);
  }
  const std::string n = std::to_string(calls.size());
  ASSERT_EQ(pg_->exec("BEGIN"), "");
  const Rows batched = pg_->rows(
      "SELECT " + answer_columns + " FROM authd_rotate_refresh_batch(ARRAY[" + hashes +
      "], ARRAY[" + successors + "], ARRAY[" + nows + "]::bigint[], array_fill(10::bigint, ARRAY[" +
      n + "]), array_fill(3600::bigint, ARRAY[" + n + "])) ORDER BY o_index");
  const Rows state_batched = state();
  ASSERT_EQ(pg_->exec("ROLLBACK"), "");

  ASSERT_EQ(batched.size(), calls.size());
  for (std::size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(batched[i], one_by_one[i]) << "call " << i + 1 << " (" << one_by_one[i][0] << ")";
  }
  EXPECT_EQ(state_batched, state_one_by_one);
  const auto outcomes = [&](const Rows& answers) {
    std::vector<std::string> out;
    for (const auto& a : answers) out.push_back(a[0]);
    return out;
  };
  EXPECT_EQ(outcomes(one_by_one),
            (std::vector<std::string>{"rotated", "rotated", "rotated", "rotated", "grace_replay",
                                      "rotated", "reuse_detected", "reuse_detected", "revoked",
                                      "revoked", "expired", "unknown", "rotated", "rotated"}))
      << "the batch covers every case";
}

TEST_F(PostgresTest, AFailedBatchRunsEachRotationAlone) {
  store::PostgresOptions o = pg_->postgres_options();
  o.pool_size = 1;
  DatabasePtr db = open_migrated(o);
  ASSERT_TRUE(db);
  const std::string taken = new_hash();
  new_family(*db, taken);
  std::vector<RotateRequest> requests;
  for (int i = 0; i < 12; ++i) {
    const std::string first = new_hash();
    new_family(*db, first);
    requests.push_back({first, i == 6 ? taken : new_hash(), kT0 + 1, 10, 3600});
  }
  testing::AttachedEventLoop loop(*db, 2);
  const std::uint64_t rolled_back_before = store::postgres::batches_rolled_back();
  auto answers = rotate_all_at_once(loop, *db, requests);
  EXPECT_EQ(store::postgres::batches_rolled_back() - rolled_back_before, 1u);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    if (i == 6) {
      ASSERT_FALSE(answers[i]) << "a successor that collides fails";
      EXPECT_EQ(answers[i].error().code, store::Errc::kConflict) << answers[i].error();
      continue;
    }
    ASSERT_TRUE(answers[i]) << i << ": " << answers[i].error();
    EXPECT_EQ(answers[i]->outcome, RotateOutcome::kRotated) << i;
  }
  EXPECT_EQ(pg_->rows("SELECT 1 FROM refresh_tokens WHERE hash = '\\x" +
                      to_hex(requests[6].presented_hash) + "' AND used_at IS NULL")
                .size(),
            1u)
      << "the failed call changed nothing: its token is still live";
}

// Several loops send batches at once over crossing families (each batch presents tokens of
// families the others present too): batches lock their families in one order, so none waits
// for another in a cycle, and every family gains exactly one successor.
TEST_F(PostgresTest, ConcurrentBatchesOverTheSameFamiliesDoNotDeadlock) {
  store::PostgresOptions o = pg_->postgres_options();
  o.pool_size = 2;
  DatabasePtr db = open_migrated(o);
  ASSERT_TRUE(db);
  constexpr int kFamilies = 24;
  std::vector<std::string> firsts, nexts;
  for (int i = 0; i < kFamilies; ++i) {
    firsts.push_back(new_hash());
    nexts.push_back(new_hash());
    new_family(*db, firsts.back());
  }
  std::vector<std::string> warm_ups{new_hash(), new_hash()};
  for (const std::string& first : warm_ups) new_family(*db, first);
  testing::AttachedEventLoop loops(*db, 2, /*loops=*/2);
  // Loop A presents the families in order, loop B in reverse: the same token with the same
  // successor (a retried request), so one of each pair rotates and the other is a replay.
  std::vector<RotateRequest> forward, backward;
  for (int i = 0; i < kFamilies; ++i) {
    const auto f = static_cast<std::size_t>(i);
    const auto b = static_cast<std::size_t>(kFamilies - 1 - i);
    forward.push_back({firsts[f], nexts[f], kT0 + 1, 10, 3600});
    backward.push_back({firsts[b], nexts[b], kT0 + 1, 10, 3600});
  }
  const auto batched_before = store::postgres::batched_calls();
  const auto rolled_back_before = store::postgres::batches_rolled_back();
  const auto blocked_by_us = [&](std::int64_t n) {
    return testing::eventually([&] {
      return pg_->query_int(
                 "SELECT count(DISTINCT l.pid) FROM pg_locks l WHERE NOT l.granted"
                 " AND pg_backend_pid() = ANY (pg_blocking_pids(l.pid))") == n;
    });
  };
  // Two blocking rotations that wait on a lock held here at once: the pool opens its second
  // connection, so that each loop finds one idle below.
  ASSERT_EQ(pg_->exec("BEGIN; SELECT 1 FROM sessions FOR UPDATE"), "");
  std::vector<std::future<void>> openers;
  for (const std::string& first : warm_ups) {
    openers.push_back(std::async(std::launch::async, [&db, first, next = new_hash()] {
      (void)db->sessions().rotate({first, next, kT0 + 1, 10, 3600});
    }));
  }
  ASSERT_TRUE(blocked_by_us(2));
  ASSERT_EQ(pg_->exec("COMMIT"), "");
  for (auto& opener : openers) opener.get();
  // Each loop's first call takes one of the two connections and waits there on the lock; the
  // rest queue behind it. Once the lock goes, both queues leave as batches at once.
  ASSERT_EQ(pg_->exec("BEGIN; SELECT 1 FROM sessions FOR UPDATE"), "");
  AsyncRotations a(loops, *db, forward), b(loops, *db, backward);
  a.submit(0, 1, 0);
  b.submit(0, 1, 1);
  ASSERT_TRUE(blocked_by_us(2));
  a.submit(1, forward.size(), 0);
  b.submit(1, backward.size(), 1);
  ASSERT_EQ(pg_->exec("COMMIT"), "");
  auto a_answers = a.wait();
  auto b_answers = b.wait();
  for (const auto* answers : {&a_answers, &b_answers}) {
    for (const auto& r : *answers) {
      ASSERT_TRUE(r) << r.error();
      EXPECT_TRUE(r->outcome == RotateOutcome::kRotated ||
                  r->outcome == RotateOutcome::kGraceReplay);
      EXPECT_EQ(r->generation, 2);
    }
  }
  EXPECT_EQ(
      pg_->rows("SELECT 1 FROM refresh_tokens WHERE used_at IS NULL AND generation = 2").size(),
      static_cast<std::size_t>(kFamilies) + warm_ups.size());
  EXPECT_GT(store::postgres::batched_calls() - batched_before, 20u) << "the loops sent batches";
  // A deadlock would abort one batch (after deadlock_timeout), whose calls then run alone.
  EXPECT_EQ(store::postgres::batches_rolled_back() - rolled_back_before, 0u);
}

// Two loops and a pool of one: the loop without the connection used to decline its calls (its
// callers then blocked a worker each on the pool, behind a loop that kept the connection for as
// long as its own queue lasted: the refresh benchmark's long tail). Now it queues them and the
// pool hands it the connection when the other loop gives it back, which it does as soon as
// someone waits.
TEST_F(PostgresTest, LoopsTakeTurnsOnAFullPoolInsteadOfDeclining) {
  store::PostgresOptions o = pg_->postgres_options();
  o.pool_size = 1;
  DatabasePtr db = open_migrated(o);
  ASSERT_TRUE(db);
  std::vector<RotateRequest> first_loop, second_loop;
  for (auto* requests : {&first_loop, &second_loop}) {
    for (int i = 0; i < 20; ++i) {
      const std::string first = new_hash();
      new_family(*db, first);
      requests->push_back({first, new_hash(), kT0 + 1, 10, 3600});
    }
  }
  testing::AttachedEventLoop loops(*db, 2, /*loops=*/2);
  AsyncRotations a(loops, *db, first_loop), b(loops, *db, second_loop);
  a.submit(0, first_loop.size(), 0);
  b.submit(0, second_loop.size(), 1);
  for (const auto& answers : {a.wait(), b.wait()}) {
    for (const auto& r : answers) {
      ASSERT_TRUE(r) << r.error();
      EXPECT_EQ(r->outcome, RotateOutcome::kRotated);
    }
  }
}

}  // namespace
}  // namespace authd::contract
