// TLS through real sockets: modern versions only, certificate reload on SIGHUP.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>
#include <vector>

#include "support/http_client.h"
#include "support/process.h"

namespace authd {
namespace {

using namespace std::chrono_literals;
using testing::Connection;
using testing::Process;
using testing::TempDir;
using testing::TlsOptions;

// A self-signed P-256 certificate for "localhost", made with the openssl CLI.
void make_cert(const TempDir& dir, const std::string& name) {
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
      "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
      "-keyout " +
      dir.file(name + ".key") + " -out " + dir.file(name + ".crt") + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
}

// One TLS connection that offers `resume` (if any), fetches the JWKS and closes, so that the
// session tickets sent after a TLS 1.3 handshake have arrived. Returns the session to resume
// next time; `reused` says whether this connection resumed.
SSL_SESSION* fetch_over_tls(int port, SSL_CTX* ctx, SSL_SESSION* resume, bool& reused) {
  reused = false;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return nullptr;
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, "localhost");
  if (resume) SSL_set_session(ssl, resume);
  SSL_SESSION* next = nullptr;
  if (SSL_connect(ssl) == 1) {
    // Keep-alive, and read exactly one response, then close cleanly: a session that ends in
    // an error is not offered again by the client library.
    const std::string req = "GET /.well-known/jwks.json HTTP/1.1\r\nHost: localhost\r\n\r\n";
    SSL_write(ssl, req.data(), static_cast<int>(req.size()));
    std::string got;
    char buf[4096];
    std::size_t want = std::string::npos;
    while (got.size() < want) {
      const int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
      const auto end = got.find("\r\n\r\n");
      const auto length = got.find("Content-Length: ");
      if (end != std::string::npos && length != std::string::npos && length < end)
        want = end + 4 + std::stoul(got.substr(length + 16));
    }
    reused = SSL_session_reused(ssl) == 1;
    next = SSL_get1_session(ssl);
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  ::close(fd);
  return next;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    make_cert(dir_, "a");
    std::system(("cp " + dir_.file("a.crt") + " " + dir_.file("server.crt") + " && cp " +
                 dir_.file("a.key") + " " + dir_.file("server.key"))
                    .c_str());
    proc_ = std::make_unique<Process>(
        testing::authd_binary(),
        std::vector<std::string>{"--dev", "--listen", "127.0.0.1:0", "--data", dir_.path()},
        std::map<std::string, std::string>{{"AUTHD_SERVER_TLS_CERT_FILE", dir_.file("server.crt")},
                                           {"AUTHD_SERVER_TLS_KEY_FILE", dir_.file("server.key")},
                                           {"AUTHD_LOG_FORMAT", "json"}});
    auto p = proc_->wait_for_port("public");
    ASSERT_TRUE(p) << proc_->stdout_text() << proc_->stderr_text();
    port_ = *p;
  }
  TempDir dir_;
  std::unique_ptr<Process> proc_;
  int port_ = 0;
};

TEST_F(TlsTest, Tls13HandshakeVerifiesAgainstTestCertificate) {
  Connection c(port_, TlsOptions{0, 0, dir_.file("a.crt")});
  ASSERT_TRUE(c.ok()) << c.error();
  auto r = c.request("GET", "/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// Answers over TLS carried no Strict-Transport-Security, so a browser could be downgraded.
TEST_F(TlsTest, AnswersOverTlsCarryHsts) {
  Connection c(port_, TlsOptions{0, 0, dir_.file("a.crt")});
  ASSERT_TRUE(c.ok()) << c.error();
  auto r = c.request("GET", "/.well-known/jwks.json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("strict-transport-security"), "max-age=31536000");
}

TEST_F(TlsTest, Tls12IsAccepted) {
  Connection c(port_, TlsOptions{TLS1_2_VERSION, TLS1_2_VERSION, dir_.file("a.crt")});
  ASSERT_TRUE(c.ok()) << c.error();
  auto r = c.request("GET", "/.well-known/jwks.json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(TlsTest, Tls11IsRefused) {
  Connection c(port_, TlsOptions{TLS1_1_VERSION, TLS1_1_VERSION, ""});
  EXPECT_FALSE(c.ok());
  EXPECT_NE(c.error().find("TLS handshake failed"), std::string::npos);
  Connection ok(port_, TlsOptions{});  // and the server goes on serving
  EXPECT_TRUE(ok.ok()) << ok.error();
}

TEST_F(TlsTest, PlainHttpOnTlsPortFails) {
  Connection c(port_);
  ASSERT_TRUE(c.ok());
  auto r = c.request("GET", "/healthz");
  EXPECT_FALSE(r && r->status == 200);
}

TEST_F(TlsTest, SighupReloadsCertificateWithoutDroppingConnections) {
  Connection old_conn(port_, TlsOptions{});
  ASSERT_TRUE(old_conn.ok());
  const auto before = old_conn.peer_fingerprint();
  make_cert(dir_, "b");
  ASSERT_EQ(std::system(("cp " + dir_.file("b.crt") + " " + dir_.file("server.crt") + " && cp " +
                         dir_.file("b.key") + " " + dir_.file("server.key"))
                            .c_str()),
            0);
  proc_->signal(SIGHUP);
  ASSERT_TRUE(proc_->wait_for_output("tls.reloaded", 3s));
  Connection new_conn(port_, TlsOptions{0, 0, dir_.file("b.crt")});
  ASSERT_TRUE(new_conn.ok()) << new_conn.error();
  EXPECT_NE(new_conn.peer_fingerprint(), before);
  auto r = old_conn.request("GET", "/healthz");
  ASSERT_TRUE(r) << "existing connection dropped by reload";
  EXPECT_EQ(r->status, 200);
}

TEST_F(TlsTest, BrokenCertificateOnReloadKeepsServingTheOldOne) {
  dir_.write("server.crt", "not a certificate");
  proc_->signal(SIGHUP);
  ASSERT_TRUE(proc_->wait_for_output("tls.reload_failed", 3s));
  Connection c(port_, TlsOptions{0, 0, dir_.file("a.crt")});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.request("GET", "/healthz")->status, 200);
}

// Resumption uses authd's own ticket keys (rotated, server.tls_ticket_rotation), and they
// belong to the process, not to one TLS context: a certificate reload (SIGHUP) used to make a
// new context with a new ticket key, so every client paid a full handshake after it.
TEST_F(TlsTest, SessionsResumeAcrossACertificateReload) {
  struct Client {
    int version;
    SSL_CTX* ctx = nullptr;
    SSL_SESSION* session = nullptr;
  };
  std::vector<Client> clients{{TLS1_3_VERSION}, {TLS1_2_VERSION}};
  bool reused = true;
  for (Client& c : clients) {
    c.ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(c.ctx, c.version);
    SSL_CTX_set_max_proto_version(c.ctx, c.version);
    SSL_SESSION* first = fetch_over_tls(port_, c.ctx, nullptr, reused);
    ASSERT_NE(first, nullptr) << c.version;
    EXPECT_FALSE(reused);
    c.session = fetch_over_tls(port_, c.ctx, first, reused);
    SSL_SESSION_free(first);
    ASSERT_NE(c.session, nullptr);
    EXPECT_TRUE(reused) << "resumed with a ticket, version " << c.version;
  }
  proc_->signal(SIGHUP);
  ASSERT_TRUE(proc_->wait_for_output("tls.reloaded", 3s));
  for (Client& c : clients) {
    SSL_SESSION* after = fetch_over_tls(port_, c.ctx, c.session, reused);
    EXPECT_TRUE(reused) << "resumed after the reload, version " << c.version;
    if (after) SSL_SESSION_free(after);
    SSL_SESSION_free(c.session);
    SSL_CTX_free(c.ctx);
  }
}

}  // namespace
}  // namespace authd
