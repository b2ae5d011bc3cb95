// TLS through real sockets: modern versions only, certificate reload on SIGHUP.

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <signal.h>

#include <cstdlib>
#include <thread>

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

}  // namespace
}  // namespace authd
