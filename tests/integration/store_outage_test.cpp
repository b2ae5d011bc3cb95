// authd over a Postgres that stops answering (SIGSTOP: connections stay open, nothing answers)
// for longer than store.failover_wait: what needs no database keeps answering (the JWKS, and
// with Redis the checks of access tokens on cached state), requests that need it get 503 with
// Retry-After within the wait, no more than store.max_waiting wait, memory stays bounded, and
// everything works again once the database is back, with no restart.

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "support/eventually.h"
#include "support/http_client.h"
#include "support/postgres_server.h"
#include "support/process.h"
#include "support/redis_server.h"

namespace authd {
namespace {

using namespace std::chrono_literals;
using testing::Process;
using testing::TempDir;

constexpr const char* kLogin = R"({"email":"demo@example.com","password":"demo-password"})";

long rss_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// authd on `pg` with short store deadlines, so that a stall is noticed quickly, requests that
// need the store waiting `failover_wait` for it, and the demo user; tests add what they vary.
std::map<std::string, std::string> outage_env(const testing::PostgresServer& pg, const TempDir& dir,
                                              const std::string& failover_wait) {
  return {{"AUTHD_STORE_URL", pg.conninfo()},
          {"AUTHD_STORE_AUTO_MIGRATE", "true"},
          {"AUTHD_STORE_STATEMENT_TIMEOUT", "300ms"},
          {"AUTHD_STORE_CONNECT_TIMEOUT", "1s"},
          {"AUTHD_STORE_FAILOVER_WAIT", failover_wait},
          {"AUTHD_KEYS_KEK_FILE", dir.file("kek")},
          {"AUTHD_AUTH_PEPPER_FILE", dir.file("pepper")},
          {"AUTHD_AUTH_DEMO_USER", "true"},
          {"AUTHD_SERVER_ADMIN_LISTEN", "shared"}};
}

std::optional<testing::HttpResponse> login(int port) {
  testing::Connection c(port, std::nullopt, 20s);
  return c.request("POST", "/login", kLogin, {{"Content-Type", "application/json"}});
}

TEST(StoreOutageTest, LongOutageFailsFastStaysBoundedAndRecoversByItself) {
  testing::PostgresServer pg;
  ASSERT_TRUE(pg.start()) << pg.error();
  TempDir dir;
  ASSERT_TRUE(dir.write_key_files());
  auto env = outage_env(pg, dir, "2s");
  env.insert({{"AUTHD_STORE_MAX_WAITING", "4"},
              {"AUTHD_SERVER_WORKER_THREADS", "4"},
              {"AUTHD_LOG_FORMAT", "json"}});
  Process authd(testing::authd_binary(), {"--listen", "127.0.0.1:0"}, env);
  auto port = authd.wait_for_port("public");
  ASSERT_TRUE(port) << authd.stdout_text() << authd.stderr_text();
  auto ok = login(*port);
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;

  ASSERT_TRUE(pg.stall());
  auto metric = [&](const std::string& sample) { return testing::metric_sample(*port, sample); };

  // The first request finds the store away (at the client deadline) and waits at the gate.
  const auto sent = std::chrono::steady_clock::now();
  std::vector<std::future<std::optional<testing::HttpResponse>>> answers;
  answers.push_back(std::async(std::launch::async, login, *port));
  ASSERT_TRUE(
      testing::eventually([&] { return metric("authd_http_held_requests") == "1"; }, 10s, 20ms));
  // From then on requests wait without running, 4 at most: the rest get 503 at once.
  for (int i = 0; i < 8; ++i) answers.push_back(std::async(std::launch::async, login, *port));

  // Meanwhile, what needs no database answers at once, and the replica stays ready (every
  // replica shares this outage: emptying the balancer's pool would refuse even the JWKS).
  for (const char* path : {"/.well-known/jwks.json", "/healthz", "/readyz"}) {
    auto r = testing::http_get(*port, path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path << " " << r->body;
  }

  for (auto& a : answers) {
    auto r = a.get();
    ASSERT_TRUE(r) << "every request gets an answer";
    EXPECT_EQ(r->status, 503) << r->body;
    EXPECT_EQ(r->header("retry-after"), "1");
    EXPECT_NE(r->body.find("\"error\":\"temporarily_unavailable\""), std::string::npos) << r->body;
  }
  // One client deadline (300 ms + 1 s) and a reconnect (2 s) for the first, the wait (2 s)
  // for every one, and slack.
  EXPECT_LT(std::chrono::steady_clock::now() - sent, 8s);
  EXPECT_NE(metric("authd_http_held_requests_total{outcome=\"refused\"}"), "")
      << "beyond store.max_waiting, 503 at once";
  EXPECT_NE(metric("authd_http_held_requests_total{outcome=\"timed_out\"}"), "");
  EXPECT_EQ(metric("authd_http_held_requests"), "0");

  // Many more during the outage: memory stays flat (each is refused or waits within the cap).
  const long before = rss_kib(authd.pid());
  ASSERT_GT(before, 0);
  std::vector<std::future<std::optional<testing::HttpResponse>>> burst;
  for (int i = 0; i < 200; ++i) burst.push_back(std::async(std::launch::async, login, *port));
  for (auto& a : burst) {
    auto r = a.get();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
  }
  EXPECT_LT(rss_kib(authd.pid()), before + 32 * 1024) << "RSS grew by more than 32 MiB";

  // Back: the next login works on the same process.
  pg.resume();
  EXPECT_TRUE(testing::eventually(
      [&] {
        auto r = login(*port);
        return r && r->status == 200;
      },
      20s, 100ms))
      << authd.stdout_text();
  EXPECT_TRUE(authd.running());
}

// With Redis holding revocations, checking an access token needs no database: introspection by
// a client already cached answers through a total store outage, and so does the JWKS.
TEST(StoreOutageTest, TokenChecksOnCachedStateAnswerThroughATotalOutage) {
  testing::PostgresServer pg;
  ASSERT_TRUE(pg.start()) << pg.error();
  TempDir dir;
  ASSERT_TRUE(dir.write_key_files());
  testing::RedisServer redis(dir.path(), "outage", {});
  ASSERT_TRUE(redis.start());
  auto env = outage_env(pg, dir, "2s");
  env["AUTHD_REDIS_URL"] = redis.url();
  Process authd(testing::authd_binary(), {"--listen", "127.0.0.1:0"}, env);
  auto port = authd.wait_for_port("public");
  ASSERT_TRUE(port) << authd.stdout_text() << authd.stderr_text();

  Process authctl(testing::authctl_binary(),
                  {"client", "add", "checker", "--secret", "--permissions", "introspect"}, env);
  ASSERT_EQ(authctl.wait(30s).value_or(-1), 0) << authctl.stdout_text() << authctl.stderr_text();
  const std::string out = authctl.stdout_text();
  const std::string secret = testing::printed_client_secret(out);
  ASSERT_EQ(secret.size(), 43u) << out;

  auto logged_in = login(*port);
  ASSERT_TRUE(logged_in);
  ASSERT_EQ(logged_in->status, 200) << logged_in->body;
  const std::string access =
      nlohmann::json::parse(logged_in->body)["access_token"].get<std::string>();
  auto introspect = [&] {
    testing::Connection c(*port, std::nullopt, 20s);
    return c.request("POST", "/oauth2/introspect",
                     "client_id=checker&client_secret=" + secret + "&token=" + access,
                     {{"Content-Type", "application/x-www-form-urlencoded"}});
  };
  auto before = introspect();  // the client is cached from now on
  ASSERT_TRUE(before);
  ASSERT_EQ(before->status, 200) << before->body;
  ASSERT_NE(before->body.find("\"active\":true"), std::string::npos) << before->body;

  ASSERT_TRUE(pg.stall());
  const auto stalled_at = std::chrono::steady_clock::now();
  auto during = introspect();
  ASSERT_TRUE(during);
  EXPECT_EQ(during->status, 200) << during->body;
  EXPECT_NE(during->body.find("\"active\":true"), std::string::npos) << during->body;
  auto jwks = testing::http_get(*port, "/.well-known/jwks.json");
  ASSERT_TRUE(jwks);
  EXPECT_EQ(jwks->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - stalled_at, 1s) << "answered without waiting";
  EXPECT_EQ(login(*port)->status, 503) << "a login needs the store";
  pg.resume();
}

// An authorization code is redeemed like a refresh token is rotated: through a stall of the
// store shorter than store.failover_wait, the exchange waits and then succeeds, exactly once.
TEST(StoreOutageTest, CodeRedeemedDuringAShortStallIsHeldAndAnsweredOnce) {
  testing::PostgresServer pg;
  ASSERT_TRUE(pg.start()) << pg.error();
  TempDir dir;
  ASSERT_TRUE(dir.write_key_files());
  const auto env = outage_env(pg, dir, "15s");
  Process authctl(testing::authctl_binary(),
                  {"client", "add", "app", "--grants", "authorization_code,refresh_token",
                   "--redirect-uris", "https://app.example/cb"},
                  env);
  ASSERT_EQ(authctl.wait(30s).value_or(-1), 0) << authctl.stdout_text() << authctl.stderr_text();
  Process authd(testing::authd_binary(), {"--listen", "127.0.0.1:0"}, env);
  auto port = authd.wait_for_port("public");
  ASSERT_TRUE(port) << authd.stdout_text() << authd.stderr_text();

  // RFC 7636 appendix B's verifier and its S256 challenge.
  const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const std::string query =
      "response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
      "&scope=openid&state=s1&nonce=n1"
      "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
  auto page = testing::http_get(*port, "/oauth2/authorize?" + query);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200) << page->body;
  const std::string set_cookie = page->header("set-cookie");
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  const std::string csrf = cookie.substr(cookie.find('=') + 1);
  testing::Connection sign_in(*port, std::nullopt, 20s);
  auto redirect =
      sign_in.request("POST", "/oauth2/authorize",
                      query + "&csrf=" + csrf + "&email=demo%40example.com&password=demo-password",
                      {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", cookie}});
  ASSERT_TRUE(redirect);
  const std::string location = redirect->header("location");
  ASSERT_EQ(location.rfind("https://app.example/cb?", 0), 0u) << redirect->status << location;
  const auto at = location.find("code=") + 5;
  const std::string code = location.substr(at, location.find('&', at) - at);

  auto exchange = [&] {
    testing::Connection c(*port, std::nullopt, 30s);
    return c.request("POST", "/oauth2/token",
                     "grant_type=authorization_code&client_id=app&code=" + code +
                         "&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_verifier=" + verifier,
                     {{"Content-Type", "application/x-www-form-urlencoded"}});
  };
  ASSERT_TRUE(pg.stall());
  auto held = std::async(std::launch::async, exchange);
  ASSERT_TRUE(testing::eventually(
      [&] { return testing::metric_sample(*port, "authd_http_held_requests") == "1"; }, 10s, 20ms))
      << "the exchange waits for the store";
  pg.resume();
  auto answered = held.get();
  ASSERT_TRUE(answered);
  EXPECT_EQ(answered->status, 200) << answered->body;
  EXPECT_NE(answered->body.find("\"id_token\""), std::string::npos) << answered->body;
  auto again = exchange();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 400) << "a code is used once, stall or not";
  EXPECT_NE(again->body.find("invalid_grant"), std::string::npos) << again->body;
}

}  // namespace
}  // namespace authd
