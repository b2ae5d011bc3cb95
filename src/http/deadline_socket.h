#pragma once
// A TCP socket with a deadline for its pending operations, as beast::tcp_stream offers, at a
// fraction of the cost on a busy keep-alive connection. tcp_stream starts a timer wait with
// every read and write and cancels it when the operation completes, which queues one more
// handler per operation: two extra handler runs and timer-queue updates per request. Here
// moving the deadline is a store to a field, and one lazy timer per connection wakes at the
// deadline it was armed for; finding the deadline moved on (the usual case), it re-arms for
// the new one, so a connection answering thousands of requests a second sees a timer wake-up
// once per timeout period. Private to the HTTP server.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <utility>

namespace authd::http {

class DeadlineSocket {
 public:
  using Clock = std::chrono::steady_clock;
  using executor_type = boost::asio::ip::tcp::socket::executor_type;

  explicit DeadlineSocket(boost::asio::ip::tcp::socket&& socket)
      : socket_(std::move(socket)), timer_(socket_.get_executor()) {}

  /// The object whose lifetime bounds the timer's wake-ups (the connection): a wake-up after
  /// it is gone does nothing.
  void set_owner(std::weak_ptr<void> owner) { owner_ = std::move(owner); }

  executor_type get_executor() { return socket_.get_executor(); }
  boost::asio::ip::tcp::socket& socket() { return socket_; }

  /// Operations pending now or started later fail with beast::error::timeout once `timeout`
  /// has passed, unless the deadline is moved again first.
  void expires_after(Clock::duration timeout) {
    deadline_ = coarse_now() + timeout;
    timed_out_ = false;
    if (!armed_ || deadline_ < armed_for_) arm();
  }

  /// Cancels the pending operations (they complete with operation_aborted).
  void cancel() {
    boost::system::error_code ignored;
    socket_.cancel(ignored);
  }

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    start();
    socket_.async_read_some(
        buffers, Completion<std::decay_t<Handler>>{this, std::forward<Handler>(handler)});
  }

  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    start();
    socket_.async_write_some(
        buffers, Completion<std::decay_t<Handler>>{this, std::forward<Handler>(handler)});
  }

 private:
  // The monotonic clock as of the last tick (CLOCK_MONOTONIC_COARSE, the same clock as
  // steady_clock's, at most a tick behind): moving a deadline of seconds on every request
  // needs no clock read. A deadline may fall a tick early, never late.
  static Clock::time_point coarse_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return Clock::time_point(std::chrono::seconds(ts.tv_sec) +
                             std::chrono::nanoseconds(ts.tv_nsec));
  }

  // Counts the operation done and reports an operation cut off by the deadline as a timeout.
  template <class Handler>
  struct Completion {
    DeadlineSocket* self;
    Handler handler;
    void operator()(boost::system::error_code ec, std::size_t n) {
      --self->pending_;
      if (ec == boost::asio::error::operation_aborted && self->timed_out_) {
        ec = boost::beast::error::timeout;
      }
      handler(ec, n);
    }
  };

  // An operation started after the timer last woke with nothing to cut off: watch it.
  void start() {
    ++pending_;
    if (!armed_ && deadline_ != Clock::time_point::max()) arm();
  }

  void arm() {
    armed_ = true;
    armed_for_ = deadline_;
    // Re-arming cancels the wait in flight, whose handler then finds itself outdated.
    const std::uint64_t wait = ++waits_;
    timer_.expires_at(armed_for_);
    timer_.async_wait([owner = owner_, this, wait](boost::system::error_code ec) {
      auto alive = owner.lock();
      if (!alive || wait != waits_) return;
      armed_ = false;
      if (ec) return;
      if (Clock::now() < deadline_) return arm();
      if (pending_ == 0) return;  // nothing to cut off: the next operation re-arms
      timed_out_ = true;
      cancel();
    });
  }

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  std::weak_ptr<void> owner_;
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point armed_for_{};
  std::uint64_t waits_ = 0;
  int pending_ = 0;
  bool armed_ = false;
  bool timed_out_ = false;
};

}  // namespace authd::http
