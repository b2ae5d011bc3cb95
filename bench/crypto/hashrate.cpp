// Argon2id throughput probe: how many password hashes per second this machine sustains with
// authd's own Argon2id (crypto::hash_password) and with libsodium's crypto_pwhash_str, on 1..N
// threads, in alternating rounds of one run; then the medians and the ratios. The login
// benchmark compares its rate against this ceiling: a login is one verify_password() (the
// same work as a hash) plus everything else. Each compression kernel's single-thread rate is
// reported too, like `openssl speed`.
//
// Usage: hashrate [seconds_per_run=2] [max_threads=2] [ops_limit=2] [mem_limit_bytes=19MiB]
//                 [rounds=3]

#include <sodium.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "authd/crypto/init.h"
#include "authd/crypto/password.h"
#include "crypto/argon2/argon2.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace crypto = authd::crypto;
namespace argon2 = authd::crypto::argon2;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Rate {
  double per_second;
  double cpu_ms_per_op;  // process CPU time per operation: what the work costs, load aside
};

// Runs `op` on `threads` threads until `seconds` elapse; each thread finishes its current call.
Rate measure(int threads, double seconds, const std::function<bool()>& op) {
  const double cpu_start = cpu_seconds();
  std::atomic<long> done{0};
  std::atomic<bool> failed{false};
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
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
  const double n = static_cast<double>(done);
  return {n / elapsed, 1000.0 * (cpu_seconds() - cpu_start) / n};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  const int max_threads = argc > 2 ? std::atoi(argv[2]) : 2;
  crypto::PasswordParams params;
  if (argc > 3) params.ops_limit = std::strtoull(argv[3], nullptr, 10);
  if (argc > 4) params.mem_limit_bytes = std::strtoull(argv[4], nullptr, 10);
  const int rounds = argc > 5 ? std::atoi(argv[5]) : 3;

  if (!crypto::init()) {
    std::fprintf(stderr, "libsodium init failed\n");
    return 1;
  }
  if (!crypto::validate(params)) {
    std::fprintf(stderr, "invalid params\n");
    return 1;
  }
  const std::string password = "benchmark-password";
  const auto ours = [&] { return static_cast<bool>(crypto::hash_password(password, params)); };
  const auto sodium = [&] {
    char out[crypto_pwhash_STRBYTES];
    return crypto_pwhash_str_alg(out, password.data(), password.size(), params.ops_limit,
                                 params.mem_limit_bytes, crypto_pwhash_ALG_ARGON2ID13) == 0;
  };
  std::vector<argon2::Kernel> kernels;
  for (auto k : {argon2::Kernel::kPortable, argon2::Kernel::kAvx2, argon2::Kernel::kAvx512}) {
    if (argon2::kernel_supported(k)) kernels.push_back(k);
  }
  const argon2::Params raw{.type = argon2::Type::kArgon2id,
                           .t_cost = static_cast<std::uint32_t>(params.ops_limit),
                           .m_cost_kib = static_cast<std::uint32_t>(params.mem_limit_bytes / 1024),
                           .lanes = 1};
  const unsigned char salt[16] = {};

  std::printf("argon2id t=%llu m=%zu KiB p=1, %u hardware threads, %.1f s per run, %d rounds\n",
              static_cast<unsigned long long>(params.ops_limit), params.mem_limit_bytes / 1024,
              std::thread::hardware_concurrency(), seconds, rounds);
  std::printf("authd's kernel: %s\n\n",
              std::string(argon2::kernel_name(argon2::best_kernel())).c_str());
  std::printf("%-6s %-22s %-8s %12s %12s\n", "round", "impl", "threads", "hashes/s", "cpu_ms/hash");
  std::map<std::string, std::vector<double>> rates;
  std::map<std::string, std::vector<double>> cpu;
  for (int round = 1; round <= rounds; ++round) {
    // Alternate which implementation goes first, so neither always meets the same load.
    std::vector<std::pair<std::string, std::function<bool()>>> order{{"authd", ours},
                                                                     {"libsodium", sodium}};
    if (round % 2 == 0) std::swap(order[0], order[1]);
    for (const auto& [name, op] : order) {
      for (int threads = 1; threads <= max_threads; ++threads) {
        const Rate r = measure(threads, seconds, op);
        rates[name + "/" + std::to_string(threads)].push_back(r.per_second);
        cpu[name + "/" + std::to_string(threads)].push_back(r.cpu_ms_per_op);
        std::printf("%-6d %-22s %-8d %12.1f %12.2f\n", round, name.c_str(), threads, r.per_second,
                    r.cpu_ms_per_op);
      }
    }
    for (auto k : kernels) {
      const std::string name = "authd-" + std::string(argon2::kernel_name(k));
      const Rate r = measure(1, seconds, [&] {
        unsigned char tag[32];
        return argon2::hash(raw, {.password = {}, .salt = salt}, tag, k);
      });
      rates[name + "/1"].push_back(r.per_second);
      cpu[name + "/1"].push_back(r.cpu_ms_per_op);
      std::printf("%-6d %-22s %-8d %12.1f %12.2f\n", round, name.c_str(), 1, r.per_second,
                  r.cpu_ms_per_op);
    }
  }

  std::printf("\nmedians\n%-22s %-8s %12s %12s\n", "impl", "threads", "hashes/s", "cpu_ms/hash");
  for (const auto& [key, v] : rates) {
    const auto slash = key.rfind('/');
    const int threads = std::atoi(key.c_str() + slash + 1);
    const double m = median(v);
    std::printf("%-22s %-8d %12.1f %12.2f\n", key.substr(0, slash).c_str(), threads, m,
                median(cpu[key]));
  }
  const auto med = [&](const std::string& k) { return median(rates[k]); };
  std::printf("\nratios (medians of the same run)\n");
  for (int threads = 1; threads <= max_threads; ++threads) {
    const std::string t = std::to_string(threads);
    std::printf("authd / libsodium, %d thread(s): %.2f\n", threads,
                med("authd/" + t) / med("libsodium/" + t));
  }
  if (max_threads >= 2) {
    std::printf("scaling 2 / 1 threads: authd %.2f, libsodium %.2f\n",
                med("authd/2") / med("authd/1"), med("libsodium/2") / med("libsodium/1"));
  }
  return 0;
}
