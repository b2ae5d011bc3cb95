#include "http/deadline_socket.h"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace authd::http {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

struct ReadResult {
  boost::system::error_code ec;
  std::string data;
};

// A connected pair on loopback: `server` wrapped as the HTTP server wraps accepted sockets,
// and one read on it whose outcome lands in `result`.
struct Pair {
  asio::io_context io;
  tcp::socket client{io};
  std::shared_ptr<DeadlineSocket> server;
  std::array<char, 64> buffer{};
  std::optional<ReadResult> result;

  Pair() {
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    client.connect(acceptor.local_endpoint());
    server = std::make_shared<DeadlineSocket>(acceptor.accept());
    server->set_owner(server);
  }

  void read() {
    server->async_read_some(asio::buffer(buffer),
                            [this](boost::system::error_code ec, std::size_t n) {
                              result = ReadResult{ec, std::string(buffer.data(), n)};
                            });
  }
};

TEST(DeadlineSocketTest, ReadThatGetsNothingBeforeTheDeadlineFailsWithTimeout) {
  Pair p;
  p.server->expires_after(30ms);
  p.read();
  p.io.run_for(2s);
  ASSERT_TRUE(p.result);
  EXPECT_EQ(p.result->ec, boost::beast::error::timeout) << p.result->ec.message();
}

TEST(DeadlineSocketTest, DataBeforeTheDeadlineIsRead) {
  Pair p;
  p.server->expires_after(5s);
  p.read();
  asio::write(p.client, asio::buffer(std::string("GET / HTTP/1.1\r\n")));
  p.io.run_for(1s);
  ASSERT_TRUE(p.result);
  EXPECT_FALSE(p.result->ec) << p.result->ec.message();
  EXPECT_EQ(p.result->data, "GET / HTTP/1.1\r\n");
}

// The deadline moves on while the read waits (a keep-alive connection's later requests): the
// wait survives the first deadline and ends at the last one.
TEST(DeadlineSocketTest, MovingTheDeadlineOnKeepsAPendingReadAlive) {
  Pair p;
  p.server->expires_after(60ms);
  p.read();
  asio::steady_timer push(p.io);
  int pushes = 0;
  std::function<void()> push_on = [&] {
    push.expires_after(40ms);
    push.async_wait([&](boost::system::error_code) {
      if (++pushes < 4) {
        p.server->expires_after(60ms);
        push_on();
      }
    });
  };
  push_on();
  const auto start = std::chrono::steady_clock::now();
  p.io.run_for(3s);
  ASSERT_TRUE(p.result);
  EXPECT_EQ(p.result->ec, boost::beast::error::timeout);
  EXPECT_EQ(pushes, 4);
  // Three pushes at 40 ms intervals moved a 60 ms deadline to about 180 ms.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 170ms);
}

// An earlier deadline than the one the timer waits for takes effect (first-byte timeout after
// a longer one).
TEST(DeadlineSocketTest, AnEarlierDeadlineReplacesALaterOne) {
  Pair p;
  p.server->expires_after(10s);
  p.server->expires_after(30ms);
  p.read();
  p.io.run_for(5s);
  ASSERT_TRUE(p.result);
  EXPECT_EQ(p.result->ec, boost::beast::error::timeout);
}

// A cancel that is not the deadline's (draining an idle connection) is reported as such.
TEST(DeadlineSocketTest, ExplicitCancelIsNotATimeout) {
  Pair p;
  p.server->expires_after(5s);
  p.read();
  asio::post(p.io, [&] { p.server->cancel(); });
  p.io.run_for(1s);
  ASSERT_TRUE(p.result);
  EXPECT_EQ(p.result->ec, asio::error::operation_aborted);
}

// The connection is gone before its deadline: the timer's wake-up touches nothing (ASan).
TEST(DeadlineSocketTest, WakeUpAfterTheOwnerIsGoneDoesNothing) {
  Pair p;
  p.server->expires_after(10ms);
  p.server.reset();
  p.io.run_for(100ms);
  SUCCEED();
}

}  // namespace
}  // namespace authd::http
