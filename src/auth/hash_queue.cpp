#include "auth/hash_queue.h"

namespace authd::auth::detail {

HashQueue::HashQueue(std::size_t slots, std::size_t max_waiting, Observer* observer)
    : free_(slots == 0 ? 1 : slots), max_waiting_(max_waiting), observer_(observer) {}

bool HashQueue::acquire() {
  std::unique_lock lock(mutex_);
  if (free_ > 0 && queue_.empty()) {
    --free_;
    if (observer_) observer_->waited(std::chrono::nanoseconds(0));
    return true;
  }
  if (queue_.size() >= max_waiting_) return false;
  const auto since = std::chrono::steady_clock::now();
  Waiter me;
  queue_.push_back(&me);
  if (observer_) observer_->depth(queue_.size());
  me.cv.wait(lock, [&] { return me.granted; });
  // release() removed us from the queue and reported the depth.
  if (observer_) observer_->waited(std::chrono::steady_clock::now() - since);
  return true;
}

void HashQueue::release() {
  std::lock_guard lock(mutex_);
  if (queue_.empty()) {
    ++free_;
    return;
  }
  Waiter* next = queue_.front();
  queue_.pop_front();
  if (observer_) observer_->depth(queue_.size());
  next->granted = true;
  // Under the lock: the waiter may return and destroy its condition variable as soon as it
  // can see `granted`, which it cannot before this lock is released.
  next->cv.notify_one();
}

std::size_t HashQueue::waiting() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

}  // namespace authd::auth::detail
