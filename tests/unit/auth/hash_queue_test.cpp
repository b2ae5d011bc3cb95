#include "auth/hash_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace authd::auth::detail {
namespace {

using namespace std::chrono_literals;

// Waits (bounded) until `q` has `n` waiters.
bool until_waiting(const HashQueue& q, std::size_t n) {
  for (int i = 0; i < 2000 && q.waiting() != n; ++i) std::this_thread::sleep_for(1ms);
  return q.waiting() == n;
}

struct Recorder : HashQueue::Observer {
  std::mutex m;
  std::vector<std::size_t> depths;
  std::vector<std::chrono::nanoseconds> waits;
  void depth(std::size_t waiting) override {
    std::lock_guard l(m);
    depths.push_back(waiting);
  }
  void waited(std::chrono::nanoseconds w) override {
    std::lock_guard l(m);
    waits.push_back(w);
  }
};

TEST(HashQueueTest, SlotsGoToWaitersInOrderOfArrival) {
  HashQueue q(1, 16);
  ASSERT_TRUE(q.acquire());
  std::mutex m;
  std::vector<int> order;
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      if (!q.acquire()) return;
      {
        std::lock_guard l(m);
        order.push_back(i);
      }
      q.release();
    });
    // The next one arrives only once this one is queued.
    ASSERT_TRUE(until_waiting(q, static_cast<std::size_t>(i + 1)));
  }
  q.release();
  for (auto& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(q.waiting(), 0u);
}

TEST(HashQueueTest, AReleasedSlotGoesToTheWaiterNotToTheNextCaller) {
  HashQueue q(1, 16);
  ASSERT_TRUE(q.acquire());
  std::atomic<bool> waiter_has_it{false};
  std::atomic<bool> waiter_done{false};
  std::thread waiter([&] {
    ASSERT_TRUE(q.acquire());
    waiter_has_it = true;
    std::this_thread::sleep_for(20ms);
    waiter_done = true;
    q.release();
  });
  ASSERT_TRUE(until_waiting(q, 1));
  q.release();
  // Asking again at once must queue behind the waiter, however fast this thread is.
  ASSERT_TRUE(q.acquire());
  EXPECT_TRUE(waiter_done.load());
  q.release();
  waiter.join();
  EXPECT_TRUE(waiter_has_it.load());
}

TEST(HashQueueTest, FullQueueRefusesAtOnceAndRecovers) {
  HashQueue q(2, 2);
  ASSERT_TRUE(q.acquire());
  ASSERT_TRUE(q.acquire());
  std::vector<std::thread> threads;
  std::atomic<int> served{0};
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&] {
      if (q.acquire()) {
        ++served;
        q.release();
      }
    });
  }
  ASSERT_TRUE(until_waiting(q, 2));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(q.acquire());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  q.release();
  q.release();
  for (auto& t : threads) t.join();
  EXPECT_EQ(served.load(), 2);
  // Both slots are free again.
  EXPECT_TRUE(q.acquire());
  EXPECT_TRUE(q.acquire());
  q.release();
  q.release();
}

TEST(HashQueueTest, ObserverSeesDepthAndWaits) {
  Recorder r;
  HashQueue q(1, 4, &r);
  ASSERT_TRUE(q.acquire());  // free: waited 0
  std::thread waiter([&] {
    if (q.acquire()) q.release();
  });
  ASSERT_TRUE(until_waiting(q, 1));
  std::this_thread::sleep_for(10ms);
  q.release();
  waiter.join();
  std::lock_guard l(r.m);
  EXPECT_EQ(r.depths, (std::vector<std::size_t>{1, 0}));
  ASSERT_EQ(r.waits.size(), 2u);
  EXPECT_EQ(r.waits[0], 0ns);
  EXPECT_GE(r.waits[1], 10ms);
}

}  // namespace
}  // namespace authd::auth::detail
