#include "authd/cache/redis_rate_limiter.h"

#include <algorithm>
#include <cmath>

#include "cache/local/gcra.h"

namespace authd::cache {
namespace {

// GCRA, line for line the same as detail::gcra() in src/cache/local/gcra.h (keep in step).
// KEYS[1] = bucket; ARGV = emission interval (µs), burst, cost, consume (1|0).
// Returns {allowed 1|0, remaining, retry_after_ms, reset_ms}.
// Time is Redis' own (TIME): every replica, and a promoted replica, see the same clock.
// Redis 7 replicates scripts by effects, so reading TIME before a write is allowed.
constexpr const char* kGcraLua = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local capacity = interval * burst
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
if tat > now + capacity then tat = now + capacity end
local nxt = tat + cost * interval
local after = tat
local allowed = 0
local retry = 0
if nxt - now <= capacity then
  allowed = 1
  after = nxt
  if ARGV[4] == '1' and cost > 0 then
    redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.ceil((nxt - now) / 1000))
  end
else
  retry = nxt - now - capacity
end
return {allowed, math.floor((capacity - (after - now)) / interval),
        math.ceil(retry / 1000), math.ceil((after - now) / 1000)}
)lua";

const RedisScript& gcra_script() {
  static const RedisScript script{kGcraLua};
  return script;
}

auth::Limit scaled(const auth::Limit& limit, double factor) {
  auto scale = [factor](std::int64_t v) {
    return std::max<std::int64_t>(1, std::llround(static_cast<double>(v) * factor));
  };
  return auth::Limit{scale(limit.rate_per_minute), scale(limit.burst)};
}

}  // namespace

RedisRateLimiter::RedisRateLimiter(RedisClient& client, LocalRateLimiter& fallback,
                                   RedisRateLimiterOptions options)
    : client_(client), fallback_(fallback), options_(std::move(options)) {
  if (!(options_.fallback_factor > 0.0)) options_.fallback_factor = 1.0;
}

RedisRateLimiter::~RedisRateLimiter() = default;

const std::string& RedisRateLimiter::script_source() { return gcra_script().source(); }

auth::Decision RedisRateLimiter::check(std::string_view key, const auth::Limit& limit,
                                       std::int64_t cost) {
  return run(key, limit, cost, true, options_.down_policy);
}

auth::Decision RedisRateLimiter::check(std::string_view key, const auth::Limit& limit,
                                       std::int64_t cost, RedisDownPolicy policy) {
  return run(key, limit, cost, true, policy);
}

auth::Decision RedisRateLimiter::peek(std::string_view key, const auth::Limit& limit) {
  return run(key, limit, 1, false, options_.down_policy);
}

auth::Decision RedisRateLimiter::peek(std::string_view key, const auth::Limit& limit,
                                      RedisDownPolicy policy) {
  return run(key, limit, 1, false, policy);
}

void RedisRateLimiter::reset(std::string_view key) {
  // Both: the fallback may hold a bucket from a Redis outage that would otherwise outlive it.
  fallback_.reset(key);
  if (client_.available()) {
    auto r = client_.command(
        {"DEL", options_.prefix + std::string(key)},
        options_.timeout.count() > 0 ? std::optional(options_.timeout) : std::nullopt);
    (void)r;  // best effort: a stale bucket only refills
  }
}

std::vector<std::string> RedisRateLimiter::script_args(const auth::Limit& limit, std::int64_t cost,
                                                       bool consume) {
  return {std::to_string(detail::interval_us(limit)), std::to_string(limit.burst),
          std::to_string(cost), consume ? "1" : "0"};
}

std::optional<auth::Decision> RedisRateLimiter::parse(const CacheResult<Reply>& r,
                                                      const auth::Limit& limit) {
  if (!r || r->type != Reply::Type::kArray || r->elements.size() != 4 ||
      std::any_of(r->elements.begin(), r->elements.end(),
                  [](const Reply& e) { return e.type != Reply::Type::kInteger; })) {
    return std::nullopt;
  }
  auth::Decision d;
  d.allowed = r->elements[0].integer == 1;
  d.limit = limit.burst;
  d.remaining = r->elements[1].integer;
  d.retry_after_ms = r->elements[2].integer;
  d.reset_ms = r->elements[3].integer;
  return d;
}

auth::Decision RedisRateLimiter::run(std::string_view key, const auth::Limit& limit,
                                     std::int64_t cost, bool consume, RedisDownPolicy policy) {
  if (!detail::valid(limit)) return detail::invalid_limit_decision(limit);
  cost = std::max<std::int64_t>(0, cost);
  if (!client_.available()) return degrade(key, limit, cost, consume, policy);
  auto r = client_.eval(
      gcra_script(), {options_.prefix + std::string(key)}, script_args(limit, cost, consume),
      options_.timeout.count() > 0 ? std::optional(options_.timeout) : std::nullopt);
  if (auto d = parse(r, limit)) return *d;
  return degrade(key, limit, cost, consume, policy);
}

void RedisRateLimiter::check_async(std::string_view key, const auth::Limit& limit,
                                   std::int64_t cost, std::function<void(auth::Decision)> done) {
  if (!detail::valid(limit)) return done(detail::invalid_limit_decision(limit));
  cost = std::max<std::int64_t>(0, cost);
  const RedisDownPolicy policy = options_.down_policy;
  if (!client_.available()) return done(degrade(key, limit, cost, true, policy));
  client_.eval_async(gcra_script(), {options_.prefix + std::string(key)},
                     script_args(limit, cost, true),
                     options_.timeout.count() > 0 ? std::optional(options_.timeout) : std::nullopt,
                     [this, k = std::string(key), limit, cost, policy,
                      done = std::move(done)](CacheResult<Reply> r) {
                       if (auto d = parse(r, limit)) return done(*d);
                       done(degrade(k, limit, cost, true, policy));
                     });
}

auth::Decision RedisRateLimiter::degrade(std::string_view key, const auth::Limit& limit,
                                         std::int64_t cost, bool consume, RedisDownPolicy policy) {
  if (policy == RedisDownPolicy::kFailClosed) {
    auth::Decision d;
    d.allowed = false;
    d.limit = limit.burst;
    d.retry_after_ms = options_.fail_closed_retry_after_ms;
    d.reset_ms = options_.fail_closed_retry_after_ms;
    d.degraded = true;
    return d;
  }
  const auth::Limit local = scaled(limit, options_.fallback_factor);
  auth::Decision d = consume ? fallback_.check(key, local, cost) : fallback_.peek(key, local);
  d.degraded = true;
  return d;
}

}  // namespace authd::cache
