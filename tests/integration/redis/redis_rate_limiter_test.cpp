// RedisRateLimiter against a real redis-server: one limit shared by two clients (two authd
// processes), expiry of idle keys, agreement with the in-process limiter, the script cache,
// and Redis outages. The decisions every auth::RateLimiter makes are checked on this one too
// in tests/contract/rate_limiter_contract_test.cpp.

#include "authd/cache/redis_rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "authd/cache/local_rate_limiter.h"
#include "support/redis_server.h"

namespace authd::cache {
namespace {

using namespace std::chrono_literals;
using testing::connect_or_fail;
using testing::eventually;
using testing::shared_redis_options;

std::string unique_key(const std::string& base) {
  static std::atomic<int> n{0};
  return base + ":" + std::to_string(::getpid()) + ":" + std::to_string(++n) + ":" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

class RedisRateLimiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = connect_or_fail(shared_redis_options());
    ASSERT_TRUE(client_);
    limiter_ = std::make_unique<RedisRateLimiter>(*client_, fallback_);
  }

  SystemClock clock_;
  LocalRateLimiter fallback_{clock_};
  std::unique_ptr<RedisClient> client_;
  std::unique_ptr<RedisRateLimiter> limiter_;
};

// The event-loop form answers on the Redis thread; while Redis is down, at once from the
// fallback (degraded). Its decisions are those of check() (the contract suite).
TEST_F(RedisRateLimiterTest, CheckAsyncAnswersOnTheRedisThreadAndDegradesWhenDown) {
  const auth::Limit limit{60, 3};
  auto check_async = [](RedisRateLimiter& l, const std::string& k, const auth::Limit& lim) {
    std::promise<std::pair<auth::Decision, std::thread::id>> answer;
    auto f = answer.get_future();
    l.check_async(k, lim, 1, [&answer](auth::Decision d) {
      answer.set_value({d, std::this_thread::get_id()});
    });
    EXPECT_EQ(f.wait_for(2s), std::future_status::ready);
    return f.get();
  };
  EXPECT_TRUE(limiter_->checks_async());
  auto [up, io_thread] = check_async(*limiter_, unique_key("async"), limit);
  EXPECT_TRUE(up.allowed);
  EXPECT_FALSE(up.degraded);
  EXPECT_NE(io_thread, std::this_thread::get_id());

  authd::testing::TempDir dir;
  testing::RedisServer server(dir.path(), "async-down", {});
  ASSERT_TRUE(server.start());
  auto own = connect_or_fail(server.options());
  ASSERT_TRUE(own);
  RedisRateLimiter limiter(*own, fallback_);
  server.stop();
  ASSERT_TRUE(eventually([&] { return !own->available(); }, 3s));
  const std::string down_key = unique_key("async-down");
  auto [d, thread] = check_async(limiter, down_key, limit);
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.degraded);
  EXPECT_EQ(thread, std::this_thread::get_id()) << "answered at once, not via Redis";
}

TEST_F(RedisRateLimiterTest, TwoProcessesShareOneLimit) {
  // Two clients (two connections), two limiters: what two authd replicas do.
  auto other_client = connect_or_fail(shared_redis_options());
  ASSERT_TRUE(other_client);
  LocalRateLimiter other_fallback(clock_);
  RedisRateLimiter other(*other_client, other_fallback);
  const auth::Limit limit{1, 50};  // practically no refill during the test
  const std::string key = unique_key("shared");

  std::atomic<int> allowed{0};
  std::atomic<int> degraded{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    RedisRateLimiter* which = t % 2 == 0 ? limiter_.get() : &other;
    threads.emplace_back([&, which] {
      for (int i = 0; i < 40; ++i) {
        auto d = which->check(key, limit);
        if (d.allowed) ++allowed;
        if (d.degraded) ++degraded;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(degraded.load(), 0);
  EXPECT_EQ(allowed.load(), 50);  // 160 attempts, one limit of 50 across both
  // Both see the same bucket.
  EXPECT_FALSE(limiter_->peek(key, limit).allowed);
  EXPECT_FALSE(other.peek(key, limit).allowed);
}

TEST_F(RedisRateLimiterTest, KeysExpireWhenTheBucketIsFull) {
  const auth::Limit limit{6000, 3};  // one per 10 ms: full 30 ms after the last take
  const std::string key = unique_key("expire");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter_->check(key, limit).allowed);
  auto pttl = client_->command({"PTTL", "authd:rl:" + key});
  ASSERT_TRUE(pttl);
  EXPECT_GT(pttl->integer, 0);
  EXPECT_LE(pttl->integer, 30);
  EXPECT_TRUE(eventually(
      [&] {
        return client_->command({"EXISTS", "authd:rl:" + key})->integer == 0;
      },
      200ms));
  // A slow limit keeps its key exactly until full: 2 tokens at 1/min = 2 minutes.
  const std::string slow = unique_key("slow");
  limiter_->check(slow, auth::Limit{1, 5}, 2);
  auto slow_ttl = client_->command({"PTTL", "authd:rl:" + slow});
  ASSERT_TRUE(slow_ttl);
  EXPECT_LE(slow_ttl->integer, 120'000);
  EXPECT_GT(slow_ttl->integer, 119'000);
  limiter_->reset(slow);
  EXPECT_EQ(client_->command({"EXISTS", "authd:rl:" + slow})->integer, 0);
}

TEST_F(RedisRateLimiterTest, PrefixOption) {
  RedisRateLimiter prefixed(*client_, fallback_, {.prefix = "other:rl:"});
  const std::string key = unique_key("prefix");
  prefixed.check(key, auth::Limit{1, 5});
  EXPECT_EQ(client_->command({"EXISTS", "other:rl:" + key})->integer, 1);
  EXPECT_EQ(client_->command({"EXISTS", "authd:rl:" + key})->integer, 0);
  prefixed.reset(key);
}

TEST_F(RedisRateLimiterTest, SameDecisionsAsTheLocalLimiter) {
  // With a slow rate, time between calls does not matter: the Lua script and the C++ GCRA
  // must then agree call for call.
  const auth::Limit limit{1, 20};
  const std::string key = unique_key("agree");
  SystemClock clock;
  LocalRateLimiter local(clock);
  const std::int64_t costs[] = {1, 3, 0, 5, 7, 2, 9, 1, 1, 1, 4, 1, 30, 1};
  for (auto cost : costs) {
    auto r = limiter_->check(key, limit, cost);
    auto l = local.check(key, limit, cost);
    EXPECT_EQ(r.allowed, l.allowed) << "cost " << cost;
    EXPECT_EQ(r.remaining, l.remaining) << "cost " << cost;
    EXPECT_NEAR(static_cast<double>(r.retry_after_ms), static_cast<double>(l.retry_after_ms), 20.0);
    EXPECT_NEAR(static_cast<double>(r.reset_ms), static_cast<double>(l.reset_ms), 20.0);
  }
}

TEST_F(RedisRateLimiterTest, ScriptIsReloadedAfterScriptFlush) {
  // Own server: SCRIPT FLUSH on the shared one would disturb tests running in parallel.
  authd::testing::TempDir dir;
  testing::RedisServer server(dir.path(), "flush", {});
  ASSERT_TRUE(server.start());
  auto client = connect_or_fail(server.options());
  ASSERT_TRUE(client);
  RedisRateLimiter limiter(*client, fallback_);
  const std::string key = unique_key("flush");
  ASSERT_FALSE(limiter.check(key, auth::Limit{60, 1}).degraded);
  ASSERT_TRUE(client->command({"SCRIPT", "FLUSH"}));
  const auto before = client->stats().noscript_reloads;
  auto d = limiter.check(key, auth::Limit{60, 1});
  EXPECT_FALSE(d.degraded);
  EXPECT_FALSE(d.allowed);  // the state survived: only the script cache was flushed
  EXPECT_EQ(client->stats().noscript_reloads, before + 1);
}

}  // namespace
}  // namespace authd::cache
