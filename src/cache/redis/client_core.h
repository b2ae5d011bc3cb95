#pragma once
// What the parts of a RedisClient (links, the Sentinel resolver, the pipeline) ask of the
// client that owns them. Implemented by RedisClient::Impl (redis_client.cpp). Threading: every
// member is called on the Redis I/O thread, except options() (immutable) and post() (any
// thread); see the contract at the top of include/authd/cache/redis_client.h.

#include <boost/asio/io_context.hpp>
#include <functional>
#include <string>
#include <vector>

#include "authd/cache/redis_client.h"

namespace authd::cache::detail {

class ClientCore {
 public:
  virtual const RedisOptions& options() const noexcept = 0;
  virtual boost::asio::io_context& io() noexcept = 0;
  /// Runs `fn` later on the I/O thread, on a clean stack (never inside a hiredis callback).
  virtual void post(std::function<void()> fn) = 0;
  /// Remembers why a connection attempt failed or a connection was lost (last_error()).
  virtual void note_error(const std::string& reason) = 0;

  /// The command link came up / went down.
  virtual void command_link_up() = 0;
  virtual void command_link_down(const std::string& reason) = 0;
  /// An attempt to bring the command link up failed (it was not up).
  virtual void command_link_failed(const std::string& reason) = 0;
  /// The subscriber link has (re)subscribed to every channel.
  virtual void subscriber_ready() = 0;
  /// Channels the subscriber link must subscribe to.
  virtual std::vector<std::string> channels() = 0;
  /// A pub/sub message arrived on the subscriber link.
  virtual void deliver(const std::string& channel, const std::string& message) = 0;

  /// Sentinel announced `master` as the new master (port 0: an address we could not read).
  virtual void master_switched(const RedisEndpoint& master, const std::string& reason) = 0;
  /// Reconnects both data links (re-resolving the master with Sentinel).
  virtual void restart_links(const std::string& reason, bool master_switch) = 0;

 protected:
  ~ClientCore() = default;
};

}  // namespace authd::cache::detail
