#include "authd/keys/key_ring_service.h"

#include <algorithm>
#include <utility>

namespace authd::keys {

KeyRingService::KeyRingService(KeyRing& ring, const Clock& clock, ServiceOptions options)
    : ring_(ring), clock_(clock), options_(std::move(options)) {}

KeyRingService::~KeyRingService() { stop(); }

void KeyRingService::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void KeyRingService::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void KeyRingService::notify() {
  {
    std::lock_guard lock(mutex_);
    notified_ = true;
  }
  wake_.notify_all();
}

ServiceStats KeyRingService::stats() const {
  ServiceStats s;
  s.reloads = reloads_.load();
  s.reload_failures = reload_failures_.load();
  s.rotation_checks = rotation_checks_.load();
  s.rotations = rotations_.load();
  s.rotation_failures = rotation_failures_.load();
  s.last_rotation_check = last_rotation_check_.load();
  s.last_reload = last_reload_.load();
  return s;
}

void KeyRingService::reload() {
  if (auto r = ring_.load(); !r) {
    ++reload_failures_;
    if (options_.on_error) options_.on_error(r.error());
    return;
  }
  ++reloads_;
  last_reload_ = clock_.now_unix();
}

bool KeyRingService::check_rotation() {
  auto r = ring_.rotate(false);
  last_rotation_check_ = clock_.now_unix();
  if (!r) {
    ++rotation_failures_;
    if (options_.on_error) options_.on_error(r.error());
    return false;
  }
  ++rotation_checks_;
  const bool created = !r->keys_made().empty();
  if (!r->ran || (!created && r->deleted == 0)) return false;
  // rotate() reloaded the ring after writing.
  ++reloads_;
  last_reload_ = clock_.now_unix();
  if (created) {
    ++rotations_;
    if (options_.on_rotated) options_.on_rotated(*r);
  }
  return true;
}

void KeyRingService::run() {
  // Intervals are measured on the steady clock: the injected Clock is wall time for key
  // states and may jump (or be pinned in tests); the schedule must not.
  using Steady = std::chrono::steady_clock;
  auto next_reload = Steady::now();
  auto next_check = Steady::now();
  std::unique_lock lock(mutex_);
  while (!stop_requested_) {
    wake_.wait_until(lock, std::min(next_reload, next_check),
                     [this] { return stop_requested_ || notified_; });
    if (stop_requested_) break;
    const auto now = Steady::now();
    const bool do_reload = notified_ || now >= next_reload;
    const bool do_check = now >= next_check;
    notified_ = false;
    lock.unlock();

    bool reloaded = false;
    if (do_check) {
      // First, so that an empty store is bootstrapped before the first reload.
      reloaded = check_rotation();
      next_check = Steady::now() + options_.check_interval;
    }
    if (do_reload) {
      if (!reloaded) reload();
      next_reload = Steady::now() + options_.poll_interval;
    }
    lock.lock();
  }
}

}  // namespace authd::keys
