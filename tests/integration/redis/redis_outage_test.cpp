// Redis killed and restarted under load: calls return within their timeout with fallback
// (or fail-closed) decisions, nothing crashes or hangs, and the client comes back by itself.

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <thread>
#include <vector>

#include "authd/cache/local_rate_limiter.h"
#include "authd/cache/redis_rate_limiter.h"
#include "authd/cache/redis_revocation_list.h"
#include "support/redis_server.h"
#include "support/stopwatch.h"

namespace authd::cache {
namespace {

using namespace std::chrono_literals;
using testing::connect_or_fail;
using testing::eventually;
using testing::ms_since;
using testing::RedisServer;
using Ms = std::chrono::milliseconds;

class RedisOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<RedisServer>(dir_.path(), "outage", RedisServer::Config{});
    ASSERT_TRUE(server_->start());
  }
  RedisOptions options() const {
    RedisOptions o = server_->options();
    o.command_timeout = 50ms;
    return o;
  }

  authd::testing::TempDir dir_;
  std::unique_ptr<RedisServer> server_;
  SystemClock clock_;
};

TEST_F(RedisOutageTest, KilledRedisDegradesAndRecoversByItself) {
  auto client = connect_or_fail(options());
  ASSERT_TRUE(client);
  testing::StateLog states;
  auto state = client->on_state_change(states.recorder());

  LocalRateLimiter fallback(clock_);
  RedisRateLimiter limiter(*client, fallback, {.fallback_factor = 0.5});
  RedisRateLimiter strict(*client, fallback, {.down_policy = RedisDownPolicy::kFailClosed});
  const auth::Limit limit{60, 10};
  ASSERT_FALSE(limiter.check("ip:1", limit).degraded);

  // Load from several threads throughout the outage.
  std::atomic<bool> stop{false};
  std::atomic<double> worst_ms{0};
  std::atomic<int> calls{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t) {
    load.emplace_back([&, t] {
      while (!stop) {
        const auto t0 = std::chrono::steady_clock::now();
        limiter.check("load:" + std::to_string(t), auth::Limit{6000, 1000});
        const double took = ms_since(t0);
        double prev = worst_ms.load();
        while (took > prev && !worst_ms.compare_exchange_weak(prev, took)) {
        }
        ++calls;
        std::this_thread::sleep_for(1ms);  // paces the load; not a wait for anything
      }
    });
  }
  ASSERT_TRUE(eventually([&] { return calls.load() >= 8; }, 5s)) << "the load is running";

  server_->kill9();
  ASSERT_TRUE(eventually([&] { return !client->available(); }, 1s));
  const auto down_at = std::chrono::steady_clock::now();

  // Fallback: the local limiter at half the rate and burst, marked degraded.
  int allowed = 0;
  for (int i = 0; i < 10; ++i) {
    auto d = limiter.check("ip:down", limit);
    EXPECT_TRUE(d.degraded);
    EXPECT_EQ(d.limit, 5);
    allowed += d.allowed ? 1 : 0;
  }
  EXPECT_EQ(allowed, 5);
  auto closed = strict.check("ip:down2", limit);
  EXPECT_FALSE(closed.allowed);
  EXPECT_TRUE(closed.degraded);
  EXPECT_EQ(closed.retry_after_ms, 1000);
  auto raw = client->command({"PING"});
  ASSERT_FALSE(raw);
  EXPECT_EQ(raw.error().code, Errc::kUnavailable);

  // Behaviour under test: the client still reconnects once its backoff has grown to the cap.
  std::this_thread::sleep_for(1500ms);
  ASSERT_TRUE(server_->start());  // same port
  const auto restarted_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return client->available(); }, 3s));
  const double reconnect_ms = ms_since(restarted_at);
  const double outage_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - down_at).count();
  std::cout << "[ MEASURE  ] reconnect after restart: " << reconnect_ms << " ms (outage "
            << outage_ms << " ms); worst check latency during the outage " << worst_ms.load()
            << " ms over " << calls.load() << " calls\n";

  auto back = limiter.check("ip:back", limit);
  EXPECT_FALSE(back.degraded);
  EXPECT_TRUE(back.allowed);
  EXPECT_EQ(back.remaining, 9);  // Redis decides again, with the full limit

  stop = true;
  for (auto& t : load) t.join();
  // (The leading `true` is the state at registration, which on_state_change reports.)
  const auto transitions = states.seen();
  auto first_down = std::find(transitions.begin(), transitions.end(), false);
  ASSERT_NE(first_down, transitions.end());
  EXPECT_TRUE(transitions.back());
}

TEST_F(RedisOutageTest, CallsInFlightWhenRedisDiesFailFast) {
  auto client = connect_or_fail(options());
  ASSERT_TRUE(client);
  // The server sleeps longer than the call's timeout; the PING, pipelined behind the sleep,
  // can only be answered by the connection's end.
  client->command_async({"DEBUG", "SLEEP", "5"});
  std::atomic<int> code{-1};
  std::thread caller([&] {
    auto r = client->command({"PING"}, 2s);
    code = r ? 0 : static_cast<int>(r.error().code);
  });
  ASSERT_TRUE(eventually([&] { return client->stats().calls >= 1; }, 5s));
  server_->kill9();
  caller.join();
  EXPECT_EQ(code.load(), static_cast<int>(Errc::kUnavailable)) << "the EOF, not the timeout";
}

TEST_F(RedisOutageTest, HungServerIsDetectedByTheHealthCheck) {
  RedisOptions o = options();
  o.health_interval = 100ms;
  o.health_timeout = 300ms;
  o.connect_timeout = 200ms;
  auto client = connect_or_fail(o);
  ASSERT_TRUE(client);
  const auto pid = server_->pid().value_or(0);
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGSTOP);  // no EOF, no RST: only silence
  const auto t0 = std::chrono::steady_clock::now();
  auto r = client->command({"PING"});
  EXPECT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kTimeout);
  const bool detected = eventually([&] { return !client->available(); }, 2s);
  const double detect_ms = ms_since(t0);
  ::kill(pid, SIGCONT);
  ASSERT_TRUE(detected);
  std::cout << "[ MEASURE  ] hung server detected after " << detect_ms << " ms\n";
  EXPECT_TRUE(eventually([&] { return client->available(); }, 3s)) << client->last_error();
  EXPECT_TRUE(client->command({"PING"}));
}

TEST_F(RedisOutageTest, RevocationsMadeDuringTheOutageAreWrittenAfterIt) {
  auto client = connect_or_fail(options());
  ASSERT_TRUE(client);
  std::atomic<int> resubscribed{0};
  // On the client, before the list subscribes, so that the first "subscribed" is seen.
  auto handle = client->on_resubscribed([&] { ++resubscribed; });
  RedisRevocationList list(*client, clock_);
  ASSERT_TRUE(eventually([&] { return resubscribed.load() >= 1; }, 2s));

  server_->kill9();
  ASSERT_TRUE(eventually([&] { return !client->available(); }, 1s));
  list.revoke_session("during-outage", clock_.now_unix() + 600);
  EXPECT_EQ(list.is_session_revoked("during-outage"), true);  // local
  EXPECT_EQ(list.is_session_revoked("other"), std::nullopt);  // ask the store
  EXPECT_EQ(list.pending(), 1u);

  ASSERT_TRUE(server_->start());
  ASSERT_TRUE(eventually([&] { return client->available(); }, 3s));
  EXPECT_TRUE(eventually(
      [&] {
        return server_->cli({"EXISTS", "authd:rev:sid:during-outage"}).value_or("") == "1";
      },
      1s));
  EXPECT_EQ(list.pending(), 0u);
  // And the lead's resync hook fired again once the subscription was back.
  EXPECT_TRUE(eventually([&] { return resubscribed.load() >= 2; }, 3s));
  EXPECT_EQ(list.is_session_revoked("other"), false);
}

TEST_F(RedisOutageTest, DestroyingTheClientWhileDownOrReconnectingIsClean) {
  for (int i = 0; i < 5; ++i) {
    auto client = RedisClient::create(options());
    ASSERT_TRUE(client);
    auto sub = (*client)->subscribe("x", [](const std::string&) {});
    if (i % 2 == 0) (*client)->wait_until_available(1s);
    (*client)->reconnect();
  }
  server_->kill9();
  for (int i = 0; i < 5; ++i) {
    auto client = RedisClient::create(options());
    ASSERT_TRUE(client);
    // Behaviour under test: destruction at different stages of the reconnect loop.
    std::this_thread::sleep_for(Ms(i * 20));
  }
}

}  // namespace
}  // namespace authd::cache
