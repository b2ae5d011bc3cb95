#pragma once
// Pipeline: every command of every caller goes through here onto the command link, where
// hiredis pipelines them. It admits a call (connected, fewer than max_in_flight outstanding),
// moves it to the I/O thread, sends it (EVALSHA falling back to EVAL on NOSCRIPT), and
// answers the caller by its deadline: blocking (call) or by callback (call_async).
// Threading: see the contract at the top of include/authd/cache/redis_client.h; which
// members run where is said at each.

#include <hiredis/hiredis.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "authd/cache/redis_client.h"
#include "cache/redis/client_core.h"
#include "cache/redis/counters.h"
#include "cache/redis/link.h"

namespace authd::cache::detail {

class Pipeline {
 public:
  using Millis = std::chrono::milliseconds;
  using Done = std::function<void(CacheResult<Reply>)>;
  /// Sends one call on the I/O thread; the Done it is given runs exactly once, there.
  using Issue = std::function<void(Done)>;

  /// `available` is the client's "command link is up" flag; `io_thread` the I/O thread's id.
  Pipeline(ClientCore& core, Link& command_link, const std::atomic<bool>& available,
           const std::atomic<std::thread::id>& io_thread, ClientCounters& counters);

  // --- any thread ----------------------------------------------------------------------

  /// Queues `issue` and waits for its reply at most `timeout` (default command_timeout).
  /// kInternal on the I/O thread itself, where waiting would deadlock.
  CacheResult<Reply> call(Issue issue, std::optional<Millis> timeout);
  /// As call(), without waiting: `done` runs once, on the I/O thread with the reply or, at
  /// the deadline, kTimeout; or before this returns when the call cannot be queued.
  void call_async(Issue issue, std::optional<Millis> timeout, Done done);

  // --- I/O thread ----------------------------------------------------------------------

  /// Sends on the command link; `done` runs exactly once on the I/O thread.
  void send_command(const std::vector<std::string>& args, Done done);
  /// EVALSHA (`evalsha_args`); on NOSCRIPT, EVAL with `source` in place of the SHA1.
  void send_eval(std::shared_ptr<const std::vector<std::string>> evalsha_args,
                 std::shared_ptr<const std::string> source, Done done);

 private:
  /// Moves `issue` to the I/O thread; `on_reply` runs there with the reply (or the
  /// connection's failure), and only then does the call stop counting against
  /// max_in_flight, however long its caller waited. Fails, having called nothing, when it
  /// cannot be queued.
  CacheResult<void> queue(Issue issue, Done on_reply);
  CacheResult<Reply> finish(redisReply* r, std::uint64_t gen);
  void count_failure(const CacheResult<Reply>& r);

  ClientCore& core_;
  Link& link_;
  const std::atomic<bool>& available_;
  const std::atomic<std::thread::id>& io_thread_;
  ClientCounters& counters_;
  std::atomic<std::size_t> in_flight_{0};
};

}  // namespace authd::cache::detail
