// Sentinel: master + replica + one sentinel (quorum 1, down-after 1000 ms), all started by
// the fixture on free ports with fresh configs. The client resolves the master through the
// sentinel and follows a failover (kill -9, and a graceful SENTINEL FAILOVER).

#include <gtest/gtest.h>

#include <iostream>
#include <thread>

#include "authd/cache/local_rate_limiter.h"
#include "authd/cache/redis_client.h"
#include "authd/cache/redis_rate_limiter.h"
#include "support/http_client.h"
#include "support/process.h"
#include "support/redis_server.h"
#include "support/stopwatch.h"

namespace authd::cache {
namespace {

using namespace std::chrono_literals;
using testing::connect_or_fail;
using testing::eventually;
using testing::ms_since;
using testing::RedisServer;

class RedisSentinelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    master_ = std::make_unique<RedisServer>(dir_.path(), "master", RedisServer::Config{});
    ASSERT_TRUE(master_->start());
    RedisServer::Config rc;
    rc.replica_of = master_->port();
    replica_ = std::make_unique<RedisServer>(dir_.path(), "replica", rc);
    ASSERT_TRUE(replica_->start());
    ASSERT_TRUE(eventually(
        [&] {
          auto info = replica_->cli({"INFO", "replication"});
          return info && info->find("master_link_status:up") != std::string::npos;
        },
        5s))
        << "replica did not sync";
    RedisServer::Config sc;
    sc.sentinel_monitor_port = master_->port();
    sentinel_ = std::make_unique<RedisServer>(dir_.path(), "sentinel", sc);
    ASSERT_TRUE(sentinel_->start());
    // The sentinel promotes only a replica it knows (learnt from the master's INFO) and
    // has itself seen healthy (from the replica's own INFO): wait for both.
    ASSERT_TRUE(eventually(
        [&] {
          auto r = sentinel_->cli({"SENTINEL", "REPLICAS", "authredis"});
          return r && r->find(std::to_string(replica_->port())) != std::string::npos &&
                 r->find("flags slave ") != std::string::npos &&
                 r->find("master-link-status ok") != std::string::npos;
        },
        15s))
        << "sentinel did not discover the replica";
  }

  void TearDown() override {
    // Sentinel first, so that it does not react to the others stopping.
    if (sentinel_) sentinel_->stop();
    if (replica_) replica_->stop();
    if (master_) master_->stop();
  }

  RedisOptions options() const {
    RedisOptions o;
    o.sentinels = {{"127.0.0.1", sentinel_->port()}};
    o.master_name = "authredis";
    o.command_timeout = 100ms;
    return o;
  }

  /// SET through the client every 10 ms until it succeeds (a bounded poll of the observed
  /// state, which also measures the outage); returns the outage in ms, -1 after 20 s.
  double wait_for_writes(RedisClient& client, std::chrono::steady_clock::time_point t0) {
    for (int i = 0; i < 2000; ++i) {
      if (client.command({"SET", "authd:test:failover", std::to_string(i)})) return ms_since(t0);
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }

  authd::testing::TempDir dir_;
  std::unique_ptr<RedisServer> master_, replica_, sentinel_;
};

TEST_F(RedisSentinelTest, ResolvesTheMasterThroughTheSentinel) {
  auto client = connect_or_fail(options());
  ASSERT_TRUE(client);
  EXPECT_EQ(client->endpoint(), "127.0.0.1:" + std::to_string(master_->port()));
  EXPECT_TRUE(client->command({"SET", "k", "v"}));
}

TEST_F(RedisSentinelTest, FollowsTheReplicaPromotedAfterTheMasterIsKilled) {
  auto client = connect_or_fail(options());
  ASSERT_TRUE(client);
  SystemClock clock;
  LocalRateLimiter fallback(clock);
  RedisRateLimiter limiter(*client, fallback);
  // One per minute: the bucket (and its key) lasts longer than the failover.
  const auth::Limit slow{1, 10};
  ASSERT_FALSE(limiter.check("ip:failover", slow).degraded);
  // Replication is asynchronous: make sure the bucket reached the replica before the kill.
  ASSERT_TRUE(eventually(
      [&] {
        return replica_->cli({"EXISTS", "authd:rl:ip:failover"}).value_or("") == "1";
      },
      2s));
  std::atomic<int> resubscribed{0};
  std::atomic<int> messages{0};
  auto resub = client->on_resubscribed([&] { ++resubscribed; });
  auto sub = client->subscribe("authd:events", [&](const std::string&) { ++messages; });
  ASSERT_TRUE(eventually([&] { return resubscribed.load() == 1; }, 2s));

  const auto t0 = std::chrono::steady_clock::now();
  master_->kill9();
  const double outage = wait_for_writes(*client, t0);
  ASSERT_GT(outage, 0) << client->last_error();
  std::cout << "[ MEASURE  ] kill -9 master → first successful write on the promoted replica: "
            << outage << " ms (down-after-milliseconds 1000)\n";
  EXPECT_EQ(client->endpoint(), "127.0.0.1:" + std::to_string(replica_->port()));
  EXPECT_GE(client->stats().master_switches + client->stats().reconnects, 2u);

  // The limiter runs on the new master (its script cache is empty: NOSCRIPT → EVAL), and
  // the replicated bucket state is still there.
  auto d = limiter.check("ip:failover", slow);
  EXPECT_FALSE(d.degraded);
  EXPECT_EQ(d.remaining, 8);
  // Pub/sub followed as well.
  ASSERT_TRUE(eventually([&] { return resubscribed.load() >= 2; }, 5s));
  // A call may still meet the command link settling on the new master (it fails fast, and
  // callers fall back); within a second one reaches the subscriber.
  EXPECT_TRUE(eventually(
      [&] { return testing::receivers(client->publish("authd:events", "after failover")) >= 1; },
      1s));
  EXPECT_TRUE(eventually([&] { return messages.load() >= 1; }, 1s));
}

TEST_F(RedisSentinelTest, FollowsAGracefulFailover) {
  auto client = connect_or_fail(options());
  ASSERT_TRUE(client);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = sentinel_->cli({"SENTINEL", "FAILOVER", "authredis"});
  ASSERT_TRUE(r);
  ASSERT_EQ(*r, "OK");
  // Until the switch the old master still takes writes; wait for the client to move.
  ASSERT_TRUE(eventually(
      [&] { return client->endpoint() == "127.0.0.1:" + std::to_string(replica_->port()); }, 10s))
      << client->endpoint() << " / " << client->last_error();
  const double switch_ms = ms_since(t0);
  const double writable_ms = wait_for_writes(*client, t0);
  std::cout << "[ MEASURE  ] SENTINEL FAILOVER → client on the new master after " << switch_ms
            << " ms, writable after " << writable_ms << " ms\n";
  ASSERT_GT(writable_ms, 0);
  // The sentinel then turns the old master into a replica of the new one.
  EXPECT_TRUE(
      eventually([&] { return master_->cli({"ROLE"}).value_or("").substr(0, 5) == "slave"; }, 15s));
  EXPECT_TRUE(client->command({"SET", "authd:test:failover", "after"}));
}

// This test verifies that authd itself, configured with a redis-sentinel:// URL, follows a
// failover: after the master is killed, a logout's revocation lands on the promoted replica
// and the other bearer check sees it, and /metrics reports Redis up again.
TEST_F(RedisSentinelTest, AuthdFollowsAFailoverThroughTheSentinel) {
  authd::testing::TempDir data;
  authd::testing::Process authd(
      authd::testing::authd_binary(), {"--dev", "--listen", "127.0.0.1:0", "--data", data.path()},
      {{"AUTHD_REDIS_URL",
        "redis-sentinel://127.0.0.1:" + std::to_string(sentinel_->port()) + "/authredis"},
       {"AUTHD_LOG_FORMAT", "json"}});
  auto port = authd.wait_for_port("public");
  ASSERT_TRUE(port) << authd.stdout_text();
  auto post = [&](const std::string& path, const std::string& body,
                  std::map<std::string, std::string> h = {}) {
    h["Content-Type"] = "application/json";
    authd::testing::Connection c(*port);
    return c.request("POST", path, body, h);
  };
  ASSERT_TRUE(eventually(
      [&] {
        auto m = authd::testing::http_get(*port, "/metrics");
        return m && m->body.find("authd_redis_up 1") != std::string::npos;
      },
      5s));

  master_->kill9();
  // Promoted by the sentinel; authd finds it by itself (no restart).
  ASSERT_TRUE(eventually(
      [&] {
        auto r = sentinel_->cli({"SENTINEL", "GET-MASTER-ADDR-BY-NAME", "authredis"});
        return r && r->find(std::to_string(replica_->port())) != std::string::npos;
      },
      15s));
  ASSERT_TRUE(eventually(
      [&] {
        auto m = authd::testing::http_get(*port, "/metrics");
        return m && m->body.find("authd_redis_up 1") != std::string::npos &&
               replica_->cli({"ROLE"}).value_or("").find("master") != std::string::npos;
      },
      15s));
  auto login = post("/login", R"({"email":"demo@example.com","password":"demo-password"})");
  ASSERT_TRUE(login && login->status == 200)
      << (login ? std::to_string(login->status) : "no answer") << "\n"
      << authd.stderr_text() << authd.stdout_text();
  const auto body = login->body;
  const auto at_start = body.find("\"access_token\":\"") + 16;
  const std::string at = body.substr(at_start, body.find('"', at_start) - at_start);
  auto logout = post("/logout", "", {{"Authorization", "Bearer " + at}});
  // On failure, all there is to know: the answer, or that there was none, and authd's output
  // (a sanitizer report included).
  ASSERT_TRUE(logout && logout->status == 200)
      << (logout ? std::to_string(logout->status) + " " + logout->body : "no answer") << "\n"
      << authd.stderr_text() << authd.stdout_text();
  // The revocation reaches the new master: at once if authd already follows it, or when it
  // replays what it could not write during the switch.
  EXPECT_TRUE(eventually(
      [&] {
        return replica_->cli({"KEYS", "authd:rev:*"}).value_or("").find("authd:rev:") !=
               std::string::npos;
      },
      10s))
      << authd.stdout_text();
}

}  // namespace
}  // namespace authd::cache
