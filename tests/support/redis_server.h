#pragma once
// Test helper: redis-server processes owned by one test (a plain server, a replica, a
// sentinel), on free ports below 32768, with configs regenerated on every run (Sentinel
// rewrites them), daemonized with pidfiles in a temp dir and stopped by PID, never by name.
// Used by the Redis integration tests, the daemon tests and the contract tests.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "authd/cache/redis_client.h"
#include "support/eventually.h"
#include "support/process.h"

namespace authd::testing {

using cache::CacheResult;
using cache::RedisClient;
using cache::RedisOptions;

/// A free TCP port on 127.0.0.1 in [21000, 32000): below the ephemeral range (TESTENV §0).
int free_port();

class RedisServer {
 public:
  struct Config {
    std::string password;           ///< requirepass
    std::optional<int> replica_of;  ///< replicaof 127.0.0.1 <port>
    std::string master_password;    ///< masterauth
    /// Sentinel mode: monitor `master_name` at 127.0.0.1:<monitor_port>, quorum 1.
    std::optional<int> sentinel_monitor_port;
    std::string master_name = "authredis";
  };

  RedisServer(const std::string& dir, std::string name, Config config, int port = 0);
  ~RedisServer();  // stop()
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  /// Writes the config and starts the server; waits until it answers PING (5 s).
  bool start();
  /// SIGKILL by pidfile (`kill -9`), and waits for the process to be gone.
  void kill9();
  /// SIGTERM by pidfile (save "" → exits at once), waits; SIGKILL after 5 s.
  void stop();
  bool running() const;
  /// Runs a command on a fresh synchronous connection (AUTH if configured). For tests only.
  std::optional<std::string> cli(const std::vector<std::string>& args) const;

  int port() const { return port_; }
  std::string url() const;
  RedisOptions options() const;
  /// From the pidfile.
  std::optional<pid_t> pid() const;

 private:
  bool answers_ping() const;

  std::string dir_;
  std::string name_;
  Config config_;
  int port_;
};

/// The shared server from scripts/services (AUTHD_TEST_REDIS_URL) or, when that is unset,
/// one started for this test binary. Never stopped by tests.
RedisOptions shared_redis_options();

/// The receiver count of a publish, 0 on error.
inline std::int64_t receivers(const CacheResult<std::int64_t>& r) { return r ? *r : 0; }

/// What a RedisClient's on_state_change callbacks reported, in order; safe to read while the
/// I/O thread records.
class StateLog {
 public:
  std::function<void(bool)> recorder() {
    return [this](bool up) {
      std::lock_guard lock(mutex_);
      seen_.push_back(up);
    };
  }
  std::vector<bool> seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<bool> seen_;
};

/// A client that is connected (fails the test otherwise).
std::unique_ptr<RedisClient> connect_or_fail(
    RedisOptions options, std::chrono::milliseconds wait = std::chrono::seconds(3));

}  // namespace authd::testing
