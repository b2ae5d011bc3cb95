// LocalRevocationList: membership until expiry, sweeping, and bounded memory that never
// turns a revoked session into a valid one.

#include "authd/cache/local_revocation_list.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_clock.h"

namespace authd::cache {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;

TEST(CacheLocalRevocationListTest, UnknownSessionIsNotRevoked) {
  FakeClock clock;
  LocalRevocationList list(clock);
  EXPECT_EQ(list.is_session_revoked("s1"), false);
  EXPECT_FALSE(list.contains("s1"));
}

TEST(CacheLocalRevocationListTest, RevokedUntilItsExpiry) {
  FakeClock clock;
  LocalRevocationList list(clock);
  const auto now = clock.now_unix();
  list.revoke_session("s1", now + 600);
  EXPECT_EQ(list.is_session_revoked("s1"), true);
  EXPECT_TRUE(list.contains("s1"));
  EXPECT_EQ(list.is_session_revoked("s2"), false);
  clock.advance(599s);
  EXPECT_EQ(list.is_session_revoked("s1"), true);
  clock.advance(1s);
  EXPECT_EQ(list.is_session_revoked("s1"), false);
}

TEST(CacheLocalRevocationListTest, LongerExpiryWins) {
  FakeClock clock;
  LocalRevocationList list(clock);
  const auto now = clock.now_unix();
  list.mark_revoked("s1", now + 600);
  list.mark_revoked("s1", now + 60);  // shorter: ignored
  clock.advance(300s);
  EXPECT_TRUE(list.contains("s1"));
  list.mark_revoked("s1", now + 900);
  clock.advance(400s);
  EXPECT_TRUE(list.contains("s1"));
  EXPECT_EQ(list.size(), 1u);
}

TEST(CacheLocalRevocationListTest, PastExpiryIsIgnored) {
  FakeClock clock;
  LocalRevocationList list(clock);
  list.mark_revoked("s1", clock.now_unix());
  list.mark_revoked("s2", clock.now_unix() - 10);
  EXPECT_EQ(list.size(), 0u);
  EXPECT_EQ(list.is_session_revoked("s1"), false);
}

TEST(CacheLocalRevocationListTest, SweepDropsExpiredEntries) {
  FakeClock clock;
  LocalRevocationList list(clock);
  const auto now = clock.now_unix();
  for (int i = 0; i < 100; ++i) list.mark_revoked("short" + std::to_string(i), now + 10);
  list.mark_revoked("long", now + 1000);
  EXPECT_EQ(list.size(), 101u);
  clock.advance(10s);
  list.sweep();
  EXPECT_EQ(list.size(), 1u);
  EXPECT_TRUE(list.contains("long"));
  // mark_revoked sweeps too.
  clock.advance(1000s);
  list.mark_revoked("new", clock.now_unix() + 5);
  EXPECT_EQ(list.size(), 1u);
}

TEST(CacheLocalRevocationListTest, RepeatedRevocationsDoNotGrowWithoutBound) {
  FakeClock clock;
  LocalRevocationList list(clock);
  for (int i = 0; i < 100'000; ++i) list.mark_revoked("s", clock.now_unix() + 10 + i);
  EXPECT_EQ(list.size(), 1u);
  EXPECT_TRUE(list.contains("s"));
}

TEST(CacheLocalRevocationListTest, OverflowAnswersUnknownUntilDroppedEntriesExpire) {
  FakeClock clock;
  LocalRevocationList list(clock, {.max_entries = 10});
  const auto now = clock.now_unix();
  // s0 expires first, so it is the one dropped when s10 arrives.
  for (int i = 0; i <= 10; ++i) list.mark_revoked("s" + std::to_string(i), now + 100 + i);
  EXPECT_EQ(list.size(), 10u);
  EXPECT_EQ(list.is_session_revoked("s10"), true);
  // s0 (dropped) and any other unknown sid: unknown, never "not revoked".
  EXPECT_EQ(list.is_session_revoked("s0"), std::nullopt);
  EXPECT_EQ(list.is_session_revoked("other"), std::nullopt);
  clock.advance(100s);  // s0 would have expired now
  EXPECT_EQ(list.is_session_revoked("other"), false);
}

TEST(CacheLocalRevocationListTest, ConcurrentReadersAndWriters) {
  FakeClock clock;
  LocalRevocationList list(clock, {.max_entries = 100'000});
  const auto now = clock.now_unix();
  std::atomic<bool> wrong{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        const std::string sid = "t" + std::to_string(t) + ":" + std::to_string(i);
        list.mark_revoked(sid, now + 100);
        if (list.is_session_revoked(sid) != true) wrong = true;
        (void)list.is_session_revoked("nobody");
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(wrong.load());
  EXPECT_EQ(list.size(), 20'000u);
}

}  // namespace
}  // namespace authd::cache
