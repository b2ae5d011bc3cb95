#pragma once
// Rate limiting as the auth domain sees it. Implementations: Redis (shared by all replicas,
// atomic Lua GCRA) and in-process (fallback while Redis is down). Keys are opaque strings
// built by the caller, e.g. "login:ip:203.0.113.7" or "login:acct:<keyed hash of email>".

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace authd::auth {

/// A generic cell rate: `burst` requests at once, refilled at `rate_per_minute`.
struct Limit {
  std::int64_t rate_per_minute = 60;
  std::int64_t burst = 10;
};

struct Decision {
  bool allowed = true;
  std::int64_t limit = 0;           ///< the burst, for RateLimit-Policy
  std::int64_t remaining = 0;       ///< requests still allowed right now
  std::int64_t retry_after_ms = 0;  ///< when denied: wait this long
  std::int64_t reset_ms = 0;        ///< time until the bucket is full again
  bool degraded = false;            ///< decided by the in-process fallback (Redis down)
};

/// Thread-safe; may block briefly on I/O (bounded by a timeout): call from the worker pool.
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  /// Takes `cost` tokens from the bucket `key` if allowed. Never throws.
  virtual Decision check(std::string_view key, const Limit& limit, std::int64_t cost = 1) = 0;
  /// Reads without consuming (for back-off decisions). Never throws.
  virtual Decision peek(std::string_view key, const Limit& limit) = 0;
  /// Forgets `key` (e.g. clears a failure counter after a successful login).
  virtual void reset(std::string_view key) = 0;
  /// False when check() and peek() never wait on I/O (an in-process limiter), so an event
  /// loop may call them.
  virtual bool blocks() const { return true; }

  /// check() without waiting: `done` gets the decision exactly once, before check_async
  /// returns or later on a thread of the limiter's (where it must be quick). The default
  /// calls check() inline, which only suits a limiter that does not block.
  virtual void check_async(std::string_view key, const Limit& limit, std::int64_t cost,
                           std::function<void(Decision)> done) {
    done(check(key, limit, cost));
  }
  /// True when check_async() never waits on I/O, so an event loop may call it.
  virtual bool checks_async() const { return !blocks(); }
};

}  // namespace authd::auth
