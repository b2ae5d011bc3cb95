// The HTTP core through real sockets against the real authd binary.

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <vector>

#include "support/http_client.h"
#include "support/process.h"

namespace authd {
namespace {

using namespace std::chrono_literals;
using testing::Connection;
using testing::Process;
using testing::TempDir;

class ServerTest : public ::testing::Test {
 protected:
  // Starts authd --dev on an ephemeral port with short timeouts so tests run fast.
  void start(std::map<std::string, std::string> env = {}, std::vector<std::string> extra = {}) {
    std::map<std::string, std::string> e{{"AUTHD_SERVER_READ_TIMEOUT", "800ms"},
                                         {"AUTHD_SERVER_IDLE_TIMEOUT", "1500ms"},
                                         {"AUTHD_SERVER_SHUTDOWN_GRACE", "5s"},
                                         {"AUTHD_LOG_FORMAT", "json"}};
    for (auto& [k, v] : env) e[k] = v;
    std::vector<std::string> args{"--dev", "--listen", "127.0.0.1:0", "--data", dir_.path()};
    args.insert(args.end(), extra.begin(), extra.end());
    proc_ = std::make_unique<Process>(testing::authd_binary(), args, e);
    auto p = proc_->wait_for_port("public");
    ASSERT_TRUE(p) << proc_->stdout_text() << proc_->stderr_text();
    port_ = *p;
  }

  void expect_still_serving() {
    auto r = testing::http_get(port_, "/healthz");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }

  TempDir dir_;
  std::unique_ptr<Process> proc_;
  int port_ = 0;
};

TEST_F(ServerTest, HealthJwksAndMetricsInDevMode) {
  start();
  auto h = testing::http_get(port_, "/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->header("content-type"), "application/json");
  auto j = testing::http_get(port_, "/.well-known/jwks.json");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->status, 200);
  EXPECT_NE(j->body.find("\"keys\""), std::string::npos);
  EXPECT_NE(j->header("cache-control").find("max-age="), std::string::npos);
  EXPECT_EQ(j->header("strict-transport-security"), "") << "no HSTS over plain HTTP";
  auto m = testing::http_get(port_, "/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("authd_http_requests_total{listener=\"public\",route=\"/"
                         "healthz\",method=\"GET\",status=\"200\"} 1"),
            std::string::npos)
      << m->body;
  EXPECT_NE(m->body.find("process_resident_memory_bytes"), std::string::npos);
}

// This test verifies that the access log carries the request but never the Authorization
// header, cookies or the body, and that /readyz answers 200 once the store and a signing key
// are there.
TEST_F(ServerTest, AccessLogNeverHoldsCredentialsAndReadyzIsReady) {
  start();
  auto ready = testing::http_get(port_, "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  Connection c(port_);
  auto r = c.request("POST", "/login", R"({"email":"demo@example.com","password":"pw-in-body"})",
                     {{"Authorization", "Bearer secret-bearer-value"},
                      {"Cookie", "authd_refresh=secret-cookie-value"},
                      {"Content-Type", "application/json"},
                      {"X-Request-Id", "trace-me-123"}});
  ASSERT_TRUE(r);
  ASSERT_FALSE(proc_->wait_for_line({"\"event\":\"http.access\"", "trace-me-123"}, 2s).empty())
      << "the access line names the request";
  const std::string log = proc_->stdout_text() + proc_->stderr_text();
  for (const char* secret : {"secret-bearer-value", "secret-cookie-value", "pw-in-body"})
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " reached the log";
}

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  start();
  Connection c(port_);
  ASSERT_TRUE(c.ok());
  for (int i = 0; i < 5; ++i) {
    auto r = c.request("GET", "/healthz");
    ASSERT_TRUE(r) << "request " << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_NE(r->header("connection"), "close");
  }
}

TEST_F(ServerTest, PipelinedRequestsAnsweredInOrder) {
  start();
  Connection c(port_);
  ASSERT_TRUE(
      c.send_raw("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n"));
  auto a = c.read_response();
  auto b = c.read_response();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(b->status, 404);
}

TEST_F(ServerTest, RequestIdIsEchoedOrGenerated) {
  start();
  Connection c(port_);
  auto r = c.request("GET", "/healthz", "", {{"X-Request-Id", "abc-123"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("x-request-id"), "abc-123");
  // An id that could forge log lines is replaced.
  r = c.request("GET", "/healthz", "", {{"X-Request-Id", "a b\"c"}});
  ASSERT_TRUE(r);
  const std::string generated(r->header("x-request-id"));
  EXPECT_EQ(generated.size(), 32u);
  EXPECT_EQ(generated.find_first_not_of("0123456789abcdef"), std::string::npos) << generated;
  r = c.request("GET", "/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("x-request-id").size(), 32u);
  EXPECT_NE(r->header("x-request-id"), generated) << "each request gets its own";
  EXPECT_TRUE(proc_->wait_for_output("\"request_id\":\"abc-123\"", 2s));
}

TEST_F(ServerTest, OversizedBodyGets413AndServerKeepsServing) {
  start({{"AUTHD_SERVER_MAX_BODY_BYTES", "4KiB"}});
  Connection c(port_);
  auto r = c.request("POST", "/login", std::string(5000, 'x'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("\"error\""), std::string::npos);
  EXPECT_TRUE(c.wait_closed(2s));
  expect_still_serving();
}

TEST_F(ServerTest, DeclaredHugeBodyRejectedBeforeItArrives) {
  start({{"AUTHD_SERVER_MAX_BODY_BYTES", "4KiB"}});
  Connection c(port_);
  ASSERT_TRUE(c.send_raw("POST /login HTTP/1.1\r\nHost: a\r\nContent-Length: 100000000\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  expect_still_serving();
}

TEST_F(ServerTest, OversizedHeadersGet431) {
  start({{"AUTHD_SERVER_MAX_HEADER_BYTES", "2KiB"}});
  Connection c(port_);
  auto r = c.request("GET", "/healthz", "", {{"X-Big", std::string(4000, 'a')}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  expect_still_serving();
}

TEST_F(ServerTest, MalformedRequestsGet400AndServerKeepsServing) {
  start();
  const char* bad[] = {
      "GARBAGE\r\n\r\n", "GET /healthz HTTP/9.9\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost: a\r\nBad Header Line\r\n\r\n",
      "POST /login HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
      "POST /login HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n"};
  for (const char* raw : bad) {
    Connection c(port_);
    ASSERT_TRUE(c.send_raw(raw));
    auto r = c.read_response();
    ASSERT_TRUE(r) << raw;
    EXPECT_EQ(r->status, 400) << raw;
    EXPECT_NE(r->body.find("invalid_request"), std::string::npos);
  }
  expect_still_serving();
  auto m = testing::http_get(port_, "/metrics");
  EXPECT_NE(m->body.find("authd_http_protocol_errors_total{reason=\"malformed\"} 5"),
            std::string::npos);
}

TEST_F(ServerTest, SlowClientIsCutOffAtReadTimeout) {
  start();  // read_timeout 800ms
  Connection c(port_, std::nullopt, 10s);
  ASSERT_TRUE(c.send_raw("GET /healthz HTTP/1.1\r\nHost: a\r\n"));
  bool closed = false;
  // Trickle one header byte every 100 ms, as slowloris does, for far longer than read_timeout:
  // if each byte reset the clock, the connection would outlive the whole trickle.
  for (int i = 0; i < 100 && !closed; ++i) {
    if (!c.send_raw("X")) break;
    closed = c.wait_closed(100ms);
  }
  EXPECT_TRUE(closed || !c.send_raw("X")) << "cut off while still trickling";
  expect_still_serving();
}

// An idle keep-alive connection stays usable between requests and is closed once idle.
TEST_F(ServerTest, IdleKeepAliveConnectionIsClosed) {
  start();  // idle_timeout 1500ms
  Connection c(port_);
  ASSERT_TRUE(c.request("GET", "/healthz"));
  ASSERT_TRUE(c.request("GET", "/healthz")) << "closed before it was idle";
  EXPECT_TRUE(c.wait_closed(5s));
}

TEST_F(ServerTest, ConnectionsBeyondCapAreClosed) {
  start({{"AUTHD_SERVER_MAX_CONNECTIONS", "2"}});
  Connection a(port_), b(port_);
  ASSERT_TRUE(a.request("GET", "/healthz"));
  ASSERT_TRUE(b.request("GET", "/healthz"));
  Connection c(port_);
  EXPECT_TRUE(c.wait_closed(2s));
  EXPECT_TRUE(a.request("GET", "/healthz"));  // the admitted ones still work
}

// Hardening (issue #15), each named after the finding it fixes.

// Any method string became a Prometheus label and an access-log field: 300 requests with 7 KB
// methods grew /metrics from 23 KB to 2 MB.
TEST_F(ServerTest, UnknownMethodIsAnswered501AndNeverBecomesALabelOrLogField) {
  start();
  for (int i = 0; i < 20; ++i) {
    Connection c(port_);
    const std::string method = "X" + std::to_string(i) + std::string(3000, 'M');
    ASSERT_TRUE(c.send_raw(method + " /healthz HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 501);
  }
  auto m = testing::http_get(port_, "/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->body.find("MMMMMMMM"), std::string::npos);
  EXPECT_LT(m->body.size(), 64u * 1024);
  EXPECT_TRUE(proc_->wait_for_output("\"method\":\"OTHER\"", 2s));
  EXPECT_EQ(proc_->stdout_text().find("MMMMMMMM"), std::string::npos);
  expect_still_serving();
}

// One max_connections counter covered every listener: silent public connections made the
// admin /healthz drop its connection, and the orchestrator restarts a healthy pod for that.
TEST_F(ServerTest, IdlePublicConnectionsCannotStarveAdminProbes) {
  start({{"AUTHD_SERVER_MAX_CONNECTIONS", "4"}}, {"--admin-listen", "127.0.0.1:0"});
  auto admin = proc_->wait_for_port("admin");
  ASSERT_TRUE(admin);
  std::vector<std::unique_ptr<Connection>> silent;
  for (int i = 0; i < 8; ++i) silent.push_back(std::make_unique<Connection>(port_));
  for (int i = 0; i < 3; ++i) {
    auto h = testing::http_get(*admin, "/healthz");
    ASSERT_TRUE(h) << "the admin listener has its own connection slots";
    EXPECT_EQ(h->status, 200);
  }
  auto m = testing::http_get(*admin, "/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(
      m->body.find(
          "authd_http_connections_rejected_total{listener=\"public\",reason=\"listener_full\"}"),
      std::string::npos)
      << m->body;
}

// A socket that connected and never sent a byte lived for the whole idle timeout (60 s).
TEST_F(ServerTest, SilentNewConnectionIsClosedAtTheFirstByteTimeout) {
  start({{"AUTHD_SERVER_FIRST_BYTE_TIMEOUT", "300ms"}, {"AUTHD_SERVER_IDLE_TIMEOUT", "30s"}});
  Connection silent(port_, std::nullopt, 5s);
  EXPECT_TRUE(silent.wait_closed(3s));
  Connection used(port_);  // after a request, the idle timeout applies
  ASSERT_TRUE(used.request("GET", "/healthz"));
  EXPECT_FALSE(used.wait_closed(1s));
}

// There was no per-address cap: one address could hold every connection slot.
TEST_F(ServerTest, OneAddressCannotTakeEveryConnection) {
  start({{"AUTHD_SERVER_MAX_CONNECTIONS_PER_ADDRESS", "3"}});
  Connection a(port_), b(port_), c(port_);
  ASSERT_TRUE(a.request("GET", "/healthz"));
  Connection d(port_);
  EXPECT_TRUE(d.wait_closed(2s)) << "the fourth connection from one address is refused";
  ASSERT_TRUE(b.request("GET", "/healthz"));
  auto m = b.request("GET", "/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("reason=\"address_full\"} 1"), std::string::npos) << m->body;
}

// `Transfer-Encoding: xchunked`, `identity` or `chunked, gzip` was read as an empty body, and
// the bytes after it ran as a second request (request smuggling).
TEST_F(ServerTest, TransferEncodingOtherThanChunkedIsRefusedAndNothingIsSmuggled) {
  start();
  const char* encodings[] = {"Transfer-Encoding: xchunked\r\n", "Transfer-Encoding: identity\r\n",
                             "Transfer-Encoding: chunked, gzip\r\n",
                             "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                             "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"};
  for (const char* te : encodings) {
    Connection c(port_);
    ASSERT_TRUE(c.send_raw(std::string("POST /login HTTP/1.1\r\nHost: a\r\n") + te +
                           "\r\n0\r\n\r\nGET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r) << te;
    EXPECT_EQ(r->status, 400) << te;
    EXPECT_FALSE(c.read_response()) << te << ": the bytes after the body ran as a request";
  }
  expect_still_serving();
}

// A request without Host, or with two, was accepted.
TEST_F(ServerTest, MissingOrDuplicateHostIsRefused) {
  start();
  const char* heads[] = {"GET /healthz HTTP/1.1\r\n\r\n",
                         "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"};
  for (const char* head : heads) {
    Connection c(port_);
    ASSERT_TRUE(c.send_raw(head));
    auto r = c.read_response();
    ASSERT_TRUE(r) << head;
    EXPECT_EQ(r->status, 400) << head;
  }
  Connection old(port_);  // HTTP/1.0 needs no Host
  ASSERT_TRUE(old.send_raw("GET /healthz HTTP/1.0\r\n\r\n"));
  auto r = old.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// The 413 for a body over the limit was sometimes lost to a connection reset: the server
// closed while the client was still sending. The close now lingers.
TEST_F(ServerTest, AnswerToAnOversizedBodyIsNotLostToAReset) {
  start({{"AUTHD_SERVER_MAX_BODY_BYTES", "4KiB"}});
  for (int i = 0; i < 10; ++i) {
    Connection c(port_);
    const std::string body(256 * 1024, 'x');
    ASSERT_TRUE(c.send_raw("POST /login HTTP/1.1\r\nHost: a\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n"));
    c.send_raw(body.substr(0, 64 * 1024));  // still sending when the server answers
    c.send_raw(body.substr(64 * 1024));
    auto r = c.read_response();
    ASSERT_TRUE(r) << "round " << i << ": the 413 was lost";
    EXPECT_EQ(r->status, 413);
  }
}

TEST_F(ServerTest, SigtermDrainsInFlightRequestThenExitsZero) {
  start({}, {"--admin-listen", "127.0.0.1:0"});
  auto admin = proc_->wait_for_port("admin");
  ASSERT_TRUE(admin);
  Connection idle(port_);
  ASSERT_TRUE(idle.request("GET", "/.well-known/jwks.json"));
  // An in-flight request: headers sent, body still arriving when SIGTERM lands.
  Connection busy(port_, std::nullopt, 10s);
  ASSERT_TRUE(busy.send_raw(
      "GET /.well-known/jwks.json HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345"));
  ASSERT_TRUE(testing::wait_for_open_connections(*admin, 2, 5s)) << "idle and busy accepted";
  proc_->signal(SIGTERM);
  ASSERT_TRUE(proc_->wait_for_output("server.draining", 2s));
  auto ready = testing::http_get(*admin, "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  EXPECT_TRUE(idle.wait_closed(2s)) << "idle keep-alive connections are closed at once";
  Connection late(port_);
  EXPECT_FALSE(late.ok() && late.request("GET", "/.well-known/jwks.json"))
      << "no new public requests";
  ASSERT_TRUE(busy.send_raw("67890"));
  auto r = busy.read_response();
  ASSERT_TRUE(r) << "in-flight request was dropped";
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_EQ(proc_->wait(5s), 0);
}

TEST_F(ServerTest, DrainGivesUpAtGraceAndStillExitsZero) {
  start({{"AUTHD_SERVER_SHUTDOWN_GRACE", "300ms"}, {"AUTHD_SERVER_READ_TIMEOUT", "30s"}});
  Connection stuck(port_, std::nullopt, 10s);
  ASSERT_TRUE(stuck.send_raw("GET /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n1"));
  ASSERT_TRUE(testing::wait_for_open_connections(port_, 1, 5s));
  proc_->signal(SIGTERM);
  EXPECT_EQ(proc_->wait(3s), 0);
  EXPECT_NE(proc_->stdout_text().find("server.drain_deadline"), std::string::npos);
}

// Issue #15's observability findings: authd_redis_up read 0 (and fired its alert) when Redis
// was simply not configured; there was no build-info metric and no count of tokens issued per
// grant and client.
TEST_F(ServerTest, MetricsNameTheBuildCountIssuedTokensAndNeverFakeRedisDown) {
  start();
  Connection c(port_);
  auto login =
      c.request("POST", "/login", R"({"email":"demo@example.com","password":"demo-password"})",
                {{"Content-Type", "application/json"}});
  ASSERT_TRUE(login);
  ASSERT_EQ(login->status, 200) << login->body;
  auto m = testing::http_get(port_, "/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("authd_build_info{version=\""), std::string::npos);
  EXPECT_NE(m->body.find("authd_tokens_issued_total{grant=\"password\""), std::string::npos)
      << m->body;
  EXPECT_EQ(m->body.find("authd_redis_up"), std::string::npos) << "no Redis is configured";
}

TEST_F(ServerTest, MetricsPassPromtool) {
  // scripts/deps installs Debian's prometheus package: missing promtool is a failure here.
  ASSERT_EQ(std::system("command -v promtool >/dev/null 2>&1"), 0) << "promtool not installed";
  start();
  testing::http_get(port_, "/healthz");
  testing::http_get(port_, "/nope");
  auto m = testing::http_get(port_, "/metrics");
  ASSERT_TRUE(m);
  const std::string file = dir_.file("metrics.txt");
  std::ofstream(file) << m->body;
  EXPECT_EQ(std::system(("promtool check metrics < " + file + " > " + file + ".out 2>&1").c_str()),
            0)
      << [&] {
           std::ifstream f(file + ".out");
           return std::string(std::istreambuf_iterator<char>(f), {});
         }();
}

}  // namespace
}  // namespace authd
