#pragma once
// LocalRateLimiter: an in-process GCRA limiter. It is the fallback while Redis is down, and
// the whole limiter in dev mode. Each replica counts alone, so behind N replicas the
// effective limit is up to N times the configured one: give it stricter limits
// (RedisRateLimiter scales them by RedisRateLimiterOptions::fallback_factor).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "authd/auth/rate_limiter.h"
#include "authd/core/clock.h"

namespace authd::cache {

struct LocalRateLimiterOptions {
  /// Upper bound on buckets held (all shards together). A bucket that has refilled to full
  /// is identical to no bucket, so those are dropped first and nothing is lost; only when
  /// more than this many keys are being limited at once are the fullest active buckets
  /// dropped (which hands those keys a fresh burst). Memory is about 100 bytes + key length
  /// per bucket.
  std::size_t max_entries = 100'000;
  /// Independent mutexes; a power of two is not required. Clamped to [1, max_entries].
  std::size_t shards = 16;
};

/// GCRA (generic cell rate algorithm): one timestamp per key, the theoretical arrival time
/// (TAT) of the next request. A request of cost c is allowed when
/// `max(TAT, now) + c*T - now <= burst*T` with emission interval `T = 60 s / rate_per_minute`;
/// then TAT advances by c*T. So `burst` requests pass at once and one more every T after.
///
/// Decisions: `remaining` = whole requests still allowed now; `retry_after_ms` (denied only)
/// = time until this request would fit; `reset_ms` = time until the bucket is full.
/// A cost above `burst` is never allowed. A Limit with rate_per_minute <= 0 or burst <= 0
/// is a configuration error and is denied (fail closed) with retry_after_ms = 60000.
/// If the clock steps backwards, a bucket never waits longer than a full refill.
///
/// Thread-safety: all members may be called concurrently; keys are spread over
/// `shards` mutexes, each held for a hash lookup and a few arithmetic operations.
class LocalRateLimiter final : public auth::RateLimiter {
 public:
  /// @param clock  must outlive the limiter; read once per call (microsecond precision used).
  explicit LocalRateLimiter(const Clock& clock, LocalRateLimiterOptions options = {});
  ~LocalRateLimiter() override;
  LocalRateLimiter(const LocalRateLimiter&) = delete;
  LocalRateLimiter& operator=(const LocalRateLimiter&) = delete;

  /// Takes `cost` tokens if they are there. `degraded` is always false here: a caller that
  /// uses this limiter as a fallback sets it. Never throws (allocation failure aside).
  auth::Decision check(std::string_view key, const auth::Limit& limit,
                       std::int64_t cost = 1) override;
  bool blocks() const override { return false; }
  /// What check(key, limit, 1) would decide, without taking anything.
  auth::Decision peek(std::string_view key, const auth::Limit& limit) override;
  /// Forgets the bucket: the next check starts from a full burst.
  void reset(std::string_view key) override;

  /// Buckets currently held (full ones included until the next sweep).
  std::size_t size() const;
  /// Drops every bucket that has refilled to full. Runs by itself on inserts at most once
  /// per second per shard; exposed for tests and for an optional periodic timer.
  void sweep();

 private:
  struct Shard;
  Shard& shard_for(std::string_view key) const;
  std::int64_t now_us() const;

  const Clock& clock_;
  std::size_t per_shard_cap_;
  std::unique_ptr<Shard[]> shards_;
  std::size_t shard_count_;
};

}  // namespace authd::cache
