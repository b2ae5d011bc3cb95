// Connections spread over several event loops: the acceptor's loop accepts, and the connection
// then lives on the loop it was given to. The loops run without per-socket locks, so a
// connection must join its loop's reactor on that loop's thread; accepted straight into another
// loop's socket, it raced with that loop reusing the reactor's descriptor state, which
// ThreadSanitizer reported during a Redis failover test (that suite runs under TSan in CI).

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "authd/http/server.h"
#include "authd/obs/metrics.h"
#include "support/http_client.h"

namespace authd::http {
namespace {

TEST(ServerLoopsTest, AcceptedConnectionsJoinTheirLoopOnItsOwnThread) {
  obs::Registry metrics;
  ServerOptions o;
  o.config.threads = 4;
  o.config.worker_threads = 1;
  o.config.max_connections_per_address = 0;
  o.access_log = false;
  Server server(o, metrics);
  auto router = std::make_shared<Router>();
  router->add("GET", "/small",
              [](const Request&, RequestContext&) { return Response::json(200, "{}"); });
  auto bound = server.listen("public", config::Endpoint{"127.0.0.1", 0}, router, false);
  ASSERT_TRUE(bound) << bound.error();
  std::thread loops([&] { server.run(); });

  // Short connections, each closed by both sides at once (Connection: close, and the client
  // hangs up after the answer): the churn that frees and reuses descriptor state on every loop.
  constexpr int kClients = 4;
  constexpr int kConnectionsEach = 150;
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      for (int j = 0; j < kConnectionsEach; ++j) {
        testing::Connection c(bound->port);
        if (!c.ok()) continue;
        auto r = c.request("GET", "/small", "", {{"Connection", "close"}});
        if (r && r->status == 200 && r->body == "{}") answered.fetch_add(1);
      }
    });
  }
  for (auto& t : clients) t.join();
  server.shutdown();
  loops.join();
  server.join_workers();
  EXPECT_EQ(answered.load(), kClients * kConnectionsEach);
}

}  // namespace
}  // namespace authd::http
