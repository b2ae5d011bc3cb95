#pragma once
// Process signals for the daemon: SIGTERM/SIGINT drain the server, SIGHUP reloads its TLS
// certificate and runs the other reopen steps (the audit file). An application concern: the
// HTTP server only offers shutdown() and reload_tls().

#include <functional>
#include <memory>

namespace authd::http {
class Server;
}

namespace authd::app {

class SignalHandler {
 public:
  /// Starts waiting for the signals on the server's first event loop. `server` must outlive
  /// this object, and this object must be destroyed before the server.
  /// `on_hangup` runs on SIGHUP after the certificate reload, on that event loop.
  explicit SignalHandler(http::Server& server, std::function<void()> on_hangup = {});
  ~SignalHandler();
  SignalHandler(const SignalHandler&) = delete;
  SignalHandler& operator=(const SignalHandler&) = delete;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace authd::app
