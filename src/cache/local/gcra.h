#pragma once
// The GCRA decision as a pure function, shared by LocalRateLimiter and mirrored line by line
// by the Lua script of RedisRateLimiter (keep the two in step). All times in microseconds.

#include <algorithm>
#include <cstdint>

#include "authd/auth/rate_limiter.h"

namespace authd::cache::detail {

inline constexpr std::int64_t kMinuteUs = 60'000'000;
/// Denial for an unusable Limit (rate or burst <= 0): fail closed, retry in a minute.
inline constexpr std::int64_t kInvalidLimitRetryMs = 60'000;

inline bool valid(const auth::Limit& limit) { return limit.rate_per_minute > 0 && limit.burst > 0; }

/// Emission interval T, at least 1 µs so that absurd rates cannot divide by zero.
inline std::int64_t interval_us(const auth::Limit& limit) {
  return std::max<std::int64_t>(1, kMinuteUs / limit.rate_per_minute);
}

inline std::int64_t ceil_ms(std::int64_t us) { return us <= 0 ? 0 : (us + 999) / 1000; }

struct GcraOutcome {
  auth::Decision decision;
  /// The TAT to store when decision.allowed and cost > 0; unchanged otherwise.
  std::int64_t new_tat = 0;
};

/// @param tat  the stored TAT, or `now` (or anything <= now) for a missing bucket.
inline GcraOutcome gcra(std::int64_t tat, std::int64_t now, const auth::Limit& limit,
                        std::int64_t cost) {
  GcraOutcome out;
  out.decision.limit = limit.burst;
  const std::int64_t t = interval_us(limit);
  const std::int64_t capacity = t * limit.burst;
  cost = std::max<std::int64_t>(0, cost);
  tat = std::max(tat, now);
  // A TAT further ahead than a whole refill can only come from a clock that stepped back
  // (or a failover to a server with a slower clock): never make anyone wait longer than that.
  tat = std::min(tat, now + capacity);
  const std::int64_t next = tat + cost * t;
  std::int64_t after = tat;
  if (next - now <= capacity) {
    out.decision.allowed = true;
    after = next;
  } else {
    out.decision.allowed = false;
    out.decision.retry_after_ms = ceil_ms(next - now - capacity);
  }
  out.new_tat = out.decision.allowed ? next : tat;
  out.decision.remaining = (capacity - (after - now)) / t;
  out.decision.reset_ms = ceil_ms(after - now);
  return out;
}

inline auth::Decision invalid_limit_decision(const auth::Limit& limit) {
  auth::Decision d;
  d.allowed = false;
  d.limit = std::max<std::int64_t>(0, limit.burst);
  d.retry_after_ms = kInvalidLimitRetryMs;
  d.reset_ms = kInvalidLimitRetryMs;
  return d;
}

}  // namespace authd::cache::detail
