// auth::RateLimiter contract: burst then refusal with honest retry/reset figures, refill over
// time, cost, peek, reset, independent keys, invalid limits, concurrency, and check_async.
// Runs against LocalRateLimiter (on a FakeClock) and RedisRateLimiter (on Redis' clock).
// Redis-only behaviour (outage fallback, one limit shared by two clients, key expiry, the
// Lua script against the C++ GCRA) is in tests/integration/redis/redis_rate_limiter_test.cpp.

#include <atomic>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "authd/cache/local_rate_limiter.h"
#include "authd/cache/redis_rate_limiter.h"
#include "contract/cache_backend.h"
#include "support/fake_clock.h"

namespace authd::contract {
namespace {

using namespace std::chrono_literals;

class RateLimiterContract : public ::testing::TestWithParam<CacheImpl> {
 protected:
  void SetUp() override {
    if (GetParam() == CacheImpl::kLocal) {
      limiter_ = std::make_unique<cache::LocalRateLimiter>(fake_clock_);
      return;
    }
    client_ = testing::connect_or_fail(testing::shared_redis_options());
    ASSERT_TRUE(client_);
    limiter_ = std::make_unique<cache::RedisRateLimiter>(*client_, fallback_);
  }

  auth::RateLimiter& limiter() { return *limiter_; }

  /// Lets `d` pass for the buckets. The local limiter's fake clock jumps; Redis decides on
  /// its own clock (TIME), so there the wait in real time is the behaviour under test.
  void let_pass(std::chrono::milliseconds d) {
    if (GetParam() == CacheImpl::kLocal) {
      fake_clock_.advance(d);
    } else {
      std::this_thread::sleep_for(d);
    }
  }

  /// A figure of a decision (retry_after_ms, reset_ms): exact on the fake clock; on Redis'
  /// clock, which moves while the test runs, up to a few ms less.
  void expect_ms(std::int64_t actual, std::int64_t expected, const std::string& what) const {
    const std::int64_t slack = GetParam() == CacheImpl::kLocal ? 0 : 50;
    EXPECT_LE(actual, expected) << what;
    EXPECT_GE(actual, expected - slack) << what;
  }

  authd::testing::FakeClock fake_clock_;
  SystemClock system_clock_;
  cache::LocalRateLimiter fallback_{system_clock_};
  std::unique_ptr<cache::RedisClient> client_;
  std::unique_ptr<auth::RateLimiter> limiter_;
};

// 60/min: one token per second.
constexpr auth::Limit kPerSecondBurst5{60, 5};

TEST_P(RateLimiterContract, BurstThenRefusalWithRetryAfterAndReset) {
  const std::string key = unique_name("burst");
  for (int i = 0; i < 5; ++i) {
    auto d = limiter().check(key, kPerSecondBurst5);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_FALSE(d.degraded);
    EXPECT_EQ(d.limit, 5);
    EXPECT_EQ(d.remaining, 4 - i);
    expect_ms(d.reset_ms, (i + 1) * 1000, "reset_ms after " + std::to_string(i + 1));
  }
  auto denied = limiter().check(key, kPerSecondBurst5);
  EXPECT_FALSE(denied.allowed);
  EXPECT_FALSE(denied.degraded);
  EXPECT_EQ(denied.remaining, 0);
  expect_ms(denied.retry_after_ms, 1000, "one token's interval");
  expect_ms(denied.reset_ms, 5000, "the whole burst");
}

TEST_P(RateLimiterContract, RefillsOverTimeNeverAboveTheBurst) {
  const auth::Limit limit{600, 2};  // one per 100 ms, burst 2
  const std::string key = unique_name("refill");
  ASSERT_TRUE(limiter().check(key, limit).allowed);
  ASSERT_TRUE(limiter().check(key, limit).allowed);
  auto denied = limiter().check(key, limit);
  ASSERT_FALSE(denied.allowed);
  expect_ms(denied.retry_after_ms, 100, "retry_after_ms");
  let_pass(std::chrono::milliseconds(denied.retry_after_ms + 5));
  EXPECT_TRUE(limiter().check(key, limit).allowed) << "Retry-After was honest";
  EXPECT_FALSE(limiter().check(key, limit).allowed) << "one token came back, not two";
  let_pass(250ms);  // full again, and never above the burst
  EXPECT_TRUE(limiter().check(key, limit).allowed);
  EXPECT_TRUE(limiter().check(key, limit).allowed);
  EXPECT_FALSE(limiter().check(key, limit).allowed);
}

TEST_P(RateLimiterContract, KeysAreIndependent) {
  const std::string a = unique_name("a");
  const std::string b = unique_name("b");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter().check(a, kPerSecondBurst5).allowed);
  EXPECT_FALSE(limiter().check(a, kPerSecondBurst5).allowed);
  EXPECT_TRUE(limiter().check(b, kPerSecondBurst5).allowed);
}

TEST_P(RateLimiterContract, CostTakesSeveralTokens) {
  const std::string key = unique_name("cost");
  auto d = limiter().check(key, kPerSecondBurst5, 3);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 2);
  d = limiter().check(key, kPerSecondBurst5, 3);
  EXPECT_FALSE(d.allowed);
  expect_ms(d.retry_after_ms, 1000, "until the third token is back");
  EXPECT_TRUE(limiter().check(key, kPerSecondBurst5, 2).allowed);
}

TEST_P(RateLimiterContract, CostPeekAndOversizedCost) {
  const auth::Limit limit{1, 10};  // practically no refill during the test
  const std::string key = unique_name("cost-peek");
  auto p = limiter().peek(key, limit);
  EXPECT_FALSE(p.degraded) << "answered by the fallback limiter, not the contract's store";
  EXPECT_TRUE(p.allowed);
  EXPECT_EQ(p.remaining, 9);
  auto d = limiter().check(key, limit, 7);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 3);
  EXPECT_EQ(limiter().peek(key, limit).remaining, 2);  // peek: what one more would leave
  EXPECT_EQ(limiter().peek(key, limit).remaining, 2);  // and it took nothing
  EXPECT_FALSE(limiter().check(key, limit, 4).allowed);
  EXPECT_TRUE(limiter().check(key, limit, 3).allowed);
  EXPECT_FALSE(limiter().check(unique_name("big"), limit, 11).allowed) << "cost above burst";
}

TEST_P(RateLimiterContract, PeekDoesNotConsume) {
  const std::string key = unique_name("peek");
  for (int i = 0; i < 3; ++i) {
    auto p = limiter().peek(key, kPerSecondBurst5);
    EXPECT_TRUE(p.allowed);
    EXPECT_EQ(p.remaining, 4);
  }
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter().check(key, kPerSecondBurst5).allowed);
  auto p = limiter().peek(key, kPerSecondBurst5);
  EXPECT_FALSE(p.allowed);
  expect_ms(p.retry_after_ms, 1000, "peek's retry_after_ms");
}

TEST_P(RateLimiterContract, ResetForgetsTheBucket) {
  const std::string key = unique_name("reset");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter().check(key, kPerSecondBurst5).allowed);
  ASSERT_FALSE(limiter().check(key, kPerSecondBurst5).allowed);
  limiter().reset(key);
  auto d = limiter().check(key, kPerSecondBurst5);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 4);
  limiter().reset(unique_name("never-seen"));  // no-op
}

TEST_P(RateLimiterContract, InvalidLimitFailsClosed) {
  const std::string key = unique_name("invalid");
  for (auto limit : {auth::Limit{0, 5}, auth::Limit{60, 0}, auth::Limit{-1, -1}}) {
    auto d = limiter().check(key, limit);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.retry_after_ms, 60'000);
    EXPECT_FALSE(limiter().peek(key, limit).allowed);
  }
}

TEST_P(RateLimiterContract, ConcurrentChecksNeverExceedTheBurst) {
  const auth::Limit limit{1, 50};  // practically no refill during the test
  const std::string key = unique_name("concurrent");
  std::atomic<int> allowed{0};
  std::atomic<int> degraded{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 40; ++i) {
        auto d = limiter().check(key, limit);
        if (d.allowed) ++allowed;
        if (d.degraded) ++degraded;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(degraded.load(), 0);
  EXPECT_EQ(allowed.load(), 50) << "160 attempts, one burst of 50";
  EXPECT_FALSE(limiter().peek(key, limit).allowed);
}

// The event-loop form: the same bucket and decisions as check(), each answered once.
TEST_P(RateLimiterContract, CheckAsyncDecidesAsCheckAndAnswersExactlyOnce) {
  const auth::Limit limit{60, 3};
  const std::string key = unique_name("async");
  struct Answers {
    std::atomic<int> count{0};
    std::promise<auth::Decision> first;
  };
  std::vector<std::shared_ptr<Answers>> all;
  auto check_async = [&] {
    auto answers = std::make_shared<Answers>();
    all.push_back(answers);
    auto decision = answers->first.get_future();
    limiter().check_async(key, limit, 1, [answers](auth::Decision d) {
      if (answers->count.fetch_add(1) == 0) answers->first.set_value(d);
    });
    EXPECT_EQ(decision.wait_for(5s), std::future_status::ready) << "no answer";
    return decision.get();
  };
  ASSERT_TRUE(limiter().check(key, limit).allowed);
  for (int i = 0; i < 2; ++i) {
    auto d = check_async();
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_FALSE(d.degraded);
    EXPECT_EQ(d.remaining, 1 - i);
  }
  auto denied = check_async();
  EXPECT_FALSE(denied.allowed);
  expect_ms(denied.retry_after_ms, 1000, "async retry_after_ms");
  // A later call on the same limiter has been answered, so a second answer to an earlier
  // one would have come by now.
  EXPECT_FALSE(limiter().check(key, limit).allowed) << "one bucket for both forms";
  for (const auto& answers : all) EXPECT_EQ(answers->count.load(), 1);
}

AUTHD_INSTANTIATE_CACHE_CONTRACT(RateLimiterContract);

}  // namespace
}  // namespace authd::contract
