#pragma once
// Where requests wait while a dependency every replica shares (the store) has no one to
// answer them, instead of failing: bounded in number and in time, resumed together when the
// dependency is back.
//
// The gate has no thread and does no I/O. Whoever finds the dependency down calls wait();
// whoever probes it calls open() when it answers again and expire() as time passes
// (app::StoreWatch does both). Thread-safe; every Resume is called exactly once, outside the
// gate's lock, on the thread that made the transition (open(), expire(), cancel()).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>

namespace authd {

class WaitGate {
 public:
  using SteadyClock = std::chrono::steady_clock;
  using Ticket = std::uint64_t;
  enum class Outcome {
    kOpen,      ///< the dependency answered: run the request again
    kTimedOut,  ///< its deadline passed first: answer 503
    kCancelled  ///< its client went away: answer nothing
  };
  using Resume = std::function<void(Outcome)>;

  explicit WaitGate(std::size_t max_waiting) : max_waiting_(max_waiting) {}
  WaitGate(const WaitGate&) = delete;
  WaitGate& operator=(const WaitGate&) = delete;

  /// False from the first wait() until the next open(): a request that needs the dependency
  /// should wait at once rather than try it (and tie up a thread finding it down again).
  bool is_open() const;

  /// Closes the gate (the caller just found the dependency down) and queues `resume` until
  /// open() or `deadline`. nullopt when `max_waiting` requests already wait: the caller
  /// answers at once, and `resume` is never called.
  std::optional<Ticket> wait(SteadyClock::time_point deadline, Resume resume);

  /// The dependency answered: opens the gate and resumes every waiter with kOpen.
  void open();

  /// Resumes with kTimedOut every waiter whose deadline is at or before `now`.
  void expire(SteadyClock::time_point now);

  /// Resumes `ticket`'s waiter with kCancelled, unless it was already resumed.
  void cancel(Ticket ticket);

  std::size_t waiting() const;
  /// The earliest deadline of any waiter, for a prober that sleeps until then.
  std::optional<SteadyClock::time_point> next_deadline() const;

 private:
  struct Waiter {
    SteadyClock::time_point deadline;
    Resume resume;
  };

  const std::size_t max_waiting_;
  mutable std::mutex mu_;
  bool open_ = true;
  Ticket next_ticket_ = 1;
  std::map<Ticket, Waiter> waiters_;
};

}  // namespace authd
