#include "support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <string>
#include <thread>

namespace authd::testing {

Connection::Connection(int port, std::optional<TlsOptions> tls, std::chrono::milliseconds timeout) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error_ = "connect failed";
    return;
  }
  if (!tls) return;
  ctx_ = SSL_CTX_new(TLS_client_method());
  // Let the client offer old versions so that a refusal is the server's decision.
  SSL_CTX_set_security_level(ctx_, 0);
  SSL_CTX_set_cipher_list(ctx_, "ALL:@SECLEVEL=0");
  if (tls->min_version) SSL_CTX_set_min_proto_version(ctx_, tls->min_version);
  if (tls->max_version) SSL_CTX_set_max_proto_version(ctx_, tls->max_version);
  if (!tls->ca_file.empty()) {
    SSL_CTX_load_verify_locations(ctx_, tls->ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  }
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  SSL_set_tlsext_host_name(ssl_, "localhost");
  if (SSL_connect(ssl_) != 1) {
    unsigned long e = ERR_get_error();
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    error_ = std::string("TLS handshake failed: ") + buf;
  }
}

Connection::~Connection() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) close(fd_);
}

void Connection::set_no_delay() {
  const int one = 1;
  if (fd_ >= 0) setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool Connection::send_raw(const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    int n =
        ssl_ ? SSL_write(ssl_, bytes.data() + off, static_cast<int>(bytes.size() - off))
             : static_cast<int>(::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL));
    if (n < 0 && !ssl_ && errno == EINTR) continue;
    if (n <= 0) {
      error_ = "write failed: errno " + std::to_string(errno);
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  return true;
}

int Connection::read_some(char* buf, int n) {
  if (ssl_) return SSL_read(ssl_, buf, n);
  int got;
  // A signal delivered to this thread (e.g. SIGCHLD from a test's child process) is not an
  // end of the response.
  do {
    got = static_cast<int>(::recv(fd_, buf, static_cast<std::size_t>(n), 0));
  } while (got < 0 && errno == EINTR);
  return got;
}

std::optional<HttpResponse> Connection::read_response() {
  auto fill = [&]() {
    char buf[16384];
    int n = read_some(buf, sizeof buf);
    if (n == 0) error_ = "closed by the peer";
    if (n < 0) error_ = "read failed: errno " + std::to_string(errno);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  };
  std::size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos)
    if (!fill()) return std::nullopt;
  HttpResponse r;
  std::string head = buffer_.substr(0, head_end);
  auto line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12) return std::nullopt;
  r.status = std::stoi(status_line.substr(9, 3));
  std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    auto e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    auto line = head.substr(pos, e - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[name] = value;
    }
    pos = e + 2;
  }
  buffer_.erase(0, head_end + 4);
  std::size_t length = 0;
  if (auto cl = r.header("content-length"); !cl.empty()) length = std::stoul(cl);
  while (buffer_.size() < length)
    if (!fill()) return std::nullopt;
  r.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return r;
}

bool Connection::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    int ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  deadline - std::chrono::steady_clock::now())
                                  .count());
    if (poll(&p, 1, std::max(ms, 1)) <= 0) continue;
    char buf[4096];
    int n =
        ssl_ ? SSL_read(ssl_, buf, sizeof buf) : static_cast<int>(::recv(fd_, buf, sizeof buf, 0));
    if (n <= 0) return true;
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
  return false;
}

std::optional<HttpResponse> Connection::request(const std::string& method,
                                                const std::string& target, const std::string& body,
                                                const std::map<std::string, std::string>& headers) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  if (!send_raw(req)) return std::nullopt;
  return read_response();
}

int Connection::local_port() const {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (fd_ < 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

std::string Connection::peer_fingerprint() const {
  if (!ssl_) return "";
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (!cert) return "";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(cert, EVP_sha256(), md, &n);
  X509_free(cert);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (unsigned int i = 0; i < n; ++i) {
    s.push_back(kHex[md[i] >> 4]);
    s.push_back(kHex[md[i] & 15]);
  }
  return s;
}

std::optional<HttpResponse> http_get(int port, const std::string& target) {
  Connection c(port);
  if (!c.ok()) return std::nullopt;
  return c.request("GET", target);
}

std::string metric_sample(int port, const std::string& sample) {
  auto m = http_get(port, "/metrics");
  if (!m) return "";
  const std::string line = "\n" + sample + " ";  // a sample line, not its # HELP
  auto at = m->body.find(line);
  if (at == std::string::npos) return "";
  at += line.size();
  return m->body.substr(at, m->body.find('\n', at) - at);
}

bool wait_for_open_connections(int metrics_port, int others, std::chrono::milliseconds timeout) {
  static const std::string kGauge = "\nauthd_http_connections_open ";
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Connection poller(metrics_port);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = poller.request("GET", "/metrics");
    if (!r) return false;
    const auto at = r->body.find(kGauge);
    if (at != std::string::npos && std::stoi(r->body.substr(at + kGauge.size())) >= others + 1)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // poll interval, not a wait
  }
  return false;
}

}  // namespace authd::testing
