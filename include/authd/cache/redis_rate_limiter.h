#pragma once
// RedisRateLimiter: the rate limit shared by every replica. One EVALSHA per check runs GCRA
// atomically inside Redis, on Redis' own clock (TIME), so replicas with skewed clocks agree
// and a promoted replica continues from the same stored state.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "authd/auth/rate_limiter.h"
#include "authd/cache/local_rate_limiter.h"
#include "authd/cache/redis_client.h"

namespace authd::cache {

/// What a check does when Redis cannot answer (down, timeout, error reply).
enum class RedisDownPolicy {
  /// Ask the in-process fallback limiter with the limit scaled by fallback_factor;
  /// the Decision has degraded = true.
  kLocalFallback,
  /// Deny (allowed = false, degraded = true, retry_after_ms = fail_closed_retry_after_ms).
  /// For endpoints where an unlimited attacker costs more than refusing users for a while.
  kFailClosed,
};

struct RedisRateLimiterOptions {
  /// Prepended to every key: the Redis key of "login:ip:1.2.3.4" is prefix + that.
  std::string prefix = "authd:rl:";
  /// Fallback limits are rate*factor and burst*factor (rounded, at least 1). Each replica
  /// counts alone while Redis is down, so 1/N of the shared limit behind N replicas keeps
  /// the total about the same; 0.5 is a reasonable default for 2-4 replicas.
  double fallback_factor = 0.5;
  /// Policy of check()/peek() without an explicit policy argument.
  RedisDownPolicy down_policy = RedisDownPolicy::kLocalFallback;
  std::int64_t fail_closed_retry_after_ms = 1000;
  /// Per-call timeout (0 = the client's command_timeout).
  std::chrono::milliseconds timeout{0};
};

/// GCRA in Redis, same semantics as LocalRateLimiter (see there), keys stored as the TAT in
/// microseconds with PX = time until the bucket is full, so idle keys expire by themselves.
///
/// The policy is per instance (options.down_policy) and per call (the overloads taking a
/// RedisDownPolicy). The composition root typically builds two instances over the same
/// client and fallback: one kLocalFallback (login per IP/account, refresh), one kFailClosed
/// (where required), and hands each to the component that needs it through auth::RateLimiter.
///
/// Thread-safety: all members may be called concurrently. Each call blocks for at most the
/// timeout (one round trip normally); returns at once while the client is down.
class RedisRateLimiter final : public auth::RateLimiter {
 public:
  /// @param client, fallback  must outlive the limiter. The fallback may be shared.
  RedisRateLimiter(RedisClient& client, LocalRateLimiter& fallback,
                   RedisRateLimiterOptions options = {});
  ~RedisRateLimiter() override;

  auth::Decision check(std::string_view key, const auth::Limit& limit,
                       std::int64_t cost = 1) override;
  auth::Decision check(std::string_view key, const auth::Limit& limit, std::int64_t cost,
                       RedisDownPolicy policy);
  auth::Decision peek(std::string_view key, const auth::Limit& limit) override;
  auth::Decision peek(std::string_view key, const auth::Limit& limit, RedisDownPolicy policy);
  /// One EVALSHA without waiting; `done` runs on the Redis I/O thread, or at once while
  /// Redis is down (with the instance's down policy, as check()).
  void check_async(std::string_view key, const auth::Limit& limit, std::int64_t cost,
                   std::function<void(auth::Decision)> done) override;
  bool checks_async() const override { return true; }
  /// Deletes the Redis key (best effort) and resets the fallback's bucket too.
  void reset(std::string_view key) override;

  /// The Lua source (for review and for tests that run it by hand).
  static const std::string& script_source();

 private:
  auth::Decision run(std::string_view key, const auth::Limit& limit, std::int64_t cost,
                     bool consume, RedisDownPolicy policy);
  /// The decision in a script reply, or nullopt when the reply is not one.
  static std::optional<auth::Decision> parse(const CacheResult<Reply>& r, const auth::Limit& limit);
  static std::vector<std::string> script_args(const auth::Limit& limit, std::int64_t cost,
                                              bool consume);
  auth::Decision degrade(std::string_view key, const auth::Limit& limit, std::int64_t cost,
                         bool consume, RedisDownPolicy policy);

  RedisClient& client_;
  LocalRateLimiter& fallback_;
  RedisRateLimiterOptions options_;
};

}  // namespace authd::cache
