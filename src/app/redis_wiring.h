#pragma once
// Rate limits and revocations shared through Redis when redis.url is set, else in-process; and
// the reactions to Redis' state: the authd_redis_up gauge, key-ring events from other
// replicas, and the re-sync of what a replica missed while it was cut off.

#include <memory>
#include <vector>

#include "app/components.h"
#include "app/janitor.h"
#include "app/store_watch.h"
#include "authd/auth/rate_limiter.h"
#include "authd/auth/service.h"
#include "authd/auth/session_store.h"
#include "authd/cache/local_rate_limiter.h"
#include "authd/cache/redis_client.h"
#include "authd/cache/redis_rate_limiter.h"
#include "authd/cache/redis_revocation_list.h"
#include "authd/cache/redis_used_assertions.h"
#include "authd/config/config.h"
#include "authd/keys/key_ring_service.h"
#include "authd/obs/metrics.h"

namespace authd::app {

struct SharedState {
  std::unique_ptr<cache::LocalRateLimiter> local;
  std::unique_ptr<cache::RedisClient> redis;  ///< null without redis.url
  std::unique_ptr<cache::RedisRateLimiter> login_limiter, refresh_limiter;
  std::unique_ptr<cache::RedisRevocationList> revocations;
  std::unique_ptr<cache::RedisUsedAssertions> used_assertions;  ///< private_key_jwt jti
  std::vector<cache::CallbackHandle> handles;  ///< cleared before the things they capture die

  auth::RateLimiter* login() {
    return login_limiter ? static_cast<auth::RateLimiter*>(login_limiter.get()) : local.get();
  }
  auth::RateLimiter* refresh() {
    return refresh_limiter ? static_cast<auth::RateLimiter*>(refresh_limiter.get()) : local.get();
  }
};

/// The limiters and revocation list as configured (redis.url, its password file, the
/// limits.*_when_redis_down policies). Exit code 2 for a bad URL or password file.
AppResult<std::unique_ptr<SharedState>> make_shared_state(const config::Config& cfg,
                                                          const Clock& clock);

/// How long a replica keeps a client it read: long while authctl's change events reach it
/// through Redis, a second when they cannot (no Redis, or Redis down), so that a change takes
/// effect everywhere within a second either way.
inline constexpr std::int64_t kClientCacheWithEvents = 30;
inline constexpr std::int64_t kClientCacheWithoutEvents = 1;

/// How replicas tell each other they reach the store (StoreWatch::Peers): a Redis key every
/// reachable replica refreshes with a short expiry. Empty without Redis (an outage then counts
/// as shared: the replica stays in the balancer and holds its requests).
StoreWatch::Peers store_peers(SharedState& st);

/// With Redis: keeps the authd_redis_up gauge, reloads the key ring on another replica's
/// "keys_changed", forgets a client on "client_changed" (and shortens the client cache while
/// Redis is down), and after a reconnect reloads the ring and re-reads the revocations of the
/// last `revocation_window_s` from the store (on the janitor's thread) that pub/sub may have
/// lost. Everything passed must outlive `st.handles`. Without Redis: sets nothing else.
void watch_redis(SharedState& st, obs::Registry& metrics, keys::KeyRingService& key_service,
                 auth::AuthService& service, Janitor& janitor, auth::SessionStore& sessions,
                 const Clock& clock, std::int64_t revocation_window_s);

}  // namespace authd::app
