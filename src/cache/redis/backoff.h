#pragma once
// How long a link waits before its next connection attempt. Threading: I/O thread only (see
// the contract at the top of include/authd/cache/redis_client.h).

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace authd::cache::detail {

class Backoff {
 public:
  using Millis = std::chrono::milliseconds;

  /// Exponential from `initial` to `max` (RedisOptions::backoff_initial/backoff_max).
  Backoff(Millis initial, Millis max);

  /// The delay before reconnecting after a connection ended. `up_for` is how long it had
  /// been up (nullopt: it never came up); `forced`, a deliberate restart. A connection that
  /// worked for a while, or a forced restart, retries at once and restarts the backoff; any
  /// other failure waits longer each time, so a server that accepts and then drops us is
  /// not hammered.
  Millis after_drop(std::optional<std::chrono::steady_clock::duration> up_for, bool forced);

  /// The next attempt starts from scratch (a link being started).
  void reset() noexcept { current_ = Millis(0); }

 private:
  /// Up to 20 % less, so that replicas do not reconnect in lockstep.
  Millis jitter(Millis d);

  Millis initial_;
  Millis max_;
  Millis current_{0};
  std::mt19937_64 rng_;
};

}  // namespace authd::cache::detail
