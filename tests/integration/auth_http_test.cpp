// The auth routes through real sockets against the real authd binary in dev mode, and authctl.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "authd/auth/code_store.h"
#include "authd/core/base64url.h"
#include "authd/core/clock.h"
#include "authd/crypto/password.h"
#include "authd/jose/jws.h"
#include "authd/jose/key.h"
#include "support/backends.h"
#include "support/http_client.h"
#include "support/oauth.h"
#include "support/process.h"

namespace authd {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

using testing::Connection;
using testing::HttpResponse;
using testing::Process;
using testing::TempDir;

using testing::authctl_binary;

const std::string kDemoLogin = R"({"email":"demo@example.com","password":"demo-password"})";
const std::map<std::string, std::string> kJson{{"Content-Type", "application/json"}};
constexpr const char* kAppOrigin = "https://app.example";

// Every case runs against authd in dev mode (SQLite, demo user) and against authd on a fresh
// Postgres schema, where /refresh rotates from the I/O loops without a worker.
class AuthHttpTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    // Clients' JWKS URLs in these tests are served by the test itself on loopback.
    std::map<std::string, std::string> env{{"AUTHD_LOG_FORMAT", "json"},
                                           {"AUTHD_SERVER_SHUTDOWN_GRACE", "5s"},
                                           {"AUTHD_AUTH_CLIENT_JWKS_ALLOW_LOOPBACK_HTTP", "true"}};
    if (GetParam() == testing::Backend::kSqlite) {
      store_args_ = {"--dev", "--data", dir_.path()};
    } else {
      pg_ = std::make_unique<testing::TestDatabase>(testing::Backend::kPostgres);
      ASSERT_TRUE(pg_->ok()) << pg_->error();
      ASSERT_TRUE(dir_.write_key_files());
      store_env_ = {{"AUTHD_STORE_URL", pg_->location()},
                    {"AUTHD_KEYS_KEK_FILE", dir_.file("kek")},
                    {"AUTHD_AUTH_PEPPER_FILE", dir_.file("pepper")}};
      env.insert(store_env_.begin(), store_env_.end());
      env.insert({{"AUTHD_AUTH_DEMO_USER", "true"},
                  {"AUTHD_AUTH_COOKIE_ORIGINS", kAppOrigin},
                  {"AUTHD_SERVER_ADMIN_LISTEN", "shared"}});
    }
    std::vector<std::string> args{"--listen", "127.0.0.1:0"};
    args.insert(args.end(), store_args_.begin(), store_args_.end());
    proc_ = std::make_unique<Process>(testing::authd_binary(), args, env);
    auto p = proc_->wait_for_port("public");
    ASSERT_TRUE(p) << proc_->stdout_text() << proc_->stderr_text();
    port_ = *p;
    base_ = "http://127.0.0.1:" + std::to_string(port_);
    // Dev mode trusts its own URL as a cookie origin; elsewhere auth.cookie_origins does.
    origin_ = GetParam() == testing::Backend::kSqlite ? base_ : kAppOrigin;
  }

  std::optional<HttpResponse> post(const std::string& path, const std::string& body,
                                   std::map<std::string, std::string> headers = kJson) {
    Connection c(port_);
    return c.request("POST", path, body, headers);
  }

  json login_ok(const std::string& body = kDemoLogin) {
    auto r = post("/login", body);
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no response");
    return r ? json::parse(r->body) : json::object();
  }

  int authctl(std::vector<std::string> args, const std::string& stdin_text = "",
              std::string* out = nullptr) {
    std::vector<std::string> a = store_args_;
    a.insert(a.end(), args.begin(), args.end());
    Process p(authctl_binary(), a, store_env_, stdin_text);
    auto rc = p.wait(30s);
    if (out) *out = p.stdout_text() + p.stderr_text();
    return rc.value_or(-1);
  }

  // Replaces the fixture's authd with a dev-mode one whose audit trail goes to `path`; port_
  // is its public port (0 when it did not start).
  std::unique_ptr<Process> start_with_audit_file(const std::string& path) {
    proc_.reset();
    auto p = std::make_unique<Process>(
        testing::authd_binary(),
        std::vector<std::string>{"--dev", "--data", dir_.path(), "--listen", "127.0.0.1:0"},
        std::map<std::string, std::string>{{"AUTHD_LOG_FORMAT", "json"},
                                           {"AUTHD_AUDIT_SINK", "file"},
                                           {"AUTHD_AUDIT_PATH", path}});
    auto port = p->wait_for_port("public");
    port_ = port ? *port : 0;
    if (!port) ADD_FAILURE() << p->stdout_text() << p->stderr_text();
    return p;
  }

  TempDir dir_;
  std::unique_ptr<testing::TestDatabase> pg_;
  std::vector<std::string> store_args_;           // authd and authctl: where the data is
  std::map<std::string, std::string> store_env_;  // the same, for Postgres
  std::unique_ptr<Process> proc_;
  int port_ = 0;
  std::string base_;
  std::string origin_;  // an Origin allowed for cookie requests
};

// A client's JWKS endpoint on loopback: plain HTTP/1.0-style, one request per connection,
// serving the JWK Set it is given with a Cache-Control, and counting requests.
class JwksServer {
 public:
  JwksServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(fd_, 16) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return;
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~JwksServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }
  int requests() const { return requests_; }
  void publish(const std::vector<jose::KeyPtr>& keys) {
    json doc = {{"keys", json::array()}};
    for (const auto& k : keys) doc["keys"].push_back(k->public_jwk());
    std::lock_guard lock(mu_);
    body_ = doc.dump();
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::string req;
      char buf[2048];
      while (req.find("\r\n\r\n") == std::string::npos) {
        pollfd q{c, POLLIN, 0};
        if (::poll(&q, 1, 2000) <= 0) break;
        const auto n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<std::size_t>(n));
      }
      ++requests_;
      std::string body;
      {
        std::lock_guard lock(mu_);
        body = body_;
      }
      const std::string resp =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
          "Cache-Control: max-age=300\r\nConnection: close\r\n"
          "Content-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body;
      std::size_t sent = 0;
      while (sent < resp.size()) {
        const auto n = ::write(c, resp.data() + sent, resp.size() - sent);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
      }
      ::close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::mutex mu_;
  std::string body_;
  std::thread thread_;
};

// Route semantics are checked in-process (tests/unit/http/routes_test.cpp); here the daemon
// serves a login end to end and keeps its secrets out of the log.
TEST_P(AuthHttpTest, LoginKeepsSecretsOutOfTheLog) {
  auto r = post("/login", kDemoLogin);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->header("cache-control"), "no-store");
  auto j = json::parse(r->body);
  EXPECT_EQ(proc_->stdout_text().find(j["refresh_token"].get<std::string>()), std::string::npos)
      << "a refresh token reached the log";
  EXPECT_EQ(proc_->stdout_text().find("demo-password"), std::string::npos);
}

TEST_P(AuthHttpTest, RefreshRotatesAndReuseRevokesTheFamily) {
  auto t = login_ok();
  auto r1 = post("/refresh", json{{"refresh_token", t["refresh_token"]}}.dump());
  ASSERT_TRUE(r1 && r1->status == 200);
  const auto t1 = json::parse(r1->body);
  EXPECT_NE(t1["refresh_token"], t["refresh_token"]);
  // Inside the grace window the old token returns the same successor (two tabs).
  auto again = post("/refresh", json{{"refresh_token", t["refresh_token"]}}.dump());
  ASSERT_TRUE(again && again->status == 200);
  EXPECT_EQ(json::parse(again->body)["refresh_token"], t1["refresh_token"]);
  // Rotate the successor, then replay the original: its successor is no longer live -> reuse.
  auto r2 = post("/refresh", json{{"refresh_token", t1["refresh_token"]}}.dump());
  ASSERT_TRUE(r2 && r2->status == 200);
  auto reuse = post("/refresh", json{{"refresh_token", t["refresh_token"]}}.dump());
  ASSERT_TRUE(reuse);
  EXPECT_EQ(reuse->status, 401);
  auto newest =
      post("/refresh", json{{"refresh_token", json::parse(r2->body)["refresh_token"]}}.dump());
  ASSERT_TRUE(newest);
  EXPECT_EQ(newest->status, 401) << "the whole family is revoked";
  EXPECT_TRUE(proc_->wait_for_output("auth.refresh_reuse", 2s));
  auto m = testing::http_get(port_, "/metrics");
  EXPECT_NE(m->body.find("authd_refresh_reuse_detected_total 1"), std::string::npos);
}

// The audit trail of the real daemon, on its default sink (stdout, beside the log): a login,
// two refreshes and a reuse give their events in order, each naming the request id the answer
// carried, and no line holds the password or a token. The log's own readers (the port, the
// access lines) are unaffected.
TEST_P(AuthHttpTest, AuditTrailOnStdoutNamesEachRequestAndNoSecret) {
  auto send = [this](const std::string& path, const std::string& body, const std::string& id) {
    auto headers = kJson;
    headers["X-Request-Id"] = id;
    auto r = post(path, body, headers);
    if (!r) {
      ADD_FAILURE() << "no answer to " << path;
      return json();
    }
    EXPECT_EQ(r->header("x-request-id"), id);
    return json::parse(r->body, nullptr, false);
  };
  const json t0 = send("/login", kDemoLogin, "audit-login");
  ASSERT_TRUE(t0.contains("refresh_token")) << t0.dump();
  const json t1 = send("/refresh", json{{"refresh_token", t0["refresh_token"]}}.dump(), "audit-r1");
  ASSERT_TRUE(t1.contains("refresh_token")) << t1.dump();
  const json t2 = send("/refresh", json{{"refresh_token", t1["refresh_token"]}}.dump(), "audit-r2");
  ASSERT_TRUE(t2.contains("refresh_token")) << t2.dump();
  send("/refresh", json{{"refresh_token", t0["refresh_token"]}}.dump(), "audit-reuse");
  ASSERT_FALSE(proc_->wait_for_line({"\"log\":\"audit\"", "session.revoked"}, 5s).empty())
      << proc_->stdout_text();

  std::vector<std::string> seen;
  std::string session, user;  // the login's, then every other line's
  std::istringstream out(proc_->stdout_text());
  for (std::string line; std::getline(out, line);) {
    if (line.find("\"log\":\"audit\"") == std::string::npos) continue;
    for (const json* t : {&t0, &t1, &t2})
      for (const char* k : {"refresh_token", "access_token"})
        EXPECT_EQ(line.find((*t)[k].get<std::string>()), std::string::npos) << line;
    EXPECT_EQ(line.find("demo-password"), std::string::npos) << line;
    const json e = json::parse(line, nullptr, false);
    ASSERT_TRUE(e.is_object()) << line;
    if (e["event"] == "key.rotated") continue;  // the key ring's own, at start-up
    if (session.empty()) {
      session = e.value("session_id", "");
      user = e.value("user_id", "");
      EXPECT_FALSE(session.empty() || user.empty()) << line;
    }
    EXPECT_EQ(e.value("session_id", ""), session) << line;
    EXPECT_EQ(e.value("user_id", ""), user) << line;
    EXPECT_EQ(e["address"], "127.0.0.1") << line;
    seen.push_back(e.value("request_id", "") + " " + e["event"].get<std::string>() + "/" +
                   e["outcome"].get<std::string>() + "/" + e.value("reason", ""));
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"audit-login login/success/", "audit-r1 refresh/success/",
                                      "audit-r2 refresh/success/",
                                      "audit-reuse refresh.reuse_detected/failure/reuse_detected",
                                      "audit-reuse session.revoked/success/refresh_reuse"}));
  auto m = testing::http_get(port_, "/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find(R"(authd_audit_events_total{event="refresh",outcome="success"} 2)"),
            std::string::npos)
      << m->body;
}

// audit.sink = file: the trail goes to audit.path, one JSON object a line, and not to stdout;
// authctl records an operator's change in the same file, marked with its actor.
TEST_P(AuthHttpTest, AuditTrailToAFileWithTheOperatorsChanges) {
  if (GetParam() != testing::Backend::kSqlite) GTEST_SKIP() << "the sink is the same for both";
  const std::string path = dir_.file("audit.jsonl");
  auto authd = start_with_audit_file(path);
  ASSERT_NE(port_, 0);
  Process& p = *authd;
  auto r = post("/login", kDemoLogin,
                {{"Content-Type", "application/json"}, {"X-Request-Id", "file-sink-login"}});
  ASSERT_TRUE(r && r->status == 200);
  Process ctl(authctl_binary(),
              {"--dev", "--data", dir_.path(), "user", "disable", "demo@example.com"},
              {{"AUTHD_AUDIT_SINK", "file"}, {"AUTHD_AUDIT_PATH", path}});
  ASSERT_EQ(ctl.wait(30s), 0) << ctl.stdout_text() << ctl.stderr_text();
  EXPECT_EQ(ctl.stdout_text().find("\"log\":\"audit\""), std::string::npos);

  std::vector<std::string> seen;
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);) {
    const json e = json::parse(line, nullptr, false);
    ASSERT_TRUE(e.is_object()) << line;
    EXPECT_EQ(e["log"], "audit");
    if (e["event"] == "key.rotated") continue;
    seen.push_back(e["event"].get<std::string>() + "/" + e.value("reason", "") + "/" +
                   e.value("actor", "") + "/" + e.value("request_id", ""));
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"login///file-sink-login", "user.changed/disabled/authctl/",
                                      "session.revoked/account_disabled/authctl/"}));
  EXPECT_EQ(p.stdout_text().find("\"log\":\"audit\""), std::string::npos) << p.stdout_text();
}

// logrotate moves the audit file away and sends SIGHUP: the next lines go to a new file at
// audit.path, none are lost to the moved one after the signal, and authd keeps serving.
TEST_P(AuthHttpTest, AuditFileIsReopenedOnSighupAfterLogrotateMovesIt) {
  if (GetParam() != testing::Backend::kSqlite) GTEST_SKIP() << "the sink is the same for both";
  const std::string path = dir_.file("audit.jsonl");
  auto authd = start_with_audit_file(path);
  ASSERT_NE(port_, 0);
  Process& p = *authd;
  auto events_in = [](const std::string& file) {
    std::vector<std::string> ids;
    std::ifstream f(file);
    for (std::string line; std::getline(f, line);) {
      const json e = json::parse(line, nullptr, false);
      if (e.is_object() && e.value("event", "") == "login")
        ids.push_back(e.value("request_id", ""));
    }
    return ids;
  };
  auto login = [&](const std::string& id) {
    auto r =
        post("/login", kDemoLogin, {{"Content-Type", "application/json"}, {"X-Request-Id", id}});
    return r && r->status == 200;
  };
  ASSERT_TRUE(login("before-rotation"));
  const std::string moved = path + ".1";
  ASSERT_EQ(std::rename(path.c_str(), moved.c_str()), 0);
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_for_output("audit.reopened", 10s)) << p.stdout_text();
  ASSERT_TRUE(login("after-rotation"));
  EXPECT_EQ(events_in(moved), std::vector<std::string>{"before-rotation"});
  EXPECT_EQ(events_in(path), std::vector<std::string>{"after-rotation"});

  // A path that cannot be opened any more: the error is logged and lines keep their old file.
  ASSERT_EQ(std::rename(path.c_str(), moved.c_str()), 0);
  std::filesystem::create_directory(path);
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_for_output("audit.reopen_failed", 10s)) << p.stdout_text();
  ASSERT_TRUE(login("after-failed-reopen"));
  EXPECT_EQ(events_in(moved), (std::vector<std::string>{"after-rotation", "after-failed-reopen"}));
}

// Tabs refreshing the same token at once, each on its own connection: all get the one
// successor, and it is live. (Six: the default per-family limit allows a burst of ten.)
TEST_P(AuthHttpTest, ConcurrentRefreshesOfOneTokenShareOneSuccessor) {
  const std::string token = login_ok()["refresh_token"];
  std::vector<std::thread> tabs;
  std::mutex mu;
  std::set<std::string> successors;
  std::vector<int> statuses;
  constexpr int kTabs = 6;
  for (int i = 0; i < kTabs; ++i) {
    tabs.emplace_back([&] {
      auto r = post("/refresh", json{{"refresh_token", token}}.dump());
      std::lock_guard lock(mu);
      statuses.push_back(r ? r->status : 0);
      if (r && r->status == 200) successors.insert(json::parse(r->body)["refresh_token"]);
    });
  }
  for (auto& t : tabs) t.join();
  EXPECT_EQ(statuses, std::vector<int>(kTabs, 200));
  ASSERT_EQ(successors.size(), 1u) << "the family forked";
  auto next = post("/refresh", json{{"refresh_token", *successors.begin()}}.dump());
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200) << next->body;
}

// The daemon's cookie origins: its own URL in dev mode, else auth.cookie_origins. (Cookie
// attributes and the CSRF rules are checked in-process.)
TEST_P(AuthHttpTest, CookieModeTrustsTheConfiguredOrigin) {
  auto r =
      post("/login", R"({"email":"demo@example.com","password":"demo-password","cookie":true})",
           {{"Content-Type", "application/json"}, {"Origin", origin_}});
  ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
  const auto cookie = r->header("set-cookie");
  const auto pair = cookie.substr(0, cookie.find(';'));
  auto bad_origin =
      post("/refresh", "",
           {{"Cookie", pair}, {"Origin", "https://evil.example"}, {"X-Authd-CSRF", "1"}});
  ASSERT_TRUE(bad_origin);
  EXPECT_EQ(bad_origin->status, 403);
  auto ok = post("/refresh", "", {{"Cookie", pair}, {"Origin", origin_}, {"X-Authd-CSRF", "1"}});
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;
  EXPECT_NE(ok->header("set-cookie").substr(0, ok->header("set-cookie").find(';')), pair)
      << "cookie rotated";
}

TEST_P(AuthHttpTest, AuthctlManagesUsers) {
  std::string out;
  ASSERT_EQ(authctl({"user", "add", "Frank@Example.com", "--roles", "admin,user", "--tenant", "t1"},
                    "frank-password-1\n", &out),
            0)
      << out;
  EXPECT_EQ(out.find("frank-password-1"), std::string::npos);
  auto t = login_ok(R"({"email":"frank@example.com","password":"frank-password-1"})");
  ASSERT_TRUE(authctl({"user", "list"}, "", &out) == 0);
  EXPECT_NE(out.find("frank@example.com\tadmin,user\tt1\tno"), std::string::npos) << out;
  EXPECT_EQ(authctl({"user", "add", "frank@example.com"}, "another-password\n", &out), 1)
      << "duplicate";

  ASSERT_EQ(authctl({"user", "disable", "frank@example.com"}, "", &out), 0) << out;
  EXPECT_NE(out.find("revoked 1 session"), std::string::npos) << out;
  auto disabled = post("/login", R"({"email":"frank@example.com","password":"frank-password-1"})");
  EXPECT_EQ(disabled->status, 403);
  EXPECT_EQ(post("/refresh", json{{"refresh_token", t["refresh_token"]}}.dump())->status, 401);
  ASSERT_EQ(authctl({"user", "enable", "frank@example.com"}), 0);
  ASSERT_EQ(authctl({"user", "set-password", "frank@example.com"}, "new-password-2\n"), 0);
  EXPECT_EQ(
      post("/login", R"({"email":"frank@example.com","password":"frank-password-1"})")->status,
      401);
  login_ok(R"({"email":"frank@example.com","password":"new-password-2"})");
  ASSERT_EQ(authctl({"user", "roles", "frank@example.com", "auditor"}), 0);
}

// authctl echoed a password typed on a terminal, so it stayed on screen and in scrollback.
TEST_P(AuthHttpTest, AuthctlDoesNotEchoAPasswordTypedOnATerminal) {
  const std::string password = "typed-on-a-tty-Q7";
  std::vector<std::string> args = store_args_;
  for (const char* a : {"user", "add", "tty@example.com"}) args.emplace_back(a);
  int terminal = -1;
  const pid_t pid = forkpty(&terminal, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // the child: authctl with the pty as its terminal
    for (const auto& [k, v] : store_env_) setenv(k.c_str(), v.c_str(), 1);
    const std::string bin = authctl_binary();
    std::vector<char*> argv{const_cast<char*>(bin.c_str())};
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  std::string screen;
  auto read_until = [&](const std::string& needle) {
    const auto until = std::chrono::steady_clock::now() + 20s;
    char buf[512];
    while (screen.find(needle) == std::string::npos && std::chrono::steady_clock::now() < until) {
      pollfd p{terminal, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      const ssize_t n = read(terminal, buf, sizeof buf);
      if (n <= 0) break;  // EIO once the child has exited
      screen.append(buf, static_cast<std::size_t>(n));
    }
    return screen.find(needle) != std::string::npos;
  };
  ASSERT_TRUE(read_until("password: ")) << screen;
  ASSERT_EQ(write(terminal, (password + "\n").data(), password.size() + 1),
            static_cast<ssize_t>(password.size() + 1));
  read_until("\x04");  // everything until authctl exits
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  close(terminal);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << screen;
  EXPECT_EQ(screen.find(password), std::string::npos) << "echoed: " << screen;
  login_ok(R"({"email":"tty@example.com","password":")" + password + R"("})");
}

TEST_P(AuthHttpTest, AuthctlListsAndRotatesKeys) {
  std::string out;
  ASSERT_EQ(authctl({"keys", "list"}, "", &out), 0) << out;
  // Access tokens and ID tokens each have their signing key (keys.id_token_algorithm RS256).
  EXPECT_NE(out.find("\tES256\tactive\taccess\t"), std::string::npos) << out;
  EXPECT_NE(out.find("\tRS256\tactive\tid_token\t"), std::string::npos) << out;
  ASSERT_EQ(authctl({"keys", "rotate"}, "", &out), 0) << out;
  EXPECT_NE(out.find("rotation: new key"), std::string::npos) << out;
  EXPECT_NE(out.find("ID-token rotation: new key"), std::string::npos) << out;
  EXPECT_NE(out.find("\tnext\t"), std::string::npos) << out;
  ASSERT_EQ(authctl({"keys", "rotate"}, "", &out), 0) << out;
  EXPECT_NE(out.find("already pending"), std::string::npos) << out;
}

TEST_P(AuthHttpTest, SigtermFinishesInFlightLogin) {
  Connection c(port_, std::nullopt, 10s);
  // Headers and half the body first, so the request is in flight when SIGTERM arrives.
  const std::string body = kDemoLogin;
  ASSERT_TRUE(c.send_raw(
      "POST /login HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 10)));
  ASSERT_TRUE(testing::wait_for_open_connections(port_, 1, 5s));
  proc_->signal(SIGTERM);
  ASSERT_TRUE(proc_->wait_for_output("server.draining", 2s));
  ASSERT_TRUE(c.send_raw(body.substr(10)));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(proc_->wait(5s), 0);
}

// ---- POST /oauth2/token (RFC 6749) --------------------------------------------------------

namespace oauth2 {

const std::map<std::string, std::string> kForm{
    {"Content-Type", "application/x-www-form-urlencoded"}};
using testing::basic;
using testing::claims_of;

}  // namespace oauth2

// This test verifies that a client made with authctl gets a secret generated by authd, shown
// once and never logged, with which it gets client_credentials tokens over HTTP Basic; and that
// rotate-secret replaces it. (Scopes and the refusals of wrong, unknown and public clients are
// checked in-process.)
TEST_P(AuthHttpTest, AuthctlClientGetsClientCredentialsTokens) {
  std::string out;
  ASSERT_EQ(authctl({"client", "add", "billing", "--grants", "client_credentials", "--scopes",
                     "invoices.read,invoices.write", "--secret"},
                    "", &out),
            0)
      << out;
  const std::string secret = testing::printed_client_secret(out);
  ASSERT_EQ(secret.size(), 43u) << out;
  ASSERT_EQ(authctl({"client", "list"}, "", &out), 0);
  EXPECT_NE(out.find("billing\tconfidential\tclient_credentials"), std::string::npos) << out;
  EXPECT_EQ(out.find(secret), std::string::npos) << "the secret is shown once";

  auto token_with = [&](const std::string& s) {
    std::map<std::string, std::string> h = oauth2::kForm;
    h["Authorization"] = oauth2::basic("billing", s);
    return post("/oauth2/token", "grant_type=client_credentials&scope=invoices.read", h);
  };
  auto r = token_with(secret);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto j = json::parse(r->body);
  EXPECT_FALSE(j.contains("refresh_token"));
  EXPECT_EQ(oauth2::claims_of(j["access_token"])["sub"], "billing");
  EXPECT_EQ(proc_->stdout_text().find(secret), std::string::npos);

  ASSERT_EQ(authctl({"client", "rotate-secret", "billing"}, "", &out), 0) << out;
  const std::string rotated = testing::printed_client_secret(out);
  ASSERT_EQ(rotated.size(), 43u) << out;
  EXPECT_NE(rotated, secret);
  auto fresh = token_with(rotated);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->status, 200) << fresh->body;
}

// This test verifies the token endpoint against python3-authlib, an OAuth client we did not
// write: client_secret_basic with '+', '%' and ':' in the secret (authlib form-encodes it,
// RFC 6749 §2.3.1; the secret is a legacy Argon2id one, written to the store as an older
// build did), client_secret_post with a secret authctl generated, and private_key_jwt with an
// ES256 key registered by authctl --jwk. A wrong secret must fail there too.
TEST_P(AuthHttpTest, AuthlibGetsTokensWithEveryClientAuthMethod) {
  if (GetParam() != testing::Backend::kPostgres) GTEST_SKIP() << "writes the client to Postgres";
  ASSERT_EQ(std::system("/usr/bin/python3 -c 'import authlib, requests' 2>/dev/null"), 0)
      << "python3-authlib not installed (scripts/deps test)";
  const std::string odd_secret = "s3cr+t%20with:colon+and%percent-0123456789";
  auth::Client odd;
  odd.id = "odd";
  odd.grant_types = {"client_credentials"};
  odd.secret_hash = *crypto::hash_password(odd_secret, crypto::PasswordParams{1, 8 * 1024});
  odd.created_at = 1'700'000'000;
  ASSERT_TRUE(pg_->db().clients().upsert(odd));

  std::string out;
  ASSERT_EQ(
      authctl({"client", "add", "post", "--grants", "client_credentials", "--secret"}, "", &out), 0)
      << out;
  const std::string post_secret = testing::printed_client_secret(out);
  ASSERT_EQ(post_secret.size(), 43u) << out;

  auto key = *jose::Key::generate(jose::Alg::ES256);
  {
    std::ofstream pub(dir_.file("pub.jwk")), priv(dir_.file("priv.jwk"));
    pub << key->public_jwk().dump();
    priv << key->private_jwk()->dump();
  }
  ASSERT_EQ(authctl({"client", "add", "jwt", "--grants", "client_credentials", "--jwk",
                     dir_.file("pub.jwk")},
                    "", &out),
            0)
      << out;

  Process py("/usr/bin/python3",
             {std::string(AUTHD_SOURCE_DIR) + "/tests/integration/authlib_interop.py",
              base_ + "/oauth2/token", "odd", odd_secret, "post", post_secret, "jwt",
              dir_.file("priv.jwk")},
             {});
  auto rc = py.wait(60s);
  ASSERT_EQ(rc.value_or(-1), 0) << py.stdout_text() << py.stderr_text();
  auto results = json::parse(py.stdout_text(), nullptr, false);
  ASSERT_TRUE(results.is_object()) << py.stdout_text();
  EXPECT_EQ(results["client_secret_basic"], "ok") << results.dump();
  EXPECT_EQ(results["client_secret_post"], "ok") << results.dump();
  EXPECT_EQ(results["private_key_jwt"], "ok") << results.dump();
  EXPECT_NE(results["client_secret_basic_wrong"], "ok") << results.dump();
}

// This test verifies private_key_jwt with a JWKS URL end to end: authctl registers the URL
// (refusing plain http to another host), authd fetches the client's key set from a real
// loopback server on the first assertion and caches it, a replayed assertion and one forged
// under the published kid are refused, and `client show` names the URL.
TEST_P(AuthHttpTest, PrivateKeyJwtWithAJwksUrlFetchesCachesAndRefusesForgeries) {
  JwksServer jwks;
  ASSERT_GT(jwks.port(), 0);
  const auto key = *jose::Key::generate(jose::Alg::ES256);
  jwks.publish({key});
  const std::string url = "http://127.0.0.1:" + std::to_string(jwks.port()) + "/jwks.json";
  std::string out;
  EXPECT_EQ(authctl({"client", "add", "far", "--grants", "client_credentials", "--jwks-uri",
                     "http://keys.example.com/jwks.json"},
                    "", &out),
            2)
      << out;
  ASSERT_EQ(
      authctl({"client", "add", "jwks-svc", "--grants", "client_credentials", "--jwks-uri", url},
              "", &out),
      0)
      << out;
  ASSERT_EQ(authctl({"client", "show", "jwks-svc"}, "", &out), 0) << out;
  EXPECT_NE(out.find("jwks_uri\t" + url), std::string::npos) << out;
  EXPECT_NE(out.find("private_key_jwt"), std::string::npos) << out;

  const std::int64_t now = SystemClock().now_unix();
  auto assertion = [&](const std::string& jti) {
    json c = {{"iss", "jwks-svc"}, {"sub", "jwks-svc"}, {"aud", base_ + "/oauth2/token"},
              {"jti", jti},        {"iat", now},        {"exp", now + 120}};
    return *jose::sign(*key, c, "JWT");
  };
  auto token = [&](const std::string& jwt) {
    return post("/oauth2/token",
                "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3A"
                "oauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=" +
                    jwt,
                {{"Content-Type", "application/x-www-form-urlencoded"}});
  };
  const std::string first = assertion("jti-1");
  auto ok = token(first);
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body << proc_->stdout_text();
  EXPECT_EQ(
      testing::claims_of(json::parse(ok->body)["access_token"].get<std::string>())["client_id"],
      "jwks-svc");
  EXPECT_EQ(jwks.requests(), 1);

  auto replay = token(first);
  ASSERT_TRUE(replay);
  EXPECT_EQ(replay->status, 401) << replay->body;

  const auto attacker = *jose::Key::generate(jose::Alg::ES256);
  json c = {{"iss", "jwks-svc"}, {"sub", "jwks-svc"}, {"aud", base_ + "/oauth2/token"},
            {"jti", "forged"},   {"iat", now},        {"exp", now + 120}};
  auto forged = jose::sign_jws(*attacker, c.dump(), json{{"kid", key->kid()}, {"typ", "JWT"}});
  ASSERT_TRUE(forged);
  auto refused = token(*forged);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401) << refused->body;

  auto second = token(assertion("jti-2"));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200) << second->body;
  EXPECT_EQ(jwks.requests(), 1) << "the key set is cached (max-age 300)";
}

// This test verifies that a 5xx is logged with its cause and request id on the access line,
// while the client's body says nothing of it: the sessions table vanishes under a running
// daemon, so a login fails in the store.
TEST_P(AuthHttpTest, ServerErrorCauseIsLoggedWithTheRequestId) {
  if (GetParam() != testing::Backend::kPostgres) GTEST_SKIP() << "drops a table on Postgres";
  PGconn* pg = PQconnectdb(pg_->location().c_str());
  ASSERT_EQ(PQstatus(pg), CONNECTION_OK) << PQerrorMessage(pg);
  PGresult* dropped = PQexec(pg, "DROP TABLE sessions CASCADE");
  const bool ok = PQresultStatus(dropped) == PGRES_COMMAND_OK;
  PQclear(dropped);
  PQfinish(pg);
  ASSERT_TRUE(ok);

  Connection c(port_);
  auto r = c.request("POST", "/login", kDemoLogin,
                     {{"Content-Type", "application/json"}, {"X-Request-Id", "cause-trace-5xx"}});
  ASSERT_TRUE(r);
  EXPECT_GE(r->status, 500) << r->body;
  EXPECT_EQ(r->body.find("store"), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find("sessions"), std::string::npos) << r->body;
  // The audit trail names the request too (a login failure): the access line is the one asked.
  const std::string line =
      proc_->wait_for_line({"\"event\":\"http.access\"", "\"request_id\":\"cause-trace-5xx\""}, 5s);
  ASSERT_FALSE(line.empty()) << proc_->stdout_text();
  EXPECT_NE(line.find("\"cause\":\"store: "), std::string::npos) << line;
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthHttpTest,
                         ::testing::Values(testing::Backend::kSqlite, testing::Backend::kPostgres),
                         [](const auto& info) { return testing::to_string(info.param); });

// The janitor of a running authd deletes families dead longer than store.purge_retention every
// store.purge_interval, in batches until caught up (here more than one batch in one run), and
// leaves live families alone. Expired authorization codes go the same way, in batches too,
// while an unexpired one, and an expired one whose family lives (a replay must still revoke
// it), stay.
TEST(JanitorTest, PurgesDeadFamiliesInBatchesAndKeepsLiveOnes) {
  testing::TestDatabase pg(testing::Backend::kPostgres);
  ASSERT_TRUE(pg.ok()) << pg.error();
  store::Database& db = pg.db();
  SystemRandom random;
  const std::int64_t now = SystemClock().now_unix();
  auth::User u;
  u.id = make_uuid_v4(random);
  u.email = "janitor@example.com";
  u.password_hash = "unused";
  u.created_at = u.updated_at = now;
  ASSERT_TRUE(db.users().create(u));
  auto family = [&](std::int64_t expires_at) {
    auth::Session s;
    s.id = make_uuid_v4(random);
    s.user_id = u.id;
    s.client_id = "authd";
    s.created_at = s.last_used_at = now - 100;
    s.absolute_expires_at = s.idle_expires_at = expires_at;
    EXPECT_TRUE(db.sessions().create(s, {random.bytes(32), now - 100}));
    return s.id;
  };
  constexpr int kDead = 1100;  // the janitor deletes 1000 per statement
  std::string dead_id;
  for (int i = 0; i < kDead; ++i) dead_id = family(now - 10);
  const std::string live_id = family(now + 86400);
  auto code = [&](std::int64_t expires_at, const std::string& session_id) {
    auth::AuthorizationCode c;
    c.hash = random.bytes(32);
    c.client_id = "authd";
    c.user_id = u.id;
    c.redirect_uri = "http://127.0.0.1/cb";
    c.code_challenge = "challenge";
    c.auth_time = now - 100;
    c.expires_at = expires_at;
    EXPECT_TRUE(db.codes().create(c));
    if (!session_id.empty()) {
      auto r = db.codes().redeem(c.hash, now - 90, session_id);
      EXPECT_TRUE(r && r->has_value() && (*r)->first_use);
    }
    return c.hash;
  };
  constexpr int kExpiredCodes = 1050;
  std::string expired_code;
  for (int i = 0; i < kExpiredCodes; ++i) expired_code = code(now - 10, "");
  const std::string fresh_code = code(now + 60, "");
  const std::string code_of_live_family = code(now - 10, live_id);
  constexpr int kUsedAssertions = 1020;  // private_key_jwt jti records past their expiry
  for (int i = 0; i < kUsedAssertions; ++i)
    ASSERT_TRUE(db.clients().use_assertion("svc\nold-" + std::to_string(i), now - 5, now - 60));
  ASSERT_TRUE(db.clients().use_assertion("svc\nlive", now + 3600, now));

  TempDir dir;
  ASSERT_TRUE(dir.write_key_files());
  Process p(testing::authd_binary(), {"--listen", "127.0.0.1:0"},
            {{"AUTHD_STORE_URL", pg.location()},
             {"AUTHD_KEYS_KEK_FILE", dir.file("kek")},
             {"AUTHD_AUTH_PEPPER_FILE", dir.file("pepper")},
             {"AUTHD_SERVER_ADMIN_LISTEN", "shared"},
             {"AUTHD_STORE_PURGE_INTERVAL", "1s"},
             {"AUTHD_STORE_PURGE_RETENTION", "0s"},
             {"AUTHD_LOG_FORMAT", "json"}});
  ASSERT_TRUE(p.wait_for_port("public")) << p.stdout_text() << p.stderr_text();
  ASSERT_TRUE(p.wait_for_output("sessions.purged", 10s)) << p.stdout_text();
  EXPECT_NE(p.stdout_text().find("\"count\":" + std::to_string(kDead)), std::string::npos)
      << "one run clears the whole backlog: " << p.stdout_text();
  auto dead = db.sessions().find(dead_id);
  ASSERT_TRUE(dead) << dead.error().message;
  EXPECT_FALSE(dead->has_value());
  auto live = db.sessions().find(live_id);
  ASSERT_TRUE(live) << live.error().message;
  EXPECT_TRUE(live->has_value());

  ASSERT_TRUE(p.wait_for_output("codes.purged", 10s)) << p.stdout_text();
  {
    const std::string log = p.stdout_text();
    const auto at = log.find("codes.purged");
    const std::string line = log.substr(at, log.find('\n', at) - at);
    EXPECT_NE(line.find("\"count\":" + std::to_string(kExpiredCodes)), std::string::npos)
        << "one run clears the whole backlog of codes: " << line;
  }
  // redeem() finds a stored code (nullopt when there is none); a replay's lookup is harmless.
  auto gone = db.codes().redeem(expired_code, now, "probe");
  ASSERT_TRUE(gone) << gone.error().message;
  EXPECT_FALSE(gone->has_value()) << "an expired code outlived the purge";
  auto kept = db.codes().redeem(fresh_code, now, "probe");
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_TRUE(kept->has_value()) << "an unexpired code was purged";
  auto family_kept = db.codes().redeem(code_of_live_family, now, "probe");
  ASSERT_TRUE(family_kept) << family_kept.error().message;
  ASSERT_TRUE(family_kept->has_value()) << "a code whose family lives was purged";
  EXPECT_EQ((*family_kept)->session_id, live_id);

  ASSERT_TRUE(p.wait_for_output("client_assertions.purged", 10s)) << p.stdout_text();
  {
    const std::string log = p.stdout_text();
    const auto at = log.find("client_assertions.purged");
    const std::string line = log.substr(at, log.find('\n', at) - at);
    EXPECT_NE(line.find("\"count\":" + std::to_string(kUsedAssertions)), std::string::npos)
        << "expired assertion records are purged in one run: " << line;
  }
  auto live_replay = db.clients().use_assertion("svc\nlive", now + 3600, now);
  ASSERT_TRUE(live_replay);
  EXPECT_FALSE(*live_replay) << "a live assertion's record was purged";
}

// This test verifies the per-client limit of the token endpoint: 429 with Retry-After once the
// client's burst is spent, before any credential is checked.
TEST(TokenEndpointLimitTest, PerClientLimitAnswers429) {
  TempDir dir;
  Process p(testing::authd_binary(), {"--dev", "--listen", "127.0.0.1:0", "--data", dir.path()},
            {{"AUTHD_LOG_FORMAT", "json"}, {"AUTHD_LIMITS_TOKEN_PER_CLIENT", "60/2"}});
  auto port = p.wait_for_port("public");
  ASSERT_TRUE(port) << p.stdout_text();
  std::vector<int> statuses;
  for (int i = 0; i < 3; ++i) {
    Connection c(*port);
    auto r = c.request("POST", "/oauth2/token",
                       "grant_type=password&username=demo%40example.com&password=demo-password",
                       oauth2::kForm);
    ASSERT_TRUE(r);
    statuses.push_back(r->status);
    if (i == 2) {
      EXPECT_EQ(r->header("retry-after"), "1");
    }
  }
  EXPECT_EQ(statuses, (std::vector<int>{200, 200, 429}));
}

}  // namespace
}  // namespace authd
