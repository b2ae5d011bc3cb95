#include "app/signals.h"

#include <signal.h>

#include <boost/asio/signal_set.hpp>

#include "authd/http/server.h"
#include "authd/obs/log.h"

namespace authd::app {

struct SignalHandler::State : std::enable_shared_from_this<State> {
  State(http::Server& s, std::function<void()> hangup)
      : server(s),
        on_hangup(std::move(hangup)),
        signals(*s.event_loops().front(), SIGTERM, SIGINT, SIGHUP) {}

  void wait() {
    signals.async_wait([weak = weak_from_this()](const boost::system::error_code& ec, int sig) {
      auto self = weak.lock();
      if (ec || !self) return;
      self->on_signal(sig);
    });
  }

  void on_signal(int sig) {
    if (sig == SIGHUP) {
      (void)server.reload_tls();  // logs its outcome; the old certificate stays on failure
      if (on_hangup) on_hangup();
    } else {
      log::info("server.signal", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      server.shutdown();
    }
    // Once draining, a second SIGTERM has nothing more to start.
    if (sig == SIGHUP || !server.draining()) wait();
  }

  http::Server& server;
  std::function<void()> on_hangup;
  boost::asio::signal_set signals;
};

SignalHandler::SignalHandler(http::Server& server, std::function<void()> on_hangup)
    : state_(std::make_shared<State>(server, std::move(on_hangup))) {
  state_->wait();
}

SignalHandler::~SignalHandler() {
  boost::system::error_code ignored;
  state_->signals.cancel(ignored);
}

}  // namespace authd::app
