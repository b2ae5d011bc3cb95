#include "app/redis_wiring.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "authd/obs/log.h"

namespace authd::app {
namespace {

cache::RedisDownPolicy down_policy(config::RedisDownPolicy p) {
  return p == config::RedisDownPolicy::kClosed ? cache::RedisDownPolicy::kFailClosed
                                               : cache::RedisDownPolicy::kLocalFallback;
}

// Revocations published while this replica was cut off were lost: re-read them from the store.
void resync_revocations(SharedState& st, auth::SessionStore& sessions, const Clock& clock,
                        std::int64_t window_s) {
  const auto now = clock.now_unix();
  auto ids = sessions.revoked_since(now - window_s);
  if (!ids) {
    log::warn("cache.revocation_resync_failed", {{"reason", ids.error().message}});
    return;
  }
  for (const auto& id : *ids) st.revocations->mark_revoked_local(id, now + window_s);
  // Revoked access tokens are few (explicit RFC 7009 calls): write them back to Redis too,
  // which also heals a Redis that restarted empty.
  auto tokens = sessions.revoked_tokens(now, 100000);
  if (tokens)
    for (const auto& [jti, until] : *tokens) st.revocations->revoke_token(jti, until);
  log::info("cache.revocation_resync",
            {{"sessions", ids->size()}, {"tokens", tokens ? tokens->size() : 0}});
}

}  // namespace

AppResult<std::unique_ptr<SharedState>> make_shared_state(const config::Config& cfg,
                                                          const Clock& clock) {
  auto st = std::make_unique<SharedState>();
  st->local = std::make_unique<cache::LocalRateLimiter>(clock);
  if (cfg.redis.url.empty()) return st;
  auto opts = cache::parse_redis_url(cfg.redis.url);
  if (!opts)
    return unexpected(Failure{2, "invalid configuration: redis.url: " + opts.error().message});
  opts->command_timeout = cfg.redis.command_timeout;
  if (!cfg.redis.password_file.empty()) {
    auto password = read_password_file("redis.password_file", cfg.redis.password_file);
    if (!password) return unexpected(password.error());
    opts->password = std::move(*password);
  }
  auto client = cache::RedisClient::create(*opts);
  if (!client)
    return unexpected(Failure{1, "cannot start the Redis client: " + client.error().message});
  st->redis = std::move(*client);
  cache::RedisRateLimiterOptions lo;
  lo.fallback_factor = cfg.limits.fallback_factor;
  lo.down_policy = down_policy(cfg.limits.login_when_redis_down);
  st->login_limiter = std::make_unique<cache::RedisRateLimiter>(*st->redis, *st->local, lo);
  lo.down_policy = down_policy(cfg.limits.refresh_when_redis_down);
  st->refresh_limiter = std::make_unique<cache::RedisRateLimiter>(*st->redis, *st->local, lo);
  st->revocations = std::make_unique<cache::RedisRevocationList>(*st->redis, clock);
  st->used_assertions = std::make_unique<cache::RedisUsedAssertions>(*st->redis);
  return st;
}

StoreWatch::Peers store_peers(SharedState& st) {
  if (!st.redis) return {};
  // The latest time any replica reached the store (Unix ms), kept only while it is fresh.
  // A replica whose probes fail asks whether someone succeeded since its own first failure:
  // during a failover nobody has, and every replica stays in the pool.
  static constexpr const char* kKey = "authd:store_reachable_at";
  cache::RedisClient& redis = *st.redis;
  auto announce = [&redis](std::int64_t at_ms) {
    (void)redis.command({"SET", kKey, std::to_string(at_ms), "PX", "10000"});
  };
  auto reached_since = [&redis](std::int64_t since_ms) {
    auto r = redis.command({"GET", kKey});
    if (!r || r->type != cache::Reply::Type::kString) return false;
    char* end = nullptr;
    const long long at = std::strtoll(r->str.c_str(), &end, 10);
    return end != r->str.c_str() && at > since_ms;
  };
  return StoreWatch::Peers{announce, reached_since};
}

void watch_redis(SharedState& st, obs::Registry& metrics, keys::KeyRingService& key_service,
                 auth::AuthService& service, Janitor& janitor, auth::SessionStore& sessions,
                 const Clock& clock, std::int64_t revocation_window_s) {
  // Without Redis configured there is no gauge: 0 would fire the "Redis down" alert for a
  // set-up that never had one.
  if (!st.redis) return;
  auto& redis_up =
      metrics.gauge("authd_redis_up", "1 while Redis answers; 0 while authd runs on its fallbacks.")
          .get();
  redis_up.set(st.redis->available() ? 1 : 0);
  if (!st.redis->available()) service.set_client_cache_seconds(kClientCacheWithoutEvents);
  st.handles.push_back(st.redis->on_state_change([&redis_up, &st, &service](bool up) {
    redis_up.set(up ? 1 : 0);
    // Client change events cannot arrive while Redis is down: re-read clients from the store.
    service.set_client_cache_seconds(up ? kClientCacheWithEvents : kClientCacheWithoutEvents);
    if (up) service.forget_client("");  // events may have been missed
    if (up)
      log::info("cache.redis_up", {{"endpoint", st.redis->endpoint()}});
    else
      log::warn("cache.redis_down", {{"reason", st.redis->last_error()},
                                     {"fallback", "local limits, store revocation checks"}});
  }));
  st.handles.push_back(st.revocations->on_event(
      [&key_service, &service](const std::string& type, const std::string& payload) {
        if (type == "keys_changed") key_service.notify();
        if (type == "client_changed") {
          // authctl changed or deleted a client: drop this replica's copy now.
          auto j = nlohmann::json::parse(payload, nullptr, false);
          auto it = j.is_object() ? j.find("client_id") : j.end();
          service.forget_client(it != j.end() && it->is_string() ? it->get<std::string>()
                                                                 : std::string());
        }
      }));
  // Key-ring events were lost too while cut off: reload the ring now, not at the next poll.
  st.handles.push_back(st.revocations->on_reconnect(
      [&janitor, &sessions, &clock, &st, &key_service, revocation_window_s] {
        key_service.notify();
        janitor.post([&st, &sessions, &clock, revocation_window_s] {
          resync_revocations(st, sessions, clock, revocation_window_s);
        });
      }));
}

}  // namespace authd::app
