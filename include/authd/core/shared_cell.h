#pragma once
// SharedCell<T>: a shared_ptr<const T> that one thread replaces while many read it.
//
// Why not std::atomic<std::shared_ptr>: libstdc++ 12 releases its internal lock after a
// load with a relaxed store, so the load's read of the pointer is not ordered before the
// next store's write; ThreadSanitizer reports that race, and by the memory model it is one.
// Here a reader holds a spin lock (acquire to take, release to give back) for one pointer
// copy and one reference-count increment, never across a fetch or any other work; the
// replaced value is destroyed after the lock is released.

#include <atomic>
#include <memory>
#include <thread>

namespace authd::core {

template <class T>
class SharedCell {
 public:
  SharedCell() = default;
  SharedCell(const SharedCell&) = delete;
  SharedCell& operator=(const SharedCell&) = delete;

  std::shared_ptr<const T> load() const noexcept {
    lock();
    std::shared_ptr<const T> copy = value_;
    unlock();
    return copy;
  }

  void store(std::shared_ptr<const T> next) noexcept {
    lock();
    value_.swap(next);
    unlock();
  }  // `next` now holds the old value and drops it here, outside the lock

 private:
  void lock() const noexcept {
    while (busy_.test_and_set(std::memory_order_acquire))
      while (busy_.test(std::memory_order_relaxed)) std::this_thread::yield();
  }
  void unlock() const noexcept { busy_.clear(std::memory_order_release); }

  mutable std::atomic_flag busy_;
  std::shared_ptr<const T> value_;
};

}  // namespace authd::core
