#pragma once
// One hiredis async connection on the I/O thread: connect with a timeout, send commands with
// per-command callbacks, receive pub/sub pushes, close. Threading: I/O thread only (see the
// contract at the top of include/authd/cache/redis_client.h).
//
// hiredis frees a context by itself on I/O errors and failed connects, and must not be freed
// from inside most of its own callbacks. So this class never frees a context synchronously:
// close() detaches it at once (no handler of ours runs for it any more, except the
// per-command callbacks, which always run exactly once) and posts the redisAsyncFree.

#include <hiredis/hiredis.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cache/redis/asio_hiredis.h"

namespace authd::cache::detail {

class Connection {
 public:
  /// The reply, or nullptr when the connection was lost (or already unusable) first.
  using ReplyFn = std::function<void(redisReply*)>;

  struct Handlers {
    /// Once per open(): connected (ok) or failed/timed out (!ok, with hiredis' reason).
    std::function<void(bool ok, const std::string& error)> on_connected;
    /// Once, when an established connection is lost (not after close()).
    std::function<void(const std::string& reason)> on_lost;
    /// Every reply of a SUBSCRIBE (confirmations and messages).
    std::function<void(redisReply* reply)> on_push;
  };

  explicit Connection(boost::asio::io_context& io);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Starts a non-blocking connect. False (with *error set, handlers not called) when it
  /// failed at once; otherwise exactly one on_connected follows unless close() comes first.
  bool open(const std::string& host, int port, std::chrono::milliseconds timeout, Handlers handlers,
            std::string* error);

  /// Queues a command. `fn` runs exactly once: with the reply, or with nullptr when the
  /// connection is lost or is not usable (then synchronously, before send returns).
  void send(const std::vector<std::string>& args, ReplyFn fn);

  /// SUBSCRIBE; confirmations and messages go to Handlers::on_push. False if not usable.
  bool subscribe(const std::vector<std::string>& channels);

  /// Detaches and frees (deferred) the context. Idempotent; handlers are not called again.
  void close();

  bool connected() const noexcept { return connected_ && adapter_ && adapter_->context(); }

 private:
  static void on_connect_cb(const redisAsyncContext* ac, int status);
  static void on_disconnect_cb(const redisAsyncContext* ac, int status);
  static void on_reply_cb(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_push_cb(redisAsyncContext* ac, void* reply, void* privdata);
  redisAsyncContext* context() const noexcept { return adapter_ ? adapter_->context() : nullptr; }

  boost::asio::io_context& io_;
  boost::asio::steady_timer connect_timer_;
  std::shared_ptr<AsioHiredis> adapter_;
  // Shared so that a handler may destroy this Connection while it runs.
  std::shared_ptr<Handlers> handlers_;
  bool connected_ = false;
  std::uint64_t open_seq_ = 0;
  std::shared_ptr<int> life_ = std::make_shared<int>(0);  // expires with this object
};

}  // namespace authd::cache::detail
