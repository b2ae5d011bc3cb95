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

// A connected pair on loopback: `server` wrapped as the HTTP server wraps accepted sockets.
struct Pair {
  asio::io_context io;
  tcp::socket client{io};
  std::shared_ptr<DeadlineSocket> server;

  Pair() {
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    client.connect(acceptor.local_endpoint());
    server = std::make_shared<DeadlineSocket>(acceptor.accept());
    server->set_owner(server);
  }
};

struct ReadResult {
  boost::system::error_code ec;
  std::string data;
};

void read_into(DeadlineSocket& socket, std::array<char, 64>& buffer,
               std::optional<ReadResult>& out) {
  socket.async_read_some(asio::buffer(buffer), [&](boost::system::error_code ec, std::size_t n) {
    out = ReadResult{ec, std::string(buffer.data(), n)};
  });
}

TEST(DeadlineSocketTest, ReadThatGetsNothingBeforeTheDeadlineFailsWithTimeout) {
  Pair p;
  std::array<char, 64> buffer{};
  std::optional<ReadResult> result;
  p.server->expires_after(30ms);
  read_into(*p.server, buffer, result);
  p.io.run_for(2s);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->ec, boost::beast::error::timeout) << result->ec.message();
}

TEST(DeadlineSocketTest, DataBeforeTheDeadlineIsRead) {
  Pair p;
  std::array<char, 64> buffer{};
  std::optional<ReadResult> result;
  p.server->expires_after(5s);
  read_into(*p.server, buffer, result);
  asio::write(p.client, asio::buffer(std::string("GET / HTTP/1.1\r\n")));
  p.io.run_for(1s);
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->ec) << result->ec.message();
  EXPECT_EQ(result->data, "GET / HTTP/1.1\r\n");
}

// The deadline moves on while the read waits (a keep-alive connection's later requests): the
// wait survives the first deadline and ends at the last one.
TEST(DeadlineSocketTest, MovingTheDeadlineOnKeepsAPendingReadAlive) {
  Pair p;
  std::array<char, 64> buffer{};
  std::optional<ReadResult> result;
  p.server->expires_after(60ms);
  read_into(*p.server, buffer, result);
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
  ASSERT_TRUE(result);
  EXPECT_EQ(result->ec, boost::beast::error::timeout);
  EXPECT_EQ(pushes, 4);
  // Three pushes at 40 ms intervals moved a 60 ms deadline to about 180 ms.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 170ms);
}

// An earlier deadline than the one the timer waits for takes effect (first-byte timeout after
// a longer one).
TEST(DeadlineSocketTest, AnEarlierDeadlineReplacesALaterOne) {
  Pair p;
  std::array<char, 64> buffer{};
  std::optional<ReadResult> result;
  p.server->expires_after(10s);
  p.server->expires_after(30ms);
  read_into(*p.server, buffer, result);
  p.io.run_for(5s);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->ec, boost::beast::error::timeout);
}

// A cancel that is not the deadline's (draining an idle connection) is reported as such.
TEST(DeadlineSocketTest, ExplicitCancelIsNotATimeout) {
  Pair p;
  std::array<char, 64> buffer{};
  std::optional<ReadResult> result;
  p.server->expires_after(5s);
  read_into(*p.server, buffer, result);
  asio::post(p.io, [&] { p.server->cancel(); });
  p.io.run_for(1s);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->ec, asio::error::operation_aborted);
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
