#pragma once
// A bounded, thread-safe pool of Postgres connections. Private to the Postgres backend.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "store/postgres/connection.h"

namespace authd::store::postgres {

class Pool;

/// A connection borrowed from the pool; returns it on destruction, or discards it if it broke
/// or was left inside a transaction.
class Lease {
 public:
  Lease(Pool* pool, std::unique_ptr<Connection> conn, bool reused)
      : pool_(pool), conn_(std::move(conn)), reused_(reused) {}
  Lease(Lease&& other) noexcept = default;
  Lease& operator=(Lease&&) = delete;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();

  Connection& operator*() { return *conn_; }
  Connection* operator->() { return conn_.get(); }
  /// True when the connection was idle in the pool before (so it may have died there unseen);
  /// false when it was opened for this lease.
  bool reused() const { return reused_; }

 private:
  Pool* pool_;
  std::unique_ptr<Connection> conn_;
  bool reused_;
};

class Pool {
 public:
  Pool(ConnectSettings settings, std::size_t size, std::chrono::milliseconds acquire_timeout)
      : settings_(std::move(settings)), size_(size), acquire_timeout_(acquire_timeout) {}
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /// Borrows a connection, opening one if none is idle and the pool is not full, else waiting
  /// up to the acquire timeout (then kUnavailable). With `fresh`, never reuses an idle
  /// connection: used to retry after a connection broke, when the idle ones may be dead too.
  StoreResult<Lease> acquire(bool fresh = false);
  /// Borrows an idle connection if there is one; never opens or waits (for event loops).
  std::optional<Lease> try_acquire_idle();
  /// Readies idle connections that the primer has not seen, then opens connections one at a
  /// time, as idle ones, until the pool is full, one fails to open, or `stopped()` says so;
  /// returns how many it opened. Callers meanwhile acquire as usual.
  std::size_t fill(const std::function<bool()>& stopped);

  /// From now on, every connection goes through `primer` once before it is used: acquire()
  /// runs it on a connection it hands out, fill() on the ones it opens or finds idle. Only
  /// try_acquire_idle() (an event loop, which must not block) may get one that has not been
  /// through it yet. The first call wins; later ones change nothing.
  void set_primer(std::function<void(Connection&)> primer);

  /// For an event loop with calls queued and no connection: when the pool is full, queues
  /// `wake` to run once, in order of asking, when a connection comes back (or at once if one is
  /// idle) or a slot frees up, and returns true; when the pool has room, returns false (the
  /// caller should open a connection instead). `wake` runs under the pool's lock, so it must
  /// only post; it never runs after cancel_wait(owner) has returned.
  bool wait_for_release(const void* owner, std::function<void()> wake);
  void cancel_wait(const void* owner);
  /// Whether a caller waits for a connection now (in acquire(), or an event loop): a loop
  /// holding connections for its own queue then gives one back, so that none starves.
  bool contended() const { return contended_.load(std::memory_order_relaxed); }

 private:
  friend class Lease;
  struct Waiter {
    const void* owner;
    std::function<void()> wake;
  };
  void release(std::unique_ptr<Connection> conn);
  // Frees the slot taken for a connection that failed to open: a blocked caller may open one
  // in its place, and every waiting loop may try.
  void give_back_slot();
  // Under the lock: wakes the first waiting loop, or all of them (a slot freed up: each may
  // now open a connection of its own); keeps contended_ up to date.
  void wake_first_locked();
  void wake_all_locked();
  void update_contended_locked();
  // Runs the primer on `conn` unless it has run there already or none is set.
  void ready(Connection& conn);
  // An idle connection the primer has not seen, taken out as if leased; null when none.
  std::unique_ptr<Connection> take_unprimed_idle();

  const ConnectSettings settings_;
  const std::size_t size_;
  const std::chrono::milliseconds acquire_timeout_;

  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<Connection>> idle_;  // most recently returned last
  std::size_t open_ = 0;                           // idle + leased + being opened
  std::size_t blocked_ = 0;                        // callers waiting in acquire()
  std::deque<Waiter> waiters_;                     // event loops, in order of asking
  std::atomic<bool> contended_{false};
  std::function<void(Connection&)> primer_;  // written once, before primer_set_
  std::atomic<bool> primer_set_{false};
  std::once_flag primer_once_;
};

}  // namespace authd::store::postgres
