#pragma once
// Test helper: a deliberately small HTTP/1.1 client over a blocking socket, optionally TLS,
// so tests can send exactly the bytes they want (malformed, oversized, slow).

#include <openssl/ssl.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace authd::testing {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

struct TlsOptions {
  int min_version = 0;  // e.g. TLS1_1_VERSION; 0 = library default
  int max_version = 0;
  std::string ca_file;  // verify the server against this CA; empty = no verification
};

class Connection {
 public:
  /// Connects to 127.0.0.1:port (and does a TLS handshake when tls is set). Check ok().
  explicit Connection(int port, std::optional<TlsOptions> tls = std::nullopt,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool ok() const { return fd_ >= 0 && error_.empty(); }
  const std::string& error() const { return error_; }
  /// TCP_NODELAY: each send_raw() leaves at once as its own segment(s), without waiting for
  /// the acknowledgement of the previous one.
  void set_no_delay();
  bool send_raw(const std::string& bytes);
  /// Reads one response; nullopt when the peer closed or the timeout passed.
  std::optional<HttpResponse> read_response();
  /// True when the peer has closed the connection (read returns 0) within the timeout.
  bool wait_closed(std::chrono::milliseconds timeout);
  std::optional<HttpResponse> request(const std::string& method, const std::string& target,
                                      const std::string& body = "",
                                      const std::map<std::string, std::string>& headers = {});
  /// The local (client) port, to find this connection in a proxy's log; 0 if unconnected.
  int local_port() const;
  /// Peer certificate's SHA-256 fingerprint (hex), TLS only.
  std::string peer_fingerprint() const;

 private:
  int read_some(char* buf, int n);
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string error_;
  std::string buffer_;
};

/// One request on a fresh connection.
std::optional<HttpResponse> http_get(int port, const std::string& target);

/// The value of one sample in GET /metrics on `port` (e.g. `authd_http_held_requests` or
/// `authd_http_held_requests_total{outcome="refused"}`); "" when absent or unreachable.
std::string metric_sample(int port, const std::string& sample);

/// Polls GET /metrics on `metrics_port` (over one keep-alive connection) until the server
/// counts at least `others` open connections besides the poller's own; false at the deadline.
/// Tests use it to know the server has accepted their connections before they act.
bool wait_for_open_connections(int metrics_port, int others, std::chrono::milliseconds timeout);

}  // namespace authd::testing
