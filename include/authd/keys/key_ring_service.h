#pragma once
// KeyRingService: the background schedule of one replica's key ring. It reloads the ring
// from the store periodically (so replicas converge even when a notification is lost) and on
// notify(), and periodically asks for a rotation, which only the replica holding the store's
// rotation lock performs.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "authd/core/clock.h"
#include "authd/keys/errc.h"
#include "authd/keys/key_ring.h"

namespace authd::keys {

/// Counters, read as one consistent-enough copy (each field is atomic on its own).
struct ServiceStats {
  std::uint64_t reloads = 0;  ///< successful load() calls (incl. after rotations)
  std::uint64_t reload_failures = 0;
  std::uint64_t rotation_checks = 0;  ///< rotate(false) calls that returned a result
  std::uint64_t rotations = 0;        ///< checks that created or promoted a key here
  std::uint64_t rotation_failures = 0;
  std::int64_t last_rotation_check = 0;  ///< Clock::now_unix() of the last check, 0 = none
  std::int64_t last_reload = 0;          ///< Clock::now_unix() of the last good load, 0 = none
};

struct ServiceOptions {
  /// How often the ring is reloaded from the store.
  std::chrono::milliseconds poll_interval{std::chrono::seconds(30)};
  /// How often rotate(false) runs. Rotation is due days apart; a minute bounds the drift.
  std::chrono::milliseconds check_interval{std::chrono::seconds(60)};
  /// Called on the service thread for every failed reload or rotation check (keys does not
  /// log; the composition root logs and counts). Must not call stop().
  std::function<void(const Error&)> on_error;
  /// Called on the service thread after this replica created or promoted a key, e.g. to
  /// publish a "keys changed" message so that other replicas notify() at once.
  std::function<void(const RotateResult&)> on_rotated;
};

/// Owns one thread. The first tick runs right after start(): a rotation check (which
/// bootstraps an empty store) and a reload. Failures are retried on the next tick.
///
/// Thread-safety: notify() and stats() may be called from any thread at any time;
/// start()/stop() from one owner thread.
class KeyRingService {
 public:
  /// @param ring and @p clock must outlive the service.
  KeyRingService(KeyRing& ring, const Clock& clock, ServiceOptions options = {});
  /// Stops and joins.
  ~KeyRingService();
  KeyRingService(const KeyRingService&) = delete;
  KeyRingService& operator=(const KeyRingService&) = delete;

  /// Starts the thread. No-op if running.
  void start();
  /// Asks the thread to finish its current step, then joins it. No-op if not running.
  void stop();
  /// Requests an immediate reload (another replica rotated). Non-blocking; coalesces.
  void notify();
  ServiceStats stats() const;

 private:
  void run();
  void reload();
  bool check_rotation();  // true when the ring was reloaded as part of it

  KeyRing& ring_;
  const Clock& clock_;
  const ServiceOptions options_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_requested_ = false;  // guarded by mutex_
  bool notified_ = false;        // guarded by mutex_
  std::thread thread_;

  std::atomic<std::uint64_t> reloads_{0};
  std::atomic<std::uint64_t> reload_failures_{0};
  std::atomic<std::uint64_t> rotation_checks_{0};
  std::atomic<std::uint64_t> rotations_{0};
  std::atomic<std::uint64_t> rotation_failures_{0};
  std::atomic<std::int64_t> last_rotation_check_{0};
  std::atomic<std::int64_t> last_reload_{0};
};

}  // namespace authd::keys
