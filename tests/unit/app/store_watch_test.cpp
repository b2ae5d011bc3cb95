// The failover watch over a fake store: opens the gate when the store answers again, times out
// waiters even while a probe hangs, and keeps a replica ready through an outage it shares.

#include "app/store_watch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "support/eventually.h"

namespace authd::app {
namespace {

using namespace std::chrono_literals;
using Outcome = WaitGate::Outcome;
using testing::eventually;

constexpr StoreWatch::Options kFast{5ms, 20ms, 5ms};

struct FakeStore {
  std::atomic<bool> up{true};
  std::atomic<int> probes{0};
  bool probe() {
    ++probes;
    return up.load();
  }
};

TEST(StoreWatchTest, OpensTheGateOnceTheStoreAnswersAgain) {
  WaitGate gate(8);
  FakeStore store;
  store.up = false;
  StoreWatch watch(
      gate, [&] { return store.probe(); }, {}, kFast);
  std::atomic<int> resumed{-1};
  ASSERT_TRUE(gate.wait(std::chrono::steady_clock::now() + 1h,
                        [&](Outcome o) { resumed = static_cast<int>(o); }));
  const int before = store.probes.load();
  ASSERT_TRUE(eventually([&] { return store.probes.load() >= before + 3; }, 5s))
      << "the watch probes again and again while requests wait";
  EXPECT_EQ(resumed.load(), -1) << "nothing is resumed while the store is down";
  store.up = true;
  ASSERT_TRUE(eventually([&] { return resumed.load() == static_cast<int>(Outcome::kOpen); }, 5s));
  EXPECT_TRUE(gate.is_open());
}

// A probe stuck on a stalled database must not delay timeouts: expiry has its own thread.
TEST(StoreWatchTest, TimesOutWaitersWhileAProbeHangs) {
  WaitGate gate(8);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> probing{false};
  auto hanging_probe = [&] {
    probing = true;
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });
    return true;
  };
  {
    StoreWatch watch(gate, hanging_probe, {}, kFast);
    ASSERT_TRUE(eventually([&] { return probing.load(); }, 5s));
    std::atomic<int> resumed{-1};
    ASSERT_TRUE(gate.wait(std::chrono::steady_clock::now() + 50ms,
                          [&](Outcome o) { resumed = static_cast<int>(o); }));
    EXPECT_TRUE(
        eventually([&] { return resumed.load() == static_cast<int>(Outcome::kTimedOut); }, 5s));
    {
      std::lock_guard lock(mu);
      release = true;
    }
    cv.notify_all();
  }  // joins once the probe returns
}

TEST(StoreWatchTest, AnOutageEveryReplicaSharesKeepsThisOneReady) {
  WaitGate gate(8);
  FakeStore store;
  std::atomic<bool> peers_reach{false};
  std::atomic<int> announced{0};
  std::atomic<std::int64_t> asked_since{0};
  auto announce = [&](std::int64_t) { ++announced; };
  auto reached_since = [&](std::int64_t since) {
    asked_since = since;
    return peers_reach.load();
  };
  StoreWatch watch(
      gate, [&] { return store.probe(); }, {announce, reached_since}, kFast);
  ASSERT_TRUE(eventually([&] { return announced.load() > 0; }, 5s))
      << "a replica that reaches the store tells its peers";
  EXPECT_TRUE(watch.ready());

  store.up = false;  // the store is gone for everyone
  ASSERT_TRUE(eventually([&] { return !watch.reachable(); }, 5s));
  EXPECT_TRUE(watch.ready()) << "a shared outage must not empty the balancer's pool";

  peers_reach = true;  // but the others reach it: this replica alone is cut off
  ASSERT_TRUE(eventually([&] { return !watch.ready(); }, 5s));
  EXPECT_GT(asked_since.load(), 0) << "peers are asked about successes since the first failure";

  store.up = true;
  ASSERT_TRUE(eventually([&] { return watch.ready() && watch.reachable(); }, 5s));
}

// Cut off alone, this replica's waiters are better served by a peer now than here later.
TEST(StoreWatchTest, CutOffAloneItTimesOutItsWaitersAtOnce) {
  WaitGate gate(8);
  FakeStore store;
  store.up = false;
  std::atomic<bool> peers_reach{false};
  StoreWatch watch(
      gate, [&] { return store.probe(); },
      {[](std::int64_t) {}, [&](std::int64_t) { return peers_reach.load(); }}, kFast);
  std::atomic<int> resumed{-1};
  ASSERT_TRUE(gate.wait(std::chrono::steady_clock::now() + 1h,
                        [&](Outcome o) { resumed = static_cast<int>(o); }));
  const int before = store.probes.load();
  ASSERT_TRUE(eventually([&] { return store.probes.load() >= before + 3; }, 5s));
  EXPECT_EQ(resumed.load(), -1) << "a shared outage keeps its waiters";
  EXPECT_FALSE(watch.served_elsewhere());
  peers_reach = true;
  ASSERT_TRUE(
      eventually([&] { return resumed.load() == static_cast<int>(Outcome::kTimedOut); }, 5s));
  EXPECT_TRUE(watch.served_elsewhere());
}

TEST(StoreWatchTest, WithoutPeersAnOutageCountsAsShared) {
  WaitGate gate(8);
  FakeStore store;
  store.up = false;
  StoreWatch watch(
      gate, [&] { return store.probe(); }, {}, kFast);
  ASSERT_TRUE(eventually([&] { return store.probes.load() > 0 && !watch.reachable(); }, 5s));
  EXPECT_TRUE(watch.ready());
}

}  // namespace
}  // namespace authd::app
