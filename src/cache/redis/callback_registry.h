#pragma once
// Callbacks registered from any thread and invoked on the Redis I/O thread, removable through
// a CallbackHandle. Threading: see the contract at the top of
// include/authd/cache/redis_client.h.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "authd/cache/redis_client.h"

namespace authd::cache::detail {

/// Runs `f`, swallowing whatever it throws: a user callback must not unwind the I/O loop.
template <class F>
void guarded(F&& f) noexcept {
  try {
    f();
  } catch (...) {
  }
}

/// Callbacks by id. Invocation holds the (recursive) mutex, so removing a callback waits for
/// a running invocation: after CallbackHandle::reset() returns the callback is not running.
/// Recursive so that a callback may register or remove callbacks itself.
template <class Fn>
class CallbackRegistry : public std::enable_shared_from_this<CallbackRegistry<Fn>> {
 public:
  CallbackHandle add(Fn fn) {
    std::lock_guard lock(mutex_);
    const auto id = next_id_++;
    fns_.emplace(id, std::move(fn));
    return CallbackHandle([weak = this->weak_from_this(), id] {
      if (auto self = weak.lock()) {
        std::lock_guard lock(self->mutex_);
        self->fns_.erase(id);
      }
    });
  }

  template <class... Args>
  void invoke(const Args&... args) {
    std::lock_guard lock(mutex_);
    std::vector<std::uint64_t> ids;
    ids.reserve(fns_.size());
    for (const auto& kv : fns_) ids.push_back(kv.first);
    for (auto id : ids) {
      auto it = fns_.find(id);  // a callback may have removed a later one
      if (it != fns_.end()) guarded([&] { it->second(args...); });
    }
  }

 private:
  std::recursive_mutex mutex_;
  std::map<std::uint64_t, Fn> fns_;
  std::uint64_t next_id_ = 1;
};

}  // namespace authd::cache::detail
