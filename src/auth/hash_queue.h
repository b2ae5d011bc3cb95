#pragma once
// Password-hash slots handed out in order of arrival. Internal to src/auth.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

namespace authd::auth::detail {

/// At most `slots` holders at once; the rest wait in a bounded FIFO queue. A released slot
/// goes straight to the longest waiter (never to whoever calls acquire() next), so under
/// saturation every request waits about as long as the others: no starvation, and the tail
/// latency stays near the median. Thread-safe.
class HashQueue {
 public:
  /// Observes the queue: depth after each change, and each granted slot's wait.
  struct Observer {
    virtual ~Observer() = default;
    virtual void depth(std::size_t waiting) = 0;
    virtual void waited(std::chrono::nanoseconds wait) = 0;
  };

  /// @p slots >= 1. @p max_waiting: acquire() fails rather than wait behind that many.
  HashQueue(std::size_t slots, std::size_t max_waiting, Observer* observer = nullptr);

  /// Takes a slot, waiting for it in arrival order; false (at once) when the queue is full.
  bool acquire();
  /// Gives back a slot taken by acquire().
  void release();

  std::size_t waiting() const;

 private:
  struct Waiter {
    std::condition_variable cv;
    bool granted = false;
  };
  mutable std::mutex mutex_;
  std::size_t free_;
  const std::size_t max_waiting_;
  Observer* const observer_;
  std::deque<Waiter*> queue_;
};

}  // namespace authd::auth::detail
