#pragma once
// Link: one logical connection to Redis that keeps itself connected, through
//   resolve (Sentinel) → connect → handshake → up → (lost) → backoff → again.
// A client has three: the command link (pipelined commands and the health check), the
// subscriber link (pub/sub) and, with Sentinel, the watch on `+switch-master`.
// Threading: I/O thread only (see the contract at the top of
// include/authd/cache/redis_client.h).

#include <hiredis/hiredis.h>

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "authd/cache/redis_client.h"
#include "cache/redis/backoff.h"
#include "cache/redis/client_core.h"
#include "cache/redis/connection.h"
#include "cache/redis/host_lookup.h"
#include "cache/redis/sentinel.h"

namespace authd::cache::detail {

enum class LinkKind { kCommand, kSubscriber, kSentinelWatch };

class Link {
 public:
  Link(ClientCore& core, LinkKind kind);
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  void start();
  void stop();
  /// Drops the connection (if any) and reconnects at once.
  void restart(const std::string& reason);
  bool running() const noexcept { return running_; }
  bool up() const noexcept { return state_ == State::kUp; }
  Connection* connection() noexcept { return conn_.get(); }
  /// Bumped on every drop: a reply or callback of an older connection compares unequal.
  std::uint64_t generation() const noexcept { return gen_; }
  const RedisEndpoint& endpoint() const noexcept { return endpoint_; }
  bool on(const RedisEndpoint& server) const noexcept {
    return endpoint_.host == server.host && endpoint_.port == server.port;
  }
  /// Subscriber link: subscribe to a channel added while connected.
  void add_channel(const std::string& channel);

 private:
  enum class State { kIdle, kResolving, kConnecting, kHandshake, kUp };
  using Clock = std::chrono::steady_clock;

  void attempt();
  void connect(const RedisEndpoint& endpoint);
  void handshake();
  void subscribe_all();
  void become_up();
  /// Ends the current connection (or attempt) and schedules the next one.
  void down(const std::string& reason, bool forced);
  /// down() on a clean stack, for failures reported from inside hiredis callbacks.
  void post_down(const std::string& reason);
  /// Cancels everything in progress and forgets the connection; true if it was up.
  bool drop();
  void schedule_health();
  void on_push(redisReply* r);

  ClientCore& core_;
  LinkKind kind_;
  State state_ = State::kIdle;
  bool running_ = false;
  std::uint64_t gen_ = 0;  // bumped on every drop: callbacks of older attempts are ignored
  std::unique_ptr<Connection> conn_;
  MasterResolver master_;
  HostLookup lookup_;
  Backoff backoff_;
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer handshake_timer_;
  boost::asio::steady_timer health_timer_;
  Clock::time_point up_since_{};
  RedisEndpoint endpoint_;
  std::size_t sentinel_next_ = 0;  // watch link: the sentinel to connect to next
  bool health_pending_ = false;
  Clock::time_point health_sent_{};
  bool subscribe_sent_ = false;
  std::size_t awaiting_confirms_ = 0;
};

}  // namespace authd::cache::detail
