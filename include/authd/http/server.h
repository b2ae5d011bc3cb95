#pragma once
// The HTTP/1.1 server: Beast on Asio, TLS via OpenSSL, limits and timeouts, graceful drain.
// Beast types stay inside src/http; callers hand in Routers of transport-free handlers.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "authd/config/config.h"
#include "authd/core/result.h"
#include "authd/core/wait_gate.h"
#include "authd/http/router.h"

namespace authd::obs {
class Registry;
}
namespace boost::asio {
class io_context;
}

namespace authd::http {

struct ServerOptions {
  config::ServerConfig config;
  bool access_log = true;
  /// Where requests wait while the store has no writable primary. With a gate, a worker or
  /// async route whose answer is Response::store_unavailable (or that arrives while the gate is
  /// closed) waits there, asynchronously, and runs again when it opens; past `store_wait` from
  /// its arrival, or when the gate is full, it gets that 503 with Retry-After. A client that
  /// goes away while waiting frees its place. Null: such answers go out at once.
  WaitGate* store_gate = nullptr;
  std::chrono::milliseconds store_wait{std::chrono::seconds(30)};
  /// True while this replica cannot reach the store but its peers can (a partition that cuts
  /// off this replica alone). Waiting would only delay a request another replica can serve
  /// now, so it is handed back at once: 504 (which the shipped balancer retries elsewhere).
  std::function<bool()> store_served_elsewhere;
};

class Server {
 public:
  Server(ServerOptions options, obs::Registry& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds a listener. `tls` uses the configured certificate (loaded on the first TLS listener).
  /// Errors name the address and the reason. Call before run().
  Result<config::Endpoint, std::string> listen(std::string name, const config::Endpoint& at,
                                               std::shared_ptr<const Router> router, bool tls);

  /// Runs the I/O threads until a shutdown completes. Blocks.
  void run();

  /// Begins a graceful shutdown: stop accepting, finish in-flight requests up to
  /// shutdown_grace, close idle connections, then run() returns. Thread-safe, idempotent.
  void shutdown();
  bool draining() const;

  /// Reloads the TLS certificate and key; existing connections keep the old ones.
  /// On error the previous certificate stays in use.
  Result<void, std::string> reload_tls();

  /// The I/O threads' event loops (one per thread), for components that do non-blocking I/O
  /// on them (see store::Database::attach_event_loops).
  std::vector<boost::asio::io_context*> event_loops();
  /// Runs `task` on the worker pool.
  void offload(std::function<void()> task);
  /// After run(): waits for the tasks still on the worker pool (their answers are dropped).
  void join_workers();

  struct Impl;  // public only so that the transport's internals can name it
  struct Loops;

 private:
  // The loops are owned here, not by Impl: handlers still queued at shutdown hold the Impl, so
  // an Impl that owned them would keep itself alive (a leak ASan reports).
  std::unique_ptr<Loops> loops_;
  std::shared_ptr<Impl> impl_;
};

}  // namespace authd::http
