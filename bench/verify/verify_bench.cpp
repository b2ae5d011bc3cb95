// authd::verify (the library resource servers install) under load: throughput per core with a
// warm JWKS cache, and verify() latency with many threads while the cache refreshes.
//
// Links the built shared library (libauthd-verify.so) through its public API only; authd's
// jose module is linked beside it solely to make keys, JWKS documents and tokens.
//
// Usage:
//   authd_verify_bench throughput <seconds> <RS256|ES256|EdDSA> <threads>
//     Each thread verifies one valid token until it has used <seconds> of CPU time, against a
//     Verifier over a JwksCache that has fetched its keys (max-age 1 h: no fetch while timed).
//     Output: "<alg> <threads> <verify/s per CPU-second> <verify/s wall, all threads>".
//     Per CPU-second, like `openssl speed`, so that time descheduled on a shared machine does
//     not count against us; the 2-thread figure shows whether threads slow each other down.
//   authd_verify_bench latency <seconds> <threads> [fetch-delay-ms [think-ms]]
//     <threads> threads verify ES256 tokens, each pausing think-ms (default 100, jittered
//     ±50 %) between calls like a server thread between requests (1,000 threads then offer
//     ~10,000 verifications/s, under what two cores do: the tail shows waiting on the cache,
//     not the run queue). For <seconds> first with a fresh cache (steady),
//     then while the JWKS keeps changing: every response says max-age=1 (an expiry refresh
//     each second), and every 1.5 s the fetcher publishes a new key that a tenth of the
//     threads start using at once (an unknown-kid refetch). The fetcher takes fetch-delay-ms
//     (default 100) per request, like a network round trip. Output: one line per class of
//     call, "<class> <calls> <p50 us> <p99 us> <max us>", then "fetches <n> rejected <n>".
//     No lock convoy means: calls with a known kid stay near the steady figures during
//     refreshes, whatever the fetch delay; only the call that runs the fetch and the calls
//     that need a new key wait for it.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "authd/jose/jws.h"
#include "authd/jose/key.h"
#include "authd/verify/jwks_cache.h"
#include "authd/verify/verifier.h"

namespace {

namespace v = authd::verify;
namespace jose = authd::jose;
using Clock = std::chrono::steady_clock;

constexpr const char* kIssuer = "https://auth.example.com";
constexpr const char* kAudience = "api://orders";
constexpr const char* kJwksUri = "https://auth.example.com/.well-known/jwks.json";

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "authd_verify_bench: %s\n", what);
  std::exit(1);
}

jose::KeyPtr make_key(jose::Alg alg) {
  auto key = jose::Key::generate(alg);
  if (!key) die("key generation failed");
  return *key;
}

// A token as authd issues it, valid for an hour from now.
std::string make_token(const jose::Key& key) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const nlohmann::json claims = {{"iss", kIssuer},
                                 {"sub", "5c0f7d1e-2f0e-4d6b-9c1a-8e3f2b7a9d10"},
                                 {"aud", kAudience},
                                 {"iat", now - 5},
                                 {"nbf", now - 5},
                                 {"exp", now + 3600},
                                 {"jti", "0d9e4c8a-1b2f-4a3e-9f7d-6c5b4a3e2d1f"},
                                 {"client_id", "web-app"},
                                 {"scope", "orders:read orders:write"},
                                 {"sid", "7a1c9e2b-3d4f-4e5a-8b6c-9d0e1f2a3b4c"}};
  auto t = jose::sign(key, claims);
  if (!t) die("signing failed");
  return *t;
}

std::string jwks(const std::vector<jose::KeyPtr>& keys) {
  nlohmann::json doc = {{"keys", nlohmann::json::array()}};
  for (const auto& k : keys) doc["keys"].push_back(k->public_jwk());
  return doc.dump();
}

v::Options verifier_options() {
  v::Options o;
  o.issuer = kIssuer;
  o.audiences = {kAudience};
  return o;
}

int throughput(double seconds, jose::Alg alg, int threads) {
  const auto key = make_key(alg);
  const std::string token = make_token(*key);
  const std::string body = jwks({key});
  v::CacheOptions c;
  c.jwks_uri = kJwksUri;
  c.fetcher = [&body](const std::string&, const v::Headers&) {
    v::HttpResponse r;
    r.status = 200;
    r.headers = {{"Cache-Control", "max-age=3600"}};
    r.body = body;
    return r;
  };
  auto cache = std::make_shared<v::JwksCache>(c);
  if (!cache->refresh()) die("the cache did not load");
  const v::Verifier verifier(verifier_options(), cache);
  if (!verifier.verify(token)) die("the token does not verify");

  std::vector<long long> counts(static_cast<std::size_t>(threads));
  std::vector<double> cpu(static_cast<std::size_t>(threads));
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      ready++;
      while (!go.load()) std::this_thread::yield();
      for (int w = 0; w < 3; ++w) (void)verifier.verify(token);
      long long n = 0;
      const double start = thread_cpu_seconds();
      double used = 0;
      do {
        for (int k = 0; k < 16; ++k)
          if (!verifier.verify(token)) die("a valid token was refused");
        n += 16;
        used = thread_cpu_seconds() - start;
      } while (used < seconds);
      counts[static_cast<std::size_t>(i)] = n;
      cpu[static_cast<std::size_t>(i)] = used;
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  const auto wall_start = Clock::now();
  go = true;
  for (auto& t : pool) t.join();
  const double wall = std::chrono::duration<double>(Clock::now() - wall_start).count();
  long long n = 0;
  double cpu_total = 0;
  for (int i = 0; i < threads; ++i) {
    n += counts[static_cast<std::size_t>(i)];
    cpu_total += cpu[static_cast<std::size_t>(i)];
  }
  std::printf("%s %d %.1f %.1f\n", std::string(jose::to_string(alg)).c_str(), threads,
              static_cast<double>(n) / cpu_total, static_cast<double>(n) / wall);
  return 0;
}

// Latency samples of one class of call, in microseconds.
struct Samples {
  std::mutex mu;
  std::vector<double> us;
  void add(std::vector<double>& local) {
    std::lock_guard l(mu);
    us.insert(us.end(), local.begin(), local.end());
  }
  void print(const char* name) {
    std::sort(us.begin(), us.end());
    auto at = [this](double q) {
      if (us.empty()) return 0.0;
      return us[std::min(us.size() - 1,
                         static_cast<std::size_t>(q * static_cast<double>(us.size())))];
    };
    std::printf("%s %zu %.0f %.0f %.0f\n", name, us.size(), at(0.50), at(0.99),
                us.empty() ? 0.0 : us.back());
  }
};

thread_local bool ran_fetch = false;

int latency(double seconds, int threads, int fetch_delay_ms, int think_ms) {
  constexpr int kMaxRotations = 64;
  std::vector<jose::KeyPtr> keys;
  std::vector<std::string> tokens;
  for (int i = 0; i <= kMaxRotations; ++i) {
    keys.push_back(make_key(jose::Alg::ES256));
    tokens.push_back(make_token(*keys.back()));
  }
  // What the fetcher serves: the previous and the current key of rotation `published`.
  std::atomic<int> published{0};
  std::atomic<int> fetches_running{0};
  std::atomic<bool> churn{false};  // max-age=1 and a delay per fetch (the refresh phase)
  std::vector<std::string> bodies;
  for (int i = 0; i <= kMaxRotations; ++i)
    bodies.push_back(i == 0 ? jwks({keys[0]}) : jwks({keys[i - 1], keys[i]}));

  v::CacheOptions c;
  c.jwks_uri = kJwksUri;
  c.unknown_kid_cooldown = std::chrono::seconds(0);  // every rotation refetches at once
  c.fetcher = [&](const std::string&, const v::Headers&) {
    fetches_running++;
    ran_fetch = true;
    const bool busy = churn.load();
    if (busy) std::this_thread::sleep_for(std::chrono::milliseconds(fetch_delay_ms));
    v::HttpResponse r;
    r.status = 200;
    r.headers = {{"Cache-Control", busy ? "max-age=1" : "max-age=3600"}};
    r.body = bodies[static_cast<std::size_t>(published.load())];
    fetches_running--;
    return r;
  };
  auto cache = std::make_shared<v::JwksCache>(c);
  if (!cache->refresh()) die("the cache did not load");
  const v::Verifier verifier(verifier_options(), cache);

  // Rotation r: the fetcher serves key r, then (once no fetch that could predate it is in
  // flight) the "new signer" threads switch to tokens of key r; the others keep key r-1's.
  std::atomic<int> signing{0};
  std::atomic<bool> stop{false};
  std::atomic<long long> rejected{0};
  Samples steady, known, fresh, fetching;
  std::atomic<bool> measuring_steady{true};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    const bool new_signer = i % 10 == 0;
    pool.emplace_back([&, new_signer, i] {
      std::vector<double> s_steady, s_known, s_fresh, s_fetching;
      std::minstd_rand rng(static_cast<unsigned>(i) + 1);
      std::uniform_int_distribution<int> think(think_ms * 500, think_ms * 1500);  // µs
      ready++;
      while (!go.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      std::this_thread::sleep_for(std::chrono::microseconds(think(rng)));  // spread the starts
      while (!stop.load()) {
        const int cur = signing.load();
        const int idx = new_signer ? cur : std::max(0, cur - 1);
        const bool is_steady = measuring_steady.load();
        ran_fetch = false;
        const auto t0 = Clock::now();
        const bool ok = static_cast<bool>(verifier.verify(tokens[static_cast<std::size_t>(idx)]));
        const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
        if (!ok) rejected++;
        if (is_steady)
          s_steady.push_back(us);
        else if (ran_fetch)
          s_fetching.push_back(us);
        else if (new_signer)
          s_fresh.push_back(us);
        else
          s_known.push_back(us);
        std::this_thread::sleep_for(std::chrono::microseconds(think(rng)));
      }
      steady.add(s_steady);
      known.add(s_known);
      fresh.add(s_fresh);
      fetching.add(s_fetching);
    });
  }
  while (ready.load() < threads) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  go = true;

  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const auto before = cache->stats().fetches;
  churn = true;
  measuring_steady = false;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  int r = 0;
  while (Clock::now() < end && r < kMaxRotations) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    published = ++r;
    while (fetches_running.load() > 0) std::this_thread::yield();
    signing = r;
  }
  stop = true;
  for (auto& t : pool) t.join();

  steady.print("steady");
  known.print("refresh_known_kid");
  fresh.print("refresh_new_kid");
  fetching.print("refresh_ran_fetch");
  std::printf("fetches %llu rotations %d rejected %lld\n",
              static_cast<unsigned long long>(cache->stats().fetches - before), r, rejected.load());
  return rejected.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "throughput" && argc == 5) {
    const auto alg = jose::alg_from_string(argv[3]);
    if (!alg) die("unknown algorithm");
    return throughput(std::atof(argv[2]), *alg, std::atoi(argv[4]));
  }
  if (mode == "latency" && argc >= 4 && argc <= 6)
    return latency(std::atof(argv[2]), std::atoi(argv[3]), argc >= 5 ? std::atoi(argv[4]) : 100,
                   argc >= 6 ? std::atoi(argv[5]) : 100);
  std::fprintf(
      stderr,
      "usage: authd_verify_bench throughput <seconds> <alg> <threads>\n"
      "       authd_verify_bench latency <seconds> <threads> [fetch-delay-ms [think-ms]]\n");
  return 2;
}
