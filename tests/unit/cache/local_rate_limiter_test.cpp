// LocalRateLimiter: GCRA decisions with a pinned clock, bounded memory, and thread safety.
// What every auth::RateLimiter must do (cost, peek, reset, independent keys, ...) is in
// tests/contract/rate_limiter_contract_test.cpp, run on this limiter too.

#include "authd/cache/local_rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "cache/local/gcra.h"
#include "support/fake_clock.h"

namespace authd::cache {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;

// 60/min: one token per second.
constexpr auth::Limit kPerSecondBurst5{60, 5};

TEST(CacheLocalRateLimiterTest, BurstThenDenyWithExactRetryAfter) {
  FakeClock clock;
  LocalRateLimiter limiter(clock);
  for (int i = 0; i < 5; ++i) {
    auto d = limiter.check("k", kPerSecondBurst5);
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 4 - i);
    EXPECT_EQ(d.limit, 5);
    EXPECT_EQ(d.reset_ms, (i + 1) * 1000);
    EXPECT_FALSE(d.degraded);
  }
  auto denied = limiter.check("k", kPerSecondBurst5);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.remaining, 0);
  EXPECT_EQ(denied.retry_after_ms, 1000);
  EXPECT_EQ(denied.reset_ms, 5000);

  clock.advance(999ms);
  denied = limiter.check("k", kPerSecondBurst5);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.retry_after_ms, 1);
  clock.advance(1ms);
  EXPECT_TRUE(limiter.check("k", kPerSecondBurst5).allowed);
}

TEST(CacheLocalRateLimiterTest, RefillsAtTheRate) {
  FakeClock clock;
  LocalRateLimiter limiter(clock);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.check("k", kPerSecondBurst5).allowed);
  ASSERT_FALSE(limiter.check("k", kPerSecondBurst5).allowed);
  clock.advance(2500ms);  // 2.5 tokens back: two whole requests
  EXPECT_TRUE(limiter.check("k", kPerSecondBurst5).allowed);
  EXPECT_TRUE(limiter.check("k", kPerSecondBurst5).allowed);
  auto d = limiter.check("k", kPerSecondBurst5);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 500);
  clock.advance(60s);  // idle: full again, never more than the burst
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.check("k", kPerSecondBurst5).allowed);
  EXPECT_FALSE(limiter.check("k", kPerSecondBurst5).allowed);
}

TEST(CacheLocalRateLimiterTest, CostAboveBurstIsNeverAllowed) {
  FakeClock clock;
  LocalRateLimiter limiter(clock);
  auto d = limiter.check("k", kPerSecondBurst5, 6);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.remaining, 5);  // nothing was taken
  EXPECT_EQ(limiter.size(), 0u);
}

TEST(CacheLocalRateLimiterTest, InvalidLimitFailsClosed) {
  FakeClock clock;
  LocalRateLimiter limiter(clock);
  for (auto limit : {auth::Limit{0, 5}, auth::Limit{60, 0}, auth::Limit{-1, -1}}) {
    auto d = limiter.check("k", limit);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.retry_after_ms, 60'000);
    EXPECT_FALSE(limiter.peek("k", limit).allowed);
  }
  EXPECT_EQ(limiter.size(), 0u);
}

TEST(CacheLocalRateLimiterTest, ClockSteppingBackNeverLocksOutLongerThanARefill) {
  FakeClock clock;
  LocalRateLimiter limiter(clock);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.check("k", kPerSecondBurst5).allowed);
  clock.advance(-1h);
  auto d = limiter.check("k", kPerSecondBurst5);
  EXPECT_FALSE(d.allowed);
  EXPECT_LE(d.retry_after_ms, 1000);  // not an hour
  EXPECT_LE(d.reset_ms, 5000);
}

TEST(CacheLocalRateLimiterTest, HighRatesDoNotDivideByZero) {
  FakeClock clock;
  LocalRateLimiter limiter(clock);
  const auth::Limit huge{std::int64_t{1} << 40, 3};
  EXPECT_TRUE(limiter.check("k", huge).allowed);
  EXPECT_TRUE(limiter.check("k", huge).allowed);
  EXPECT_TRUE(limiter.check("k", huge).allowed);
  EXPECT_FALSE(limiter.check("k", huge).allowed);
  clock.advance(1us);
  EXPECT_TRUE(limiter.check("k", huge).allowed);
}

TEST(CacheLocalRateLimiterTest, FullBucketsAreSweptWithoutChangingDecisions) {
  FakeClock clock;
  LocalRateLimiter limiter(clock);
  for (int i = 0; i < 100; ++i) limiter.check("k" + std::to_string(i), kPerSecondBurst5);
  ASSERT_TRUE(limiter.check("busy", kPerSecondBurst5, 5).allowed);
  EXPECT_EQ(limiter.size(), 101u);
  clock.advance(1s);  // each k<i> is full again after 1 s; "busy" needs 5 s
  limiter.sweep();
  EXPECT_EQ(limiter.size(), 1u);
  auto d = limiter.check("k7", kPerSecondBurst5);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 4);  // same as if it had been kept
  EXPECT_EQ(limiter.check("busy", kPerSecondBurst5).remaining, 0);
}

TEST(CacheLocalRateLimiterTest, MemoryCapIsRespectedUnderAFloodOfKeys) {
  FakeClock clock;
  LocalRateLimiter limiter(clock, {.max_entries = 1000, .shards = 8});
  // The one key under attack, drained.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.check("victim", kPerSecondBurst5).allowed);
  for (int i = 0; i < 50'000; ++i) {
    limiter.check("flood:" + std::to_string(i), kPerSecondBurst5);
    if (i % 997 == 0) {
      ASSERT_LE(limiter.size(), 1000u);
    }
  }
  EXPECT_LE(limiter.size(), 1000u);
  // The flood keys hold one token each, the victim five: eviction takes the fullest first,
  // so the victim is still limited.
  EXPECT_FALSE(limiter.check("victim", kPerSecondBurst5).allowed);
}

TEST(CacheLocalRateLimiterTest, ConcurrentChecksNeverExceedTheBurst) {
  FakeClock clock;  // frozen: no refill during the test
  LocalRateLimiter limiter(clock);
  const auth::Limit limit{1, 1000};
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (limiter.check("shared", limit).allowed) ++allowed;
        limiter.check("own" + std::to_string(i % 17), limit);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1000);
}

TEST(CacheGcraTest, DecisionFields) {
  const std::int64_t now = 1'000'000'000;
  const auth::Limit limit{600, 4};  // T = 100 ms
  auto first = detail::gcra(0, now, limit, 1);
  EXPECT_TRUE(first.decision.allowed);
  EXPECT_EQ(first.new_tat, now + 100'000);
  EXPECT_EQ(first.decision.remaining, 3);
  EXPECT_EQ(first.decision.reset_ms, 100);
  auto full = detail::gcra(now + 400'000, now, limit, 1);
  EXPECT_FALSE(full.decision.allowed);
  EXPECT_EQ(full.new_tat, now + 400'000);
  EXPECT_EQ(full.decision.retry_after_ms, 100);
  EXPECT_EQ(full.decision.reset_ms, 400);
  // Partial refill: 50 ms after full, retry in 50 ms.
  auto half = detail::gcra(now + 400'000, now + 50'000, limit, 1);
  EXPECT_EQ(half.decision.retry_after_ms, 50);
  // Sub-millisecond waits round up, never down to 0.
  auto tiny = detail::gcra(now + 400'000, now + 99'999, limit, 1);
  EXPECT_FALSE(tiny.decision.allowed);
  EXPECT_EQ(tiny.decision.retry_after_ms, 1);
}

}  // namespace
}  // namespace authd::cache
