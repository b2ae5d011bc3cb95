#pragma once
// Drives one hiredis 0.14 async context from a boost::asio::io_context (hiredis ships no Asio
// adapter). hiredis asks for read/write interest through ev.addRead/delRead/addWrite/delWrite
// and signals the end of the context through ev.cleanup; we turn interest into async_wait on
// the context's socket and readiness into redisAsyncHandleRead/Write. Threading: I/O thread
// only (see the contract at the top of include/authd/cache/redis_client.h).

#include <hiredis/async.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <memory>

namespace authd::cache::detail {

class AsioHiredis : public std::enable_shared_from_this<AsioHiredis> {
 public:
  /// Attaches to `ac` (before redisAsyncSetConnectCallback, which asks for write interest).
  /// Returns nullptr when the socket cannot be registered; the caller then frees `ac`.
  static std::shared_ptr<AsioHiredis> attach(boost::asio::io_context& io, redisAsyncContext* ac);

  /// The context until hiredis cleans it up (just before freeing it); nullptr afterwards.
  /// This is the one reliable "is `ac` still alive" test: hiredis frees contexts by itself
  /// on I/O errors and failed connects.
  redisAsyncContext* context() const noexcept { return ac_; }

  AsioHiredis(boost::asio::io_context& io, redisAsyncContext* ac, int fd);

 private:
  enum Dir { kRead = 0, kWrite = 1 };
  struct Interest {
    bool wanted = false;  // hiredis wants this event
    bool armed = false;   // an async_wait is pending
  };

  static AsioHiredis* from(void* data) { return static_cast<AsioHiredis*>(data); }
  void want(Dir dir, bool on);
  void arm(Dir dir);
  void on_ready(Dir dir, const boost::system::error_code& ec);
  void cleanup();

  boost::asio::io_context& io_;
  redisAsyncContext* ac_;
  boost::asio::posix::stream_descriptor socket_;
  Interest interest_[2];
  // hiredis holds a raw pointer (ev.data) until cleanup; this keeps the object alive until
  // then. Pending waits hold their own references, so the object outlives them too.
  std::shared_ptr<AsioHiredis> self_;
};

}  // namespace authd::cache::detail
