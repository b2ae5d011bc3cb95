#pragma once
// Callbacks registered from any thread and invoked on the Redis I/O thread, removable through
// a CallbackHandle. Threading: see the contract at the top of
// include/authd/cache/redis_client.h.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <utility>
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
    return add_locked(std::move(fn)).second;
  }

  /// add(), and `fn` also learns the state the last invoke_state() delivered, if any: through
  /// `post` (so on the thread that invokes), unless a newer invoke_state() reaches it first.
  /// A callback registered after the state was settled would otherwise never hear of it.
  template <class Post>
  CallbackHandle add_replaying(Fn fn, Post&& post) {
    std::lock_guard lock(mutex_);
    auto [id, handle] = add_locked(std::move(fn));
    replay_pending_.insert(id);
    post([weak = this->weak_from_this(), id] {
      if (auto self = weak.lock()) self->replay(id);
    });
    return std::move(handle);
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

  /// invoke() of a state, remembered for callbacks that add_replaying() registers later.
  template <class... Args>
  void invoke_state(const Args&... args) {
    std::lock_guard lock(mutex_);
    last_state_ = [args...](Fn& fn) { fn(args...); };
    replay_pending_.clear();
    invoke(args...);
  }

 private:
  std::pair<std::uint64_t, CallbackHandle> add_locked(Fn fn) {
    const auto id = next_id_++;
    fns_.emplace(id, std::move(fn));
    return {id, CallbackHandle([weak = this->weak_from_this(), id] {
              if (auto self = weak.lock()) {
                std::lock_guard lock(self->mutex_);
                self->fns_.erase(id);
                self->replay_pending_.erase(id);
              }
            })};
  }

  void replay(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    if (replay_pending_.erase(id) == 0 || !last_state_) return;
    auto it = fns_.find(id);
    if (it != fns_.end()) guarded([&] { last_state_(it->second); });
  }

  std::recursive_mutex mutex_;
  std::map<std::uint64_t, Fn> fns_;
  std::uint64_t next_id_ = 1;
  std::set<std::uint64_t> replay_pending_;
  std::function<void(Fn&)> last_state_;
};

}  // namespace authd::cache::detail
