#include "authd/core/wait_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace authd {
namespace {

using namespace std::chrono_literals;
using Outcome = WaitGate::Outcome;
const auto kT0 = WaitGate::SteadyClock::time_point{} + 1000s;

// Records every resume, in order.
struct Recorder {
  std::vector<std::pair<int, Outcome>> calls;
  WaitGate::Resume as(int id) {
    return [this, id](Outcome o) { calls.emplace_back(id, o); };
  }
};

TEST(WaitGateTest, OpenUntilSomeoneWaits) {
  WaitGate gate(10);
  EXPECT_TRUE(gate.is_open());
  Recorder r;
  ASSERT_TRUE(gate.wait(kT0 + 5s, r.as(1)));
  EXPECT_FALSE(gate.is_open()) << "a request that found the store down closes the gate";
  EXPECT_EQ(gate.waiting(), 1u);
  EXPECT_TRUE(r.calls.empty());
}

TEST(WaitGateTest, OpenResumesEveryWaiterOnceAndReopens) {
  WaitGate gate(10);
  Recorder r;
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(gate.wait(kT0 + 5s, r.as(i)));
  gate.open();
  EXPECT_TRUE(gate.is_open());
  EXPECT_EQ(gate.waiting(), 0u);
  ASSERT_EQ(r.calls.size(), 3u);
  for (const auto& [id, outcome] : r.calls) EXPECT_EQ(outcome, Outcome::kOpen) << id;
  gate.open();  // nothing left to resume
  gate.expire(kT0 + 1h);
  EXPECT_EQ(r.calls.size(), 3u);
}

TEST(WaitGateTest, ExpireResumesOnlyThosePastTheirDeadline) {
  WaitGate gate(10);
  Recorder r;
  ASSERT_TRUE(gate.wait(kT0 + 1s, r.as(1)));
  ASSERT_TRUE(gate.wait(kT0 + 3s, r.as(2)));
  EXPECT_EQ(gate.next_deadline(), kT0 + 1s);
  gate.expire(kT0 + 999ms);
  EXPECT_TRUE(r.calls.empty());
  gate.expire(kT0 + 1s);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0], std::make_pair(1, Outcome::kTimedOut));
  EXPECT_EQ(gate.next_deadline(), kT0 + 3s);
  EXPECT_FALSE(gate.is_open()) << "a timeout says nothing about the store: still closed";
  gate.open();
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[1], std::make_pair(2, Outcome::kOpen));
}

TEST(WaitGateTest, CapRefusesBeyondMaxWaitingAndNeverCallsTheRefused) {
  WaitGate gate(2);
  Recorder r;
  ASSERT_TRUE(gate.wait(kT0 + 5s, r.as(1)));
  ASSERT_TRUE(gate.wait(kT0 + 5s, r.as(2)));
  EXPECT_FALSE(gate.wait(kT0 + 5s, r.as(3)));
  EXPECT_EQ(gate.waiting(), 2u);
  gate.open();
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].first, 1);
  EXPECT_EQ(r.calls[1].first, 2);
  // Room again once the first two are gone.
  EXPECT_TRUE(gate.wait(kT0 + 5s, r.as(4)));
}

TEST(WaitGateTest, CancelResumesOnceAndFreesTheSlot) {
  WaitGate gate(1);
  Recorder r;
  auto ticket = gate.wait(kT0 + 5s, r.as(1));
  ASSERT_TRUE(ticket);
  gate.cancel(*ticket);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0], std::make_pair(1, Outcome::kCancelled));
  gate.cancel(*ticket);  // already resumed: no second call
  gate.open();
  EXPECT_EQ(r.calls.size(), 1u);
  EXPECT_TRUE(gate.wait(kT0 + 5s, r.as(2))) << "the cancelled waiter's slot is free";
}

TEST(WaitGateTest, CancelAfterOpenIsANoOp) {
  WaitGate gate(4);
  Recorder r;
  auto ticket = gate.wait(kT0 + 5s, r.as(1));
  gate.open();
  gate.cancel(*ticket);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].second, Outcome::kOpen);
}

// A resume may wait again at once (the store failed again on the retry): no deadlock, and the
// new wait closes the gate again.
TEST(WaitGateTest, ResumeMayWaitAgain) {
  WaitGate gate(4);
  int rounds = 0;
  std::function<void(WaitGate::Outcome)> retry = [&](WaitGate::Outcome o) {
    if (o == Outcome::kOpen && ++rounds < 3) (void)gate.wait(kT0 + 5s, retry);
  };
  ASSERT_TRUE(gate.wait(kT0 + 5s, retry));
  gate.open();
  EXPECT_FALSE(gate.is_open());
  gate.open();
  gate.open();
  EXPECT_EQ(rounds, 3);
  EXPECT_TRUE(gate.is_open());
  EXPECT_EQ(gate.waiting(), 0u);
}

TEST(WaitGateTest, EveryWaiterResumedExactlyOnceUnderConcurrency) {
  WaitGate gate(100000);
  std::atomic<int> resumed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto ticket =
            gate.wait(kT0 + std::chrono::milliseconds(i % 7), [&](Outcome) { ++resumed; });
        if (ticket && i % 3 == 0) gate.cancel(*ticket);
        if (i % 50 == 0) gate.open();
        if (i % 70 == 0) gate.expire(kT0 + 3ms);
      }
    });
  }
  for (auto& t : threads) t.join();
  gate.open();
  EXPECT_EQ(resumed.load(), 4 * 2000);
}

}  // namespace
}  // namespace authd
