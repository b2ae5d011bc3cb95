#pragma once
// Host name → IP address for a connection attempt, off the I/O thread's critical path.
// Threading: I/O thread only (see the contract at the top of
// include/authd/cache/redis_client.h).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "authd/cache/redis_client.h"

namespace authd::cache::detail {

class HostLookup {
 public:
  using Done = std::function<void(const std::string& ip, const std::string& error)>;

  explicit HostLookup(boost::asio::io_context& io) : resolver_(io) {}

  /// The IP of `endpoint`: at once for IP literals, else later from Asio's resolver (the
  /// first IPv4 address if there is one). `done` is not called after cancel().
  void lookup(const RedisEndpoint& endpoint, Done done);
  void cancel();

 private:
  boost::asio::ip::tcp::resolver resolver_;
  std::uint64_t epoch_ = 0;  // bumped by cancel(): answers of older lookups are dropped
};

/// "host:port", IPv6 hosts in brackets.
std::string format_endpoint(const RedisEndpoint& endpoint);

}  // namespace authd::cache::detail
