// How a plain connection's answer reaches the socket: written at once when it fits the send
// buffer, the rest handed to the loop when it does not. A real Server on a loopback port with
// one event loop, so that a write that blocked would stall every other connection too.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "authd/http/server.h"
#include "authd/obs/metrics.h"
#include "support/http_client.h"

namespace authd::http {
namespace {

using namespace std::chrono_literals;

// Far more than a loopback socket's send buffer, so that the first write cannot take it all.
std::string big_body() {
  std::string body(8 << 20, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  return body;
}

class ServerWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.config.threads = 1;
    o.config.worker_threads = 1;
    o.access_log = false;
    server_ = std::make_unique<Server>(o, metrics_);
    auto router = std::make_shared<Router>();
    router->add("GET", "/big", [body = big_body()](const Request&, RequestContext&) {
      return Response::text(200, body, "text/plain");
    });
    router->add("GET", "/small",
                [](const Request&, RequestContext&) { return Response::json(200, "{}"); });
    auto bound = server_->listen("public", config::Endpoint{"127.0.0.1", 0}, router, false);
    ASSERT_TRUE(bound) << bound.error();
    port_ = bound->port;
    thread_ = std::thread([this] { server_->run(); });
  }

  void TearDown() override {
    server_->shutdown();
    thread_.join();
    server_->join_workers();
  }

  obs::Registry metrics_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(ServerWriteTest, AnswerLargerThanTheSendBufferArrivesWholeAndTheConnectionGoesOn) {
  testing::Connection c(port_, std::nullopt, 20s);
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_TRUE(c.send_raw("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(200ms);  // the server fills the buffer and has to wait for us
  auto big = c.read_response();
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 200);
  EXPECT_EQ(big->body.size(), std::size_t{8} << 20);
  EXPECT_TRUE(big->body == big_body()) << "the bytes arrive in order, none lost or repeated";
  auto next = c.request("GET", "/small");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->body, "{}");
}

TEST_F(ServerWriteTest, ClientThatDoesNotReadItsAnswerStallsNoOtherConnection) {
  testing::Connection slow(port_, std::nullopt, 20s);
  ASSERT_TRUE(slow.ok()) << slow.error();
  ASSERT_TRUE(slow.send_raw("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(100ms);
  // The one event loop still serves others while the slow client's answer waits.
  for (int i = 0; i < 3; ++i) {
    testing::Connection other(port_, std::nullopt, 5s);
    auto r = other.request("GET", "/small");
    ASSERT_TRUE(r) << "a write waiting on the slow client held the loop";
    EXPECT_EQ(r->status, 200);
  }
  auto big = slow.read_response();
  ASSERT_TRUE(big);
  EXPECT_EQ(big->body.size(), std::size_t{8} << 20);
}

TEST_F(ServerWriteTest, PipelinedAnswersKeepTheirOrderAcrossAPartialWrite) {
  testing::Connection c(port_, std::nullopt, 20s);
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_TRUE(
      c.send_raw("GET /small HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /big HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /small HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(100ms);
  auto first = c.read_response();
  auto second = c.read_response();
  auto third = c.read_response();
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->body, "{}");
  EXPECT_EQ(second->body.size(), std::size_t{8} << 20);
  EXPECT_EQ(third->body, "{}");
}

}  // namespace
}  // namespace authd::http
