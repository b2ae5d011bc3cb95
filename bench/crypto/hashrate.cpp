// Argon2id throughput probe: how many password hashes / verifications per second this machine
// sustains at given params with 1..N threads. The login benchmark compares its rate against
// this ceiling: a login is one verify_password() plus everything else.
//
// Usage: hashrate [seconds_per_run=3] [max_threads=2] [ops_limit=2] [mem_limit_bytes=19MiB]

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "authd/crypto/init.h"
#include "authd/crypto/password.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace crypto = authd::crypto;

struct Rate {
  double per_second;
  long total;
};

// Runs `op` on `threads` threads until `seconds` elapse; each thread finishes its current call.
template <class Op>
Rate measure(int threads, double seconds, Op op) {
  std::atomic<long> done{0};
  std::atomic<bool> failed{false};
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      while (Clock::now() < deadline) {
        if (!op()) failed = true;
        done.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& th : pool) th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed) {
    std::fprintf(stderr, "an operation failed\n");
    std::exit(1);
  }
  return {static_cast<double>(done) / elapsed, done.load()};
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  const int max_threads = argc > 2 ? std::atoi(argv[2]) : 2;
  crypto::PasswordParams params;
  if (argc > 3) params.ops_limit = std::strtoull(argv[3], nullptr, 10);
  if (argc > 4) params.mem_limit_bytes = std::strtoull(argv[4], nullptr, 10);

  if (!crypto::init()) {
    std::fprintf(stderr, "libsodium init failed\n");
    return 1;
  }
  const auto reference = crypto::hash_password("benchmark-password", params);
  if (!reference) {
    std::fprintf(stderr, "hash_password: %s\n", std::string(to_string(reference.error())).c_str());
    return 1;
  }
  std::printf("argon2id t=%llu m=%zu KiB p=1, %u hardware threads, %.1f s per run\n",
              static_cast<unsigned long long>(params.ops_limit), params.mem_limit_bytes / 1024,
              std::thread::hardware_concurrency(), seconds);
  std::printf("%-8s %-7s %12s %10s %12s\n", "op", "threads", "per_second", "count", "ms_per_op");
  for (int threads = 1; threads <= max_threads; ++threads) {
    const Rate h = measure(threads, seconds, [&] {
      return static_cast<bool>(crypto::hash_password("benchmark-password", params));
    });
    std::printf("%-8s %-7d %12.1f %10ld %12.1f\n", "hash", threads, h.per_second, h.total,
                1000.0 * threads / h.per_second);
    const Rate v = measure(threads, seconds, [&] {
      return crypto::verify_password(*reference, "benchmark-password");
    });
    std::printf("%-8s %-7d %12.1f %10ld %12.1f\n", "verify", threads, v.per_second, v.total,
                1000.0 * threads / v.per_second);
  }
  return 0;
}
