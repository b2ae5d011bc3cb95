#pragma once
// RedisClient: hiredis made safe for authd's worker threads.
//
// One dedicated I/O thread runs an asio::io_context that drives hiredis async contexts
// (through our own Asio adapter): a command connection shared by every caller (commands
// from all threads are pipelined on it), a subscriber connection for pub/sub and, with
// Sentinel, a connection to a sentinel that watches `+switch-master`. Worker threads call
// blocking methods that post the command to the I/O thread and wait for the reply on a
// future, never longer than the timeout. When the connection is down, calls fail at once
// with Errc::kUnavailable while the I/O thread reconnects in the background with
// exponential backoff. Nothing here throws.
//
// THREADING CONTRACT (the one statement of it; the files under src/cache/redis/ refer here)
//
// * The Redis I/O thread owns everything that talks to hiredis: the links (link.h), their
//   connections (connection.h, asio_hiredis.h), the Sentinel resolver (sentinel.h), the host
//   lookups, the backoff state, and the sending half of the pipeline (Pipeline::send_*).
//   None of these is locked; only the I/O thread touches them, and other threads reach them
//   solely by posting a function to the io_context.
// * Worker threads and event-loop threads may call every public member of RedisClient,
//   concurrently. Inside, they touch only: atomics (availability, the in-flight count, the
//   counters), the callback registries and the subscription table (each under its own
//   recursive mutex), the mutex-guarded endpoint/last-error strings, and asio::post.
//   Blocking calls (command, eval, publish) wait on a future, at most their timeout.
//   Event loops must not block: they use eval_async (or a RateLimiter's check_async), whose
//   callback runs on the I/O thread, or at once when the call cannot be queued.
// * Every callback (on_state_change, subscribe, on_resubscribed, command_async,
//   eval_async) runs on the I/O thread: it must be quick and must not call the blocking
//   functions, which detect this and return kInternal instead of deadlocking. Hand longer
//   work (a resync from Postgres) to another thread. A callback's CallbackHandle::reset()
//   waits for a running invocation of it, so a callback may be removed from any thread.
// * Destruction: only after every call on other threads has returned. The destructor stops
//   the links on the I/O thread and joins it; a pending blocking call then gets
//   kUnavailable, and a pending eval_async is dropped unanswered.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "authd/cache/errc.h"

namespace authd::cache {

struct RedisEndpoint {
  /// Name or IP literal (IPv6 without brackets). Names are resolved on every connect with
  /// Asio's resolver (not on the I/O thread); the first IPv4 address is used if there is one.
  std::string host;
  int port = 6379;
};

/// Where Redis is and how patient to be. Plain mode uses `endpoint`; Sentinel mode is on
/// when `sentinels` is not empty and then needs `master_name`.
struct RedisOptions {
  RedisEndpoint endpoint{"127.0.0.1", 6379};
  std::vector<RedisEndpoint> sentinels;
  std::string master_name;
  int db = 0;
  std::string username;  ///< ACL user for AUTH; empty = `AUTH <password>` (requirepass)
  /// Secret: sent with AUTH on every (re)connect, never logged or put in an error message.
  std::string password;
  /// Secret: AUTH for the sentinels themselves (empty = none).
  std::string sentinel_password;

  /// Default bound of every blocking call (command, eval, publish).
  std::chrono::milliseconds command_timeout{100};
  /// Bound of each step of a (re)connect: the TCP connect, the handshake (AUTH, SELECT,
  /// PING/ROLE or SUBSCRIBE), one sentinel query.
  std::chrono::milliseconds connect_timeout{500};
  /// Reconnect backoff: the first retry after a lost connection is immediate, then
  /// backoff_initial, doubling up to backoff_max (each with up to 20 % jitter downwards
  /// so that replicas do not reconnect in lockstep).
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{1000};
  /// A PING (ROLE with Sentinel) on the command connection this often; no answer within
  /// health_timeout drops both connections (a hung or partitioned server sends no EOF),
  /// and a ROLE other than master makes them re-resolve the master.
  std::chrono::milliseconds health_interval{500};
  std::chrono::milliseconds health_timeout{1500};
  /// Calls in flight beyond this fail with kUnavailable instead of queueing.
  std::size_t max_in_flight = 10'000;
};

/// Parses
///   `redis://[[user]:password@]host[:port][/db]`                      (port 6379)
///   `redis-sentinel://[[user]:password@]host[:port][,host[:port]...]/master[/db]` (port 26379)
/// (`redis+sentinel://` is accepted too; IPv6 hosts in brackets; user and password
/// percent-decoded). The password in the URL is the data nodes' password. Timeouts keep their
/// defaults. Errors: kInvalidArgument, with a message that never repeats the password.
CacheResult<RedisOptions> parse_redis_url(std::string_view url);

/// The options as a URL without any password (for logs): e.g. `redis://127.0.0.1:6379/0`.
std::string describe(const RedisOptions& options);

/// A Redis reply. Error replies are not Replies: they come back as Errors.
struct Reply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray };
  Type type = Type::kNil;
  std::string str;              ///< kString (bulk, binary-safe) and kStatus ("OK")
  std::int64_t integer = 0;     ///< kInteger
  std::vector<Reply> elements;  ///< kArray

  bool is_nil() const noexcept { return type == Type::kNil; }
};

/// A Lua script with its SHA1, for RedisClient::eval(). Immutable; share freely.
class RedisScript {
 public:
  explicit RedisScript(std::string source);
  const std::string& source() const noexcept { return source_; }
  const std::string& sha1() const noexcept { return sha1_; }  ///< lowercase hex

 private:
  std::string source_;
  std::string sha1_;
};

/// Unregisters a callback when destroyed (or on reset()). After it returns, the callback is
/// not running and will not run again. Safe to destroy after the client itself.
class CallbackHandle {
 public:
  CallbackHandle() = default;
  CallbackHandle(std::function<void()> unregister) : unregister_(std::move(unregister)) {}
  ~CallbackHandle() { reset(); }
  CallbackHandle(CallbackHandle&& o) noexcept : unregister_(std::move(o.unregister_)) {
    o.unregister_ = nullptr;
  }
  CallbackHandle& operator=(CallbackHandle&& o) noexcept {
    if (this != &o) {
      reset();
      unregister_ = std::move(o.unregister_);
      o.unregister_ = nullptr;
    }
    return *this;
  }
  CallbackHandle(const CallbackHandle&) = delete;
  CallbackHandle& operator=(const CallbackHandle&) = delete;
  void reset() {
    if (unregister_) {
      auto f = std::move(unregister_);
      unregister_ = nullptr;
      f();
    }
  }

 private:
  std::function<void()> unregister_;
};

/// Counters since construction, for metrics.
struct RedisClientStats {
  std::uint64_t calls = 0;             ///< blocking calls made
  std::uint64_t unavailable = 0;       ///< ... that failed with kUnavailable
  std::uint64_t timeouts = 0;          ///< ... that failed with kTimeout
  std::uint64_t reconnects = 0;        ///< command connection came up (first time included)
  std::uint64_t disconnects = 0;       ///< command connection went down
  std::uint64_t noscript_reloads = 0;  ///< EVALSHA answered NOSCRIPT and was resent as EVAL
  std::uint64_t master_switches = 0;   ///< Sentinel: READONLY, ROLE or +switch-master seen
  std::uint64_t messages = 0;          ///< pub/sub messages received
};

/// The client. Create with create(). Threads, callbacks and destruction: see the threading
/// contract at the top of this file.
///
/// Redis blocking commands (BLPOP, WAIT, SUBSCRIBE through command()) must not be used:
/// the command connection is shared and pipelined.
class RedisClient {
 public:
  /// Validates the options, starts the I/O thread and begins connecting in the background;
  /// does not wait for the connection (see wait_until_available()).
  /// Errors: kInvalidArgument for inconsistent options; kInternal if the thread can't start.
  static CacheResult<std::unique_ptr<RedisClient>> create(RedisOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  /// Sends one command and waits for its reply, at most `timeout` (default
  /// options.command_timeout). Returns at once with kUnavailable while disconnected.
  /// An error reply is kReplyError (or kUnavailable for READONLY/LOADING/MASTERDOWN/NOAUTH;
  /// READONLY also makes the client re-resolve the master).
  CacheResult<Reply> command(std::vector<std::string> args,
                             std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  /// EVALSHA with the script's SHA1; on NOSCRIPT the I/O thread resends it as EVAL (which
  /// loads it) within the same call and timeout.
  CacheResult<Reply> eval(const RedisScript& script, std::vector<std::string> keys,
                          std::vector<std::string> args,
                          std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  /// eval() without waiting, for event loops: `done` runs exactly once, on the Redis I/O
  /// thread with the reply or kTimeout, or before eval_async returns with kUnavailable when
  /// the call cannot be queued (disconnected, too many in flight). Keep `done` quick. A call
  /// still pending when the client is destroyed is dropped unanswered.
  void eval_async(const RedisScript& script, std::vector<std::string> keys,
                  std::vector<std::string> args, std::optional<std::chrono::milliseconds> timeout,
                  std::function<void(CacheResult<Reply>)> done);

  /// PUBLISH; returns the number of subscribers that received it (on this server).
  CacheResult<std::int64_t> publish(
      std::string_view channel, std::string_view message,
      std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  /// Fire-and-forget form of command() for code running on the I/O thread (callbacks).
  /// `done` (may be empty) runs on the I/O thread with the reply, or with kUnavailable.
  void command_async(std::vector<std::string> args,
                     std::function<void(CacheResult<Reply>)> done = nullptr);

  /// True while the command connection is up (and, with Sentinel, talks to the master).
  bool available() const noexcept;
  /// Blocks until available() or the timeout; returns available(). For start-up and tests.
  bool wait_until_available(std::chrono::milliseconds timeout) const;
  /// Host:port of the server the command connection talks to ("" while down).
  std::string endpoint() const;
  /// Why the last connection attempt failed or the connection was lost ("" if never).
  std::string last_error() const;
  RedisClientStats stats() const;

  /// `callback(up)` on every change of available() (I/O thread). The first connection
  /// counts as a change to true, a failed first attempt as a change to false. A callback
  /// registered after that also gets the current state once.
  [[nodiscard]] CallbackHandle on_state_change(std::function<void(bool up)> callback);

  /// Delivers every message published on `channel` to `callback(message)` (I/O thread), on
  /// a separate subscriber connection, resubscribed after every reconnect. Messages
  /// published while that connection is down are lost: use on_resubscribed() to resync.
  [[nodiscard]] CallbackHandle subscribe(std::string channel,
                                         std::function<void(const std::string&)> callback);

  /// `callback()` each time the subscriber connection has (re)subscribed to every channel,
  /// the first time included: from then on no message is missed, so a resync started now
  /// is complete.
  [[nodiscard]] CallbackHandle on_resubscribed(std::function<void()> callback);

  /// Drops the connections and reconnects (re-resolving the master). For tests and admin.
  void reconnect();

  const RedisOptions& options() const noexcept;

  class Impl;

 private:
  explicit RedisClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace authd::cache
