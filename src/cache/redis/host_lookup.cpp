#include "cache/redis/host_lookup.h"

#include <boost/asio/ip/address.hpp>

namespace authd::cache::detail {

void HostLookup::lookup(const RedisEndpoint& endpoint, Done done) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(endpoint.host, ec);
  if (!ec) {
    done(endpoint.host, {});
    return;
  }
  // hiredis 0.14 would call getaddrinfo() on this thread and stall every connection for as
  // long as DNS takes; Asio resolves on its own background thread.
  resolver_.async_resolve(
      endpoint.host, std::to_string(endpoint.port),
      [this, epoch = epoch_, host = endpoint.host, done = std::move(done)](
          const boost::system::error_code& error,
          boost::asio::ip::tcp::resolver::results_type results) {
        if (epoch != epoch_) return;
        if (error || results.empty()) {
          done({}, "cannot resolve " + host + ": " + (error ? error.message() : "no address"));
          return;
        }
        // IPv4 first when there is one: "localhost" often lists ::1 first while Redis
        // commonly binds 127.0.0.1 only.
        auto chosen = results.begin();
        for (auto it = results.begin(); it != results.end(); ++it) {
          if (it->endpoint().address().is_v4()) {
            chosen = it;
            break;
          }
        }
        done(chosen->endpoint().address().to_string(), {});
      });
}

void HostLookup::cancel() {
  ++epoch_;
  resolver_.cancel();
}

std::string format_endpoint(const RedisEndpoint& endpoint) {
  return (endpoint.host.find(':') != std::string::npos ? "[" + endpoint.host + "]"
                                                       : endpoint.host) +
         ":" + std::to_string(endpoint.port);
}

}  // namespace authd::cache::detail
