// Latency of RedisRateLimiter::check next to a plain PING through the same RedisClient (the
// floor: one round trip through the I/O thread), a synchronous hiredis PING (the floor
// without the thread hop), and LocalRateLimiter::check. Then throughput with several
// threads sharing the client (their commands are pipelined on one connection).
//
// Usage: authd_cache_ratelimit_bench <redis-url> [iterations] [threads]
// Prints one table; bench/cache/run.sh builds it and provides the Redis.

#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "authd/cache/local_rate_limiter.h"
#include "authd/cache/redis_client.h"
#include "authd/cache/redis_rate_limiter.h"

namespace {

using Clock = std::chrono::steady_clock;
using authd::cache::LocalRateLimiter;
using authd::cache::RedisClient;
using authd::cache::RedisRateLimiter;

struct Stats {
  double p50 = 0, p99 = 0, p999 = 0, mean = 0;
  std::size_t failures = 0;
};

Stats summarize(std::vector<double>& us, std::size_t failures) {
  Stats s;
  s.failures = failures;
  if (us.empty()) return s;
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    return us[std::min(us.size() - 1, static_cast<std::size_t>(q * us.size()))];
  };
  s.p50 = at(0.50);
  s.p99 = at(0.99);
  s.p999 = at(0.999);
  double sum = 0;
  for (double v : us) sum += v;
  s.mean = sum / us.size();
  return s;
}

/// Runs `op` n times after a warm-up; latencies in microseconds.
Stats measure(int n, const std::function<bool(int)>& op) {
  for (int i = 0; i < std::min(n / 10, 2000); ++i) op(i);
  std::vector<double> us;
  us.reserve(n);
  std::size_t failures = 0;
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    const bool ok = op(i);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (!ok) ++failures;
  }
  return summarize(us, failures);
}

void row(const char* name, const Stats& s) {
  std::printf("%-40s | %8.1f | %8.1f | %8.1f | %8.1f | %zu\n", name, s.p50, s.p99, s.p999, s.mean,
              s.failures);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <redis-url> [iterations] [threads]\n", argv[0]);
    return 2;
  }
  const int n = argc > 2 ? std::atoi(argv[2]) : 20000;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 4;
  auto options = authd::cache::parse_redis_url(argv[1]);
  if (!options) {
    std::fprintf(stderr, "%s\n", options.error().message.c_str());
    return 2;
  }
  options->command_timeout = std::chrono::milliseconds(1000);  // measure, don't cut off
  auto created = RedisClient::create(*options);
  if (!created || !(*created)->wait_until_available(std::chrono::seconds(3))) {
    std::fprintf(stderr, "cannot connect to %s\n", authd::cache::describe(*options).c_str());
    return 1;
  }
  RedisClient& client = **created;
  authd::SystemClock clock;
  LocalRateLimiter local(clock);
  RedisRateLimiter redis_limiter(client, local);
  // Large limits: every check is an allowed one that writes its key (the common case).
  const authd::auth::Limit limit{600'000, 1'000'000};
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i)
    keys.push_back("bench:ip:10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250));

  // Synchronous hiredis on the calling thread: the round trip without our thread hop.
  redisContext* sync = redisConnect(options->endpoint.host.c_str(), options->endpoint.port);
  if (sync == nullptr || sync->err) {
    std::fprintf(stderr, "hiredis sync connect failed\n");
    return 1;
  }
  if (!options->password.empty())
    freeReplyObject(redisCommand(sync, "AUTH %s", options->password.c_str()));
  // The limiter's own script, run synchronously: its server-side cost without our client.
  const std::string sha = authd::cache::RedisScript(RedisRateLimiter::script_source()).sha1();
  freeReplyObject(redisCommand(sync, "SCRIPT LOAD %s", RedisRateLimiter::script_source().c_str()));
  const std::string interval = std::to_string(60'000'000 / limit.rate_per_minute);
  const std::string burst = std::to_string(limit.burst);

  std::printf("single thread, %d calls each, latency in microseconds\n", n);
  std::printf("%-40s | %8s | %8s | %8s | %8s | %s\n", "operation", "p50", "p99", "p99.9", "mean",
              "failed");
  std::printf(
      "-----------------------------------------+----------+----------+----------+----------+------"
      "-\n");
  // Two rounds, interleaved, so that drift on a shared machine hits every row alike.
  for (int round = 1; round <= 2; ++round) {
    row("hiredis sync PING (no thread hop)", measure(n, [&](int) {
          auto* r = static_cast<redisReply*>(redisCommand(sync, "PING"));
          const bool ok = r != nullptr;
          if (r) freeReplyObject(r);
          return ok;
        }));
    row("RedisClient::command(PING)",
        measure(n, [&](int) { return client.command({"PING"}).has_value(); }));
    row("hiredis sync EVALSHA (same script)", measure(n, [&](int i) {
          const std::string key = "authd:rl:" + keys[i % keys.size()];
          auto* r = static_cast<redisReply*>(redisCommand(sync, "EVALSHA %s 1 %b %s %s 1 1",
                                                          sha.c_str(), key.data(), key.size(),
                                                          interval.c_str(), burst.c_str()));
          const bool ok = r != nullptr && r->type == REDIS_REPLY_ARRAY;
          if (r) freeReplyObject(r);
          return ok;
        }));
    row("RedisRateLimiter::check (EVALSHA)", measure(n, [&](int i) {
          return !redis_limiter.check(keys[i % keys.size()], limit).degraded;
        }));
    row("LocalRateLimiter::check",
        measure(n, [&](int i) { return local.check(keys[i % keys.size()], limit).allowed; }));
  }
  redisFree(sync);

  std::printf("\n%d threads sharing one RedisClient, %d checks each\n", threads, n / 2);
  std::printf("%-40s | %8s | %8s | %8s | %10s\n", "operation", "p50", "p99", "p99.9", "checks/s");
  std::printf(
      "-----------------------------------------+----------+----------+----------+-----------\n");
  auto parallel = [&](const char* name, const std::function<bool(int)>& op) {
    std::vector<std::vector<double>> per(threads);
    std::atomic<std::size_t> failures{0};
    const auto t0 = Clock::now();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        per[t].reserve(n / 2);
        for (int i = 0; i < n / 2; ++i) {
          const auto s = Clock::now();
          if (!op(t * 7919 + i)) ++failures;
          per[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
        }
      });
    }
    for (auto& t : ts) t.join();
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<double> all;
    for (auto& v : per) all.insert(all.end(), v.begin(), v.end());
    Stats s = summarize(all, failures);
    std::printf("%-40s | %8.1f | %8.1f | %8.1f | %10.0f\n", name, s.p50, s.p99, s.p999,
                static_cast<double>(all.size()) / secs);
  };
  parallel("RedisClient::command(PING)", [&](int) { return client.command({"PING"}).has_value(); });
  parallel("RedisRateLimiter::check (EVALSHA)",
           [&](int i) { return !redis_limiter.check(keys[i % keys.size()], limit).degraded; });
  parallel("LocalRateLimiter::check",
           [&](int i) { return local.check(keys[i % keys.size()], limit).allowed; });

  for (const auto& k : keys) redis_limiter.reset(k);
  const auto st = client.stats();
  std::printf("\nclient: %llu calls, %llu timeouts, %llu unavailable\n",
              static_cast<unsigned long long>(st.calls),
              static_cast<unsigned long long>(st.timeouts),
              static_cast<unsigned long long>(st.unavailable));
  return 0;
}
