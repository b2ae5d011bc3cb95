// Requests held at the store gate: run again when it opens, 503 with Retry-After at their
// deadline or when the gate is full, and freed when their client hangs up. A real Server on a
// loopback port with routes whose "store" is a flag the test flips.

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "authd/core/wait_gate.h"
#include "authd/http/admin_routes.h"
#include "authd/http/server.h"
#include "authd/obs/metrics.h"
#include "support/eventually.h"
#include "support/http_client.h"

namespace authd::http {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

class HoldTest : public ::testing::Test {
 protected:
  void start(std::size_t max_waiting = 16, std::chrono::milliseconds wait = 10s) {
    gate_ = std::make_unique<WaitGate>(max_waiting);
    ServerOptions o;
    o.config.threads = 1;
    o.config.worker_threads = 2;
    o.access_log = false;
    o.store_gate = gate_.get();
    o.store_wait = wait;
    o.store_served_elsewhere = [this] { return served_elsewhere_.load(); };
    server_ = std::make_unique<Server>(o, metrics_);
    auto router = std::make_shared<Router>();
    auto store_answer = [this] {
      if (store_up_) return Response::json(200, R"({"ok":true})");
      Response r = Response::error(503, "temporarily_unavailable", "retry");
      r.store_unavailable = true;
      return r;
    };
    router->add(
        "POST", "/worker",
        [this, store_answer](const Request&, RequestContext&) {
          ++worker_runs_;
          return store_answer();
        },
        Dispatch::kWorker);
    router->add_async("POST", "/async",
                      [this, store_answer](const Request&, RequestContext&, Reply reply) {
                        ++async_runs_;
                        reply(store_answer());
                      });
    router->add("GET", "/inline",
                [](const Request&, RequestContext&) { return Response::json(200, "{}"); });
    add_admin_routes(*router, metrics_, {});
    router_ = router;
    auto bound = server_->listen("public", config::Endpoint{"127.0.0.1", 0}, router, false);
    ASSERT_TRUE(bound) << bound.error();
    port_ = bound->port;
    thread_ = std::thread([this] { server_->run(); });
  }

  void TearDown() override {
    if (!server_) return;
    gate_->open();  // let anything still held finish
    server_->shutdown();
    thread_.join();
    server_->join_workers();
  }

  // Sends a request on its own connection and reads the answer on another thread.
  std::future<std::optional<testing::HttpResponse>> send(const std::string& target) {
    return std::async(std::launch::async, [this, target] {
      testing::Connection c(port_, std::nullopt, 20s);
      return c.request("POST", target, "{}", {{"Content-Type", "application/json"}});
    });
  }

  std::string metric(const std::string& sample) { return testing::metric_sample(port_, sample); }

  obs::Registry metrics_;
  std::unique_ptr<WaitGate> gate_;
  std::unique_ptr<Server> server_;
  std::weak_ptr<Router> router_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> store_up_{false};
  std::atomic<bool> served_elsewhere_{false};
  std::atomic<int> worker_runs_{0}, async_runs_{0};
};

TEST_F(HoldTest, WorkerRouteHeldWhileTheStoreIsAwayRunsAgainWhenItReturns) {
  start();
  auto answer = send("/worker");
  ASSERT_TRUE(eventually([&] { return gate_->waiting() == 1; }, 5s));
  EXPECT_EQ(worker_runs_.load(), 1);
  EXPECT_EQ(answer.wait_for(0ms), std::future_status::timeout) << "held, not answered";
  store_up_ = true;
  gate_->open();
  auto r = answer.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(worker_runs_.load(), 2);
  EXPECT_EQ(metric("authd_http_held_requests_total{outcome=\"resumed\"}"), "1");
}

TEST_F(HoldTest, AsyncRouteHeldWhileTheStoreIsAwayRunsAgainWhenItReturns) {
  start();
  auto answer = send("/async");
  ASSERT_TRUE(eventually([&] { return gate_->waiting() == 1; }, 5s));
  store_up_ = true;
  gate_->open();
  auto r = answer.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(async_runs_.load(), 2);
}

// While the gate is closed, a new request waits without running: no thread is spent finding
// the store down again.
TEST_F(HoldTest, RequestArrivingWhileTheGateIsClosedWaitsWithoutRunning) {
  start();
  auto first = send("/worker");
  ASSERT_TRUE(eventually([&] { return gate_->waiting() == 1; }, 5s));
  auto second = send("/worker");
  ASSERT_TRUE(eventually([&] { return gate_->waiting() == 2; }, 5s));
  EXPECT_EQ(worker_runs_.load(), 1);
  store_up_ = true;
  gate_->open();
  EXPECT_EQ(first.get()->status, 200);
  EXPECT_EQ(second.get()->status, 200);
  EXPECT_EQ(worker_runs_.load(), 3);
}

TEST_F(HoldTest, PastItsDeadlineAHeldRequestGets503WithRetryAfter) {
  start(16, 300ms);
  auto answer = send("/worker");
  ASSERT_TRUE(eventually([&] { return gate_->waiting() == 1; }, 5s));
  // The prober calls expire() as time passes; here the test does.
  ASSERT_TRUE(eventually(
      [&] {
        gate_->expire(std::chrono::steady_clock::now());
        return gate_->waiting() == 0;
      },
      5s));
  auto r = answer.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->header("retry-after"), "1");
  EXPECT_NE(r->body.find("\"error\":\"temporarily_unavailable\""), std::string::npos) << r->body;
  EXPECT_EQ(worker_runs_.load(), 1);
  EXPECT_EQ(metric("authd_http_held_requests_total{outcome=\"timed_out\"}"), "1");
}

TEST_F(HoldTest, BeyondTheCapA503ComesAtOnce) {
  start(/*max_waiting=*/1);
  auto first = send("/worker");
  ASSERT_TRUE(eventually([&] { return gate_->waiting() == 1; }, 5s));
  auto second = send("/worker").get();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 503);
  EXPECT_EQ(second->header("retry-after"), "1");
  EXPECT_EQ(gate_->waiting(), 1u);
  EXPECT_EQ(metric("authd_http_held_requests_total{outcome=\"refused\"}"), "1");
  store_up_ = true;
  gate_->open();
  EXPECT_EQ(first.get()->status, 200);
}

TEST_F(HoldTest, AClientThatHangsUpFreesItsPlace) {
  start();
  {
    testing::Connection c(port_);
    ASSERT_TRUE(c.send_raw("POST /worker HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}"));
    ASSERT_TRUE(eventually([&] { return gate_->waiting() == 1; }, 5s));
  }  // closes the socket
  ASSERT_TRUE(eventually([&] { return gate_->waiting() == 0; }, 5s));
  EXPECT_TRUE(eventually(
      [&] { return metric("authd_http_held_requests_total{outcome=\"cancelled\"}") == "1"; }, 5s));
  EXPECT_EQ(metric("authd_http_held_requests"), "0");
  EXPECT_EQ(worker_runs_.load(), 1) << "a departed client's request is not run again";
}

TEST_F(HoldTest, RoutesThatNeedNoStoreAnswerWhileRequestsAreHeld) {
  start();
  auto held = send("/worker");
  ASSERT_TRUE(eventually([&] { return gate_->waiting() == 1; }, 5s));
  auto r = testing::http_get(port_, "/inline");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  store_up_ = true;
  gate_->open();
  EXPECT_EQ(held.get()->status, 200);
}

// The balancer's check must answer while requests wait: when /readyz ran on the worker pool it
// was held at the gate like a store request, every replica failed its check at once during a
// failover, and the balancer answered 503 even for the JWKS.
TEST_F(HoldTest, ReadinessAnswersWhileTheStoreGateIsClosed) {
  start();
  auto held = send("/worker");
  ASSERT_TRUE(eventually([&] { return gate_->waiting() == 1; }, 5s));
  auto r = testing::http_get(port_, "/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  store_up_ = true;
  gate_->open();
  EXPECT_EQ(held.get()->status, 200);
}

// A replica cut off from the store while its peers reach it hands requests back at once with
// 504, which the shipped balancer retries on another replica; those it was holding too.
TEST_F(HoldTest, CutOffAloneARequestIsHandedBackWith504) {
  start();
  auto held = send("/worker");
  ASSERT_TRUE(eventually([&] { return gate_->waiting() == 1; }, 5s));
  served_elsewhere_ = true;
  auto now = send("/async").get();
  ASSERT_TRUE(now);
  EXPECT_EQ(now->status, 504) << now->body;
  EXPECT_EQ(now->header("retry-after"), "0");
  EXPECT_NE(now->body.find("\"error\":\"temporarily_unavailable\""), std::string::npos);
  EXPECT_EQ(gate_->waiting(), 1u) << "handed back without waiting";
  gate_->expire(std::chrono::steady_clock::time_point::max());  // as StoreWatch does
  auto r = held.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504) << r->body;
  EXPECT_EQ(metric("authd_http_held_requests_total{outcome=\"handed_back\"}"), "2");
  EXPECT_EQ(worker_runs_.load(), 1);
}

// Handlers still queued when the loops stopped held the server's internals, which owned the
// loops: a cycle, so a destroyed Server leaked them, and the routes with them.
TEST_F(HoldTest, ServerDestroyedAfterHoldingRequestsReleasesEverything) {
  start();
  auto held = send("/worker");
  ASSERT_TRUE(eventually([&] { return gate_->waiting() == 1; }, 5s));
  auto hung_up = std::make_unique<testing::Connection>(port_);
  ASSERT_TRUE(hung_up->send_raw("POST /worker HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}"));
  ASSERT_TRUE(eventually([&] { return gate_->waiting() == 2; }, 5s));
  hung_up.reset();
  store_up_ = true;
  gate_->open();
  EXPECT_EQ(held.get()->status, 200);
  TearDown();
  server_.reset();
  EXPECT_TRUE(router_.expired()) << "the destroyed server still holds its routes";
}

}  // namespace
}  // namespace authd::http
