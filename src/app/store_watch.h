#pragma once
// Watches the store for the failover hold and for readiness.
//
// While requests wait at the gate (the store had no writable primary), the watch asks the
// store every `probe_interval` and opens the gate as soon as it answers; it also times out
// waiters past their deadline, on a thread of its own so that a probe stuck on a stalled
// database cannot delay a timeout. While the gate is open it probes every `health_interval`
// for readiness.
//
// Readiness (/readyz's store condition): this replica can reach the store, or nobody can. A
// replica cut off alone should leave the balancer while its peers serve; an outage every
// replica shares (a failover) must not empty the pool, or even the JWKS would fail. Peers
// tell each other through `Peers` (Redis: a key each reachable replica refreshes); without
// it, an outage counts as shared. When this replica finds itself cut off alone, it times out
// its waiters at once, for the server to hand them back to the balancer.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "authd/core/wait_gate.h"

namespace authd::app {

class StoreWatch {
 public:
  struct Options {
    std::chrono::milliseconds probe_interval{100};    ///< while requests wait
    std::chrono::milliseconds health_interval{1000};  ///< otherwise
    std::chrono::milliseconds expire_tick{25};        ///< how late a timed-out waiter may be
  };
  /// How replicas learn of each other's reach, in Unix milliseconds. Both may block briefly
  /// (bounded by the Redis command timeout); both are optional.
  struct Peers {
    /// This replica reached the store at `at_ms`.
    std::function<void(std::int64_t at_ms)> announce_reachable;
    /// Some replica reached it after `since_ms` (this replica's first failed probe): a success
    /// announced before the outage began says nothing about it.
    std::function<bool(std::int64_t since_ms)> any_reachable_since;
  };

  /// `probe` is true when the store can write now (Database::ping); it may block up to the
  /// store's deadline. Starts both threads; everything passed must outlive the watch.
  StoreWatch(WaitGate& gate, std::function<bool()> probe, Peers peers, Options options);
  StoreWatch(WaitGate& gate, std::function<bool()> probe)
      : StoreWatch(gate, std::move(probe), Peers{}, Options{}) {}
  /// Stops and joins (a probe in progress finishes first).
  ~StoreWatch();
  StoreWatch(const StoreWatch&) = delete;
  StoreWatch& operator=(const StoreWatch&) = delete;

  /// The readiness condition above, from the latest probe: never blocks.
  bool ready() const;
  /// The latest probe reached the store.
  bool reachable() const { return reachable_.load(); }
  /// This replica cannot reach the store and a peer can: requests are better served there
  /// (http::ServerOptions::store_served_elsewhere), and the watch hands back those waiting.
  bool served_elsewhere() const { return !ready(); }

 private:
  void probe_loop();
  void expire_loop();
  /// Sleeps up to `d`, or until stop. False when stopping.
  bool sleep_for(std::chrono::milliseconds d);

  WaitGate& gate_;
  std::function<bool()> probe_;
  Peers peers_;
  const Options options_;
  std::atomic<bool> reachable_{true};
  std::atomic<bool> peers_reachable_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread prober_, expirer_;
};

}  // namespace authd::app
