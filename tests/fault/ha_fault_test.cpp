// Fault tests of the whole topology (deploy/local/cluster): Postgres primary + synchronous
// standby, Redis, three authd replicas, HAProxy. A steady mixed load of logins, refreshes and
// JWKS fetches runs through the balancer while each scenario breaks something; every access
// token issued is checked by a resource-server verifier that caches the JWKS exactly as
// Cache-Control allows. The scenarios share one cluster and run in order; the Postgres
// failover is last because it leaves the cluster without a standby. Where network namespaces
// work (root), the cluster runs each replica in one of its own (`cluster up --netns`) and the
// partition scenarios cut one replica off from Postgres, from Redis, or from the balancer.
//
// A request fails when it gets no response or a status other than 200. The clients are strict:
// they never retry. Half of them write a POST's headers and body as two TCP segments 2 ms
// apart, as many HTTP libraries do (the body arrives after the balancer has read the head). A
// request on a keep-alive connection that the balancer closed without an answer is a failure, not
// resent on a new connection; a refresh that failed in any way (no answer, 503, ...) is not retried
// with the same token: the client logs in again. Whatever the balancer and authd hide from such a
// client, they hide from every client. Latency is measured per request, from the first byte sent to
// the last byte received (or the failure), and reported per scenario for all requests and for those
// that started inside the fault window (those that the fault could hold).

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "authd/auth/service.h"
#include "authd/core/base64url.h"
#include "authd/crypto/keyed_hash.h"
#include "authd/crypto/secret_file.h"
#include "authd/jose/jwks.h"
#include "authd/jose/jws.h"
#include "support/http_client.h"
#include "support/process.h"

namespace authd {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::Connection;
using testing::HttpResponse;

constexpr int kUsers = 6;
constexpr int kRefreshesPerFamily = 15;
const char* const kPassword = "fault-test-password";
// How long a client waits for an answer: above authd's longest hold (store.failover_wait, 30 s
// by default) and the balancer's `timeout server`, so that a held request is measured, not cut.
constexpr auto kResponseTimeout = 60s;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// ----------------------------------------------------------------------------------------
// The cluster, driven through its script.

class Cluster {
 public:
  Cluster() : script_(std::string(AUTHD_SOURCE_DIR) + "/deploy/local/cluster") {
    // Postgres runs as the postgres user and must reach its data dir inside.
    std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
  }

  /// `cluster up [--netns] DIR`; with netns, each replica in a network namespace of its own.
  bool up(std::string* log, bool netns) {
    const std::string cmd = env_prefix() + script_ + " up " + (netns ? "--netns " : "") +
                            dir_.path() + "/c > " + dir_.file("up.log") + " 2>&1";
    const bool ok = std::system(cmd.c_str()) == 0;
    std::ifstream f(dir_.file("up.log"));
    *log = std::string(std::istreambuf_iterator<char>(f), {});
    if (!ok) return false;
    std::ifstream envf(dir() + "/env");
    std::string line;
    const std::regex kv(R"(export (\w+)='?([^']*)'?)");
    for (std::smatch m; std::getline(envf, line);) {
      if (std::regex_match(line, m, kv)) env_[m[1]] = m[2];
    }
    return port() > 0;
  }

  void down() {
    if (getenv("AUTHD_TEST_KEEP")) return;
    (void)run("down");
  }

  /// `cluster CMD [N] DIR`; true on exit code 0.
  bool run(const std::string& cmd, const std::string& replica = "") const {
    std::string c = env_prefix() + script_ + " " + cmd + " " + replica + " " + dir() + " >> " +
                    dir_.file("ops.log") + " 2>&1";
    return std::system(c.c_str()) == 0;
  }

  /// The first line `cluster CMD ARGS DIR` prints; empty when it fails.
  std::string output(const std::string& cmd, const std::string& args = "") const {
    const std::string c = env_prefix() + script_ + " " + cmd + " " + args + " " + dir() + " 2>>" +
                          dir_.file("ops.log");
    std::string out;
    if (FILE* p = popen(c.c_str(), "r")) {
      char buf[256];
      if (fgets(buf, sizeof buf, p)) out = buf;
      if (pclose(p) != 0) out.clear();
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }

  /// Replica N as HAProxy sees it: "UP", "DOWN", ...
  std::string lb_state(int n) const { return output("lb-state", std::to_string(n)); }

  /// One gauge from replica N's /metrics (admin port), or nullopt when it does not answer.
  std::optional<double> metric(int n, const std::string& name) const {
    const std::string r = std::to_string(n);
    const std::string c = "curl -fs -m 1 http://" + env("AUTHD_LOCAL_REPLICA" + r + "_HOST") + ":" +
                          env("AUTHD_LOCAL_REPLICA" + r + "_ADMIN_PORT") + "/metrics | grep '^" +
                          name + " '";
    std::optional<double> v;
    if (FILE* p = popen(c.c_str(), "r")) {
      char buf[256];
      if (fgets(buf, sizeof buf, p)) v = std::atof(buf + name.size());
      pclose(p);
    }
    return v;
  }

  bool netns() const { return !env("AUTHD_LOCAL_NETNS").empty(); }

  std::string dir() const { return dir_.path() + "/c"; }
  int port() const {
    return env_.count("AUTHD_LOCAL_LB_PORT") ? std::stoi(env_.at("AUTHD_LOCAL_LB_PORT")) : 0;
  }
  std::string env(const std::string& k) const { return env_.count(k) ? env_.at(k) : ""; }

  int authctl(const std::vector<std::string>& args, const std::string& stdin_text = "") const {
    std::vector<std::string> a{"--config", env("AUTHD_LOCAL_CONFIG")};
    a.insert(a.end(), args.begin(), args.end());
    testing::Process p(build_dir() + "/authctl", a, {}, stdin_text);
    return p.wait(30s).value_or(-1);
  }

  static std::string build_dir() {
    const std::string b = testing::authd_binary();  // <build>/authd
    return b.substr(0, b.rfind('/'));
  }

 private:
  static std::string env_prefix() { return "AUTHD_BUILD_DIR='" + build_dir() + "' "; }
  testing::TempDir dir_;
  std::string script_;
  std::map<std::string, std::string> env_;
};

// ----------------------------------------------------------------------------------------
// A resource server's verifier: caches the JWKS for max-age seconds, never longer.

class CachingVerifier {
 public:
  CachingVerifier(int port, std::string issuer) : port_(port), issuer_(std::move(issuer)) {}

  /// False when the JWKS could not be fetched (a failed request).
  bool verify(const std::string& token) {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    if (!jwks_ || now - fetched_at_ >= max_age_) {
      auto r = testing::http_get(port_, "/.well-known/jwks.json");
      if (!r || r->status != 200) return false;
      std::smatch m;
      const std::string cc = r->header("cache-control");
      if (!std::regex_search(cc, m, std::regex("max-age=([0-9]+)"))) return false;
      auto parsed = jose::Jwks::parse(r->body);
      if (!parsed) return false;
      jwks_ = std::move(*parsed);
      max_age_ = std::chrono::seconds(std::stoi(m[1]));
      fetched_at_ = now;
      ++fetches_;
    }
    jose::VerifyOptions opts;
    opts.issuer = issuer_;
    auto v = jose::verify(token, *jwks_, std::time(nullptr), opts);
    if (v) {
      ++verified_;
      kids_.insert(v->header.value("kid", ""));
    } else if (v.error() == jose::Errc::UnknownKid) {
      ++unknown_kid_;
    } else {
      ++bad_signature_;
    }
    return true;
  }

  struct Counts {
    long verified = 0, unknown_kid = 0, bad_signature = 0, fetches = 0;
    std::size_t kids = 0;
  };
  Counts take() {
    std::lock_guard lock(mutex_);
    Counts c{verified_, unknown_kid_, bad_signature_, fetches_, kids_.size()};
    verified_ = unknown_kid_ = bad_signature_ = fetches_ = 0;
    kids_.clear();
    return c;
  }

 private:
  const int port_;
  const std::string issuer_;
  std::mutex mutex_;
  std::optional<jose::Jwks> jwks_;
  Clock::time_point fetched_at_;
  std::chrono::seconds max_age_{0};
  long verified_ = 0, unknown_kid_ = 0, bad_signature_ = 0, fetches_ = 0;
  std::set<std::string> kids_;
};

// ----------------------------------------------------------------------------------------
// The load: one worker per user, each a client app on its own keep-alive connection.

struct Failure {
  Clock::time_point at;
  std::string what;    // "refresh 503", "login no-response", ...
  std::string detail;  // for no-response: which connection, how long, errno
};

// One request as the client saw it.
struct Sample {
  Clock::time_point start;
  double ms = 0;  // until the answer, or until the failure showed
};

struct Tally {
  long logins = 0, refreshes = 0, jwks = 0, failed = 0;
  std::vector<Failure> failures;
  std::vector<Sample> samples;
  Clock::time_point started, stopped;
  Clock::time_point last_login_ok, last_refresh_ok;
};

class Load {
 public:
  Load(int port, std::vector<std::string> emails, CachingVerifier& verifier)
      : port_(port), emails_(std::move(emails)), verifier_(verifier) {}

  void start() {
    stop_ = false;
    tally_ = Tally{};
    tally_.started = Clock::now();
    for (std::size_t i = 0; i < emails_.size(); ++i) threads_.emplace_back([this, i] { work(i); });
  }

  /// `n` extra clients, each logging in once on a new connection, now (Argon2id keeps them in
  /// flight for a few ms); counted in the running tally.
  void burst_logins(int n) {
    for (int k = 0; k < n; ++k) {
      threads_.emplace_back([this, k] {
        Client c;
        const std::string body =
            nlohmann::json{{"email", emails_[k % emails_.size()]}, {"password", kPassword}}.dump();
        auto r = send(c, "POST", "/login", body);
        if (r && r->status == 200) {
          if (!accept_tokens(*r, true)) fail("verify", std::nullopt);
        } else {
          fail("burst login", r, c.last_error);
        }
        std::lock_guard lock(mutex_);
        tally_.samples.insert(tally_.samples.end(), c.samples.begin(), c.samples.end());
      });
    }
  }

  Tally stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
    std::lock_guard lock(mutex_);
    tally_.stopped = Clock::now();
    return tally_;
  }

  /// Every family (sid) and every refresh token this load was given, over all runs.
  std::set<std::string> families() {
    std::lock_guard lock(mutex_);
    return families_;
  }
  std::vector<std::string> acknowledged_tokens() {
    std::lock_guard lock(mutex_);
    return acked_;
  }

 private:
  struct Client {
    bool split_body = false;  // headers and body in two segments
    std::unique_ptr<Connection> conn;
    std::string refresh_token;
    int refreshes = 0;
    std::string last_error;
    std::vector<Sample> samples;
  };

  // One attempt, never repeated: a dead keep-alive connection fails the request it carried.
  std::optional<HttpResponse> send(Client& c, const std::string& method, const std::string& path,
                                   const std::string& body) {
    const auto t0 = Clock::now();
    const bool fresh = !c.conn || !c.conn->ok();
    if (fresh) {
      c.conn = std::make_unique<Connection>(port_, std::nullopt, kResponseTimeout);
      if (c.split_body) c.conn->set_no_delay();
    }
    std::map<std::string, std::string> h{{"User-Agent", "authd-fault-test"}};
    if (!body.empty()) h["Content-Type"] = "application/json";
    std::optional<HttpResponse> r;
    if (c.conn->ok() && c.split_body && !body.empty()) {
      std::string head = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n";
      for (const auto& [k, v] : h) head += k + ": " + v + "\r\n";
      head += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
      if (c.conn->send_raw(head)) {
        std::this_thread::sleep_for(2ms);  // the body as a second segment, after the head
        if (c.conn->send_raw(body)) r = c.conn->read_response();
      }
    } else if (c.conn->ok()) {
      r = c.conn->request(method, path, body, h);
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    c.samples.push_back({t0, ms});
    if (!r) {
      // Why, for the failure report: a refused connection, a dead keep-alive connection, or
      // a response that never came.
      c.last_error = (fresh ? "new conn" : "reused conn") + std::string(" from port ") +
                     std::to_string(c.conn->local_port()) + ", " +
                     std::to_string(static_cast<int>(ms)) + " ms, " + c.conn->error();
    }
    if (!r || r->header("connection") == "close") c.conn.reset();
    return r;
  }

  void fail(const std::string& what, const std::optional<HttpResponse>& r,
            const std::string& detail = "") {
    std::lock_guard lock(mutex_);
    ++tally_.failed;
    tally_.failures.push_back(
        {Clock::now(), what + " " + (r ? std::to_string(r->status) : std::string("no-response")),
         detail});
  }

  // Takes a token response: records the family and the token, verifies the access token.
  bool accept_tokens(const HttpResponse& r, bool login) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("access_token") || !j.contains("refresh_token"))
      return false;
    const std::string at = j["access_token"], rt = j["refresh_token"];
    const auto first_dot = at.find('.'), second_dot = at.find('.', first_dot + 1);
    auto claims = base64url::decode(at.substr(first_dot + 1, second_dot - first_dot - 1));
    if (!claims) return false;
    auto cj = nlohmann::json::parse(*claims, nullptr, false);
    {
      std::lock_guard lock(mutex_);
      if (login) {
        ++tally_.logins;
        tally_.last_login_ok = Clock::now();
      } else {
        ++tally_.refreshes;
        tally_.last_refresh_ok = Clock::now();
      }
      if (cj.is_object() && cj.contains("sid")) families_.insert(cj["sid"].get<std::string>());
      acked_.push_back(rt);
    }
    return verifier_.verify(at);
  }

  void work(std::size_t i) {
    Client c;
    c.split_body = i % 2 == 1;
    const std::string login_body =
        nlohmann::json{{"email", emails_[i]}, {"password", kPassword}}.dump();
    for (long n = 0; !stop_; ++n) {
      if (c.refresh_token.empty()) {
        auto r = send(c, "POST", "/login", login_body);
        if (r && r->status == 200) {
          auto j = nlohmann::json::parse(r->body, nullptr, false);
          c.refresh_token = j.value("refresh_token", "");
          c.refreshes = 0;
          if (!accept_tokens(*r, true)) fail("verify", std::nullopt);
        } else {
          fail("login", r, c.last_error);
        }
      } else {
        auto r =
            send(c, "POST", "/refresh", nlohmann::json{{"refresh_token", c.refresh_token}}.dump());
        if (r && r->status == 200) {
          auto j = nlohmann::json::parse(r->body, nullptr, false);
          c.refresh_token = j.value("refresh_token", "");
          if (!accept_tokens(*r, false)) fail("verify", std::nullopt);
          if (++c.refreshes >= kRefreshesPerFamily) c.refresh_token.clear();  // a new device
        } else {
          fail("refresh", r, c.last_error);
          // No retry with the same token, whatever the failure: the client logs in again.
          c.refresh_token.clear();
        }
      }
      if (n % 4 == 0) {
        auto r = send(c, "GET", "/.well-known/jwks.json", "");
        if (r && r->status == 200) {
          std::lock_guard lock(mutex_);
          ++tally_.jwks;
        } else {
          fail("jwks", r, c.last_error);
        }
      }
      std::this_thread::sleep_for(10ms);  // load pacing: a steady rate per client thread
    }
    std::lock_guard lock(mutex_);
    tally_.samples.insert(tally_.samples.end(), c.samples.begin(), c.samples.end());
  }

  const int port_;
  const std::vector<std::string> emails_;
  CachingVerifier& verifier_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  Tally tally_;
  std::set<std::string> families_;
  std::vector<std::string> acked_;
};

// ----------------------------------------------------------------------------------------
// The report: one row per scenario, printed at the end and written to fault-report.md.

struct Row {
  std::string scenario;
  Tally tally;
  CachingVerifier::Counts verifier;
  std::string recovery;  // e.g. "2.41 s" or "-"
  std::string notes;
  // The fault window: from the fault to its repair (replica started again, promotion seen,
  // Redis back, ...). Requests that started inside it are the ones the fault could hold.
  Clock::time_point window_start, window_end;
};

struct Latency {
  std::size_t n = 0;
  double p50 = 0, p99 = 0, max = 0;
};

// Nearest-rank percentiles of the samples that started in [from, to].
Latency latency(const std::vector<Sample>& samples, Clock::time_point from, Clock::time_point to) {
  std::vector<double> ms;
  for (const auto& s : samples)
    if (s.start >= from && s.start <= to) ms.push_back(s.ms);
  Latency l;
  l.n = ms.size();
  if (ms.empty()) return l;
  std::sort(ms.begin(), ms.end());
  auto rank = [&](double q) {
    const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(ms.size())));
    return ms[std::min(ms.size(), std::max<std::size_t>(i, 1)) - 1];
  };
  l.p50 = rank(0.50);
  l.p99 = rank(0.99);
  l.max = ms.back();
  return l;
}

std::string format_latency(const Latency& l) {
  if (l.n == 0) return "-";
  std::ostringstream o;
  auto ms = [&](double v) {
    if (v >= 1000) {
      o << std::fixed << std::setprecision(2) << v / 1000 << " s";
    } else {
      o << std::fixed << std::setprecision(v < 10 ? 1 : 0) << v;
    }
  };
  ms(l.p50);
  o << " / ";
  ms(l.p99);
  o << " / ";
  ms(l.max);
  return o.str();
}

std::vector<Row>& report() {
  static std::vector<Row> rows;
  return rows;
}

std::string format_report() {
  std::ostringstream o;
  o << "| scenario | requests | failed | logins | refreshes | jwks | verified | unknown kid |"
       " bad sig | latency p50 / p99 / max (ms) | in the fault window: requests, latency |"
       " recovery | notes |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : report()) {
    const auto& t = r.tally;
    const Latency all = latency(t.samples, t.started, t.stopped);
    const Latency held = latency(t.samples, r.window_start, r.window_end);
    o << "| " << r.scenario << " | " << (t.logins + t.refreshes + t.jwks + t.failed) << " | "
      << t.failed << " | " << t.logins << " | " << t.refreshes << " | " << t.jwks << " | "
      << r.verifier.verified << " | " << r.verifier.unknown_kid << " | " << r.verifier.bad_signature
      << " | " << format_latency(all) << " | " << held.n << ", " << format_latency(held) << " | "
      << r.recovery << " | " << r.notes << " |\n";
  }
  return o.str();
}

std::string failures_text(const Tally& t) {
  std::map<std::string, int> by_kind;
  for (const auto& f : t.failures) ++by_kind[f.what];
  std::string s;
  for (const auto& [k, n] : by_kind) s += (s.empty() ? "" : ", ") + k + " x" + std::to_string(n);
  return s;
}

// Every failure with its time since the load started, for a failing test's message.
std::string failures_detail(const Tally& t) {
  std::ostringstream o;
  for (const auto& f : t.failures) {
    o << "\n  +" << std::fixed << std::setprecision(3) << seconds_between(t.started, f.at) << " s "
      << f.what << (f.detail.empty() ? "" : " (" + f.detail + ")");
  }
  return o.str();
}

// ----------------------------------------------------------------------------------------

// The partition scenarios need each replica in a network namespace (root, iproute2).
// AUTHD_FAULT_NETNS=0 runs the cluster without them (those scenarios are then skipped), =1
// insists on them; by default they are used where they work.
bool want_netns() {
  if (const char* e = std::getenv("AUTHD_FAULT_NETNS"); e && *e) return std::string(e) == "1";
  return geteuid() == 0 && std::system("ip netns list > /dev/null 2>&1") == 0;
}

class FaultTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new Cluster();
    std::string log;
    if (!cluster_->up(&log, want_netns())) {
      setup_error_ = "cluster up failed:\n" + log;
      return;
    }
    for (int i = 0; i < kUsers; ++i) {
      const std::string email = "fault" + std::to_string(i) + "@example.com";
      if (cluster_->authctl({"user", "add", email}, std::string(kPassword) + "\n") != 0) {
        setup_error_ = "authctl user add failed";
        return;
      }
      emails_.push_back(email);
    }
    verifier_ = new CachingVerifier(cluster_->port(),
                                    "http://127.0.0.1:" + std::to_string(cluster_->port()));
    load_ = new Load(cluster_->port(), emails_, *verifier_);
  }

  static void TearDownTestSuite() {
    const std::string table = format_report();
    std::printf("\nFault test report (deploy/local/cluster, %d clients through HAProxy)\n%s\n",
                kUsers, table.c_str());
    std::ofstream(Cluster::build_dir() + "/fault-report.md") << table;
    delete load_;
    delete verifier_;
    if (cluster_) cluster_->down();
    delete cluster_;
  }

  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  /// Runs the load for `before`, then `fault()`, then the load for `after`; returns the tally.
  Row& run_scenario(const std::string& name, std::chrono::milliseconds before,
                    const std::function<void(Row&)>& fault, std::chrono::milliseconds after) {
    Row row;
    row.scenario = name;
    verifier_->take();
    load_->start();
    // The windows of load before and after the fault are the scenario, not a wait for a state.
    std::this_thread::sleep_for(before);
    fault(row);
    std::this_thread::sleep_for(after);
    row.tally = load_->stop();
    row.verifier = verifier_->take();
    if (row.recovery.empty()) row.recovery = "-";
    report().push_back(row);
    return report().back();
  }

  static void expect_steady(const Row& row) {
    EXPECT_EQ(row.tally.failed, 0) << row.scenario << ": " << failures_detail(row.tally);
    EXPECT_GT(row.tally.logins, 5) << row.scenario;
    EXPECT_GT(row.tally.refreshes, 50) << row.scenario;
    EXPECT_GT(row.tally.jwks, 20) << row.scenario;
    EXPECT_EQ(row.verifier.unknown_kid, 0) << row.scenario;
    EXPECT_EQ(row.verifier.bad_signature, 0) << row.scenario;
    EXPECT_EQ(row.verifier.verified, row.tally.logins + row.tally.refreshes) << row.scenario;
  }

  static inline Cluster* cluster_ = nullptr;
  static inline CachingVerifier* verifier_ = nullptr;
  static inline Load* load_ = nullptr;
  static inline std::vector<std::string> emails_;
  static inline std::string setup_error_;
};

// This test verifies that killing one replica with SIGKILL fails no client request: the
// balancer retries the broken request on another replica and stops routing to the dead one.
TEST_F(FaultTest, KillOneReplica) {
  const Row& row = run_scenario(
      "1. kill -9 one replica", 3s,
      [](Row& r) {
        r.window_start = Clock::now();
        ASSERT_TRUE(cluster_->run("kill", "2"));
        std::this_thread::sleep_for(3s);  // the scenario: the replica stays dead under load
        const auto t = Clock::now();
        ASSERT_TRUE(cluster_->run("start", "2"));
        r.window_end = Clock::now();
        r.notes = "replica 2 back in " +
                  std::to_string(seconds_between(t, r.window_end)).substr(0, 4) + " s";
      },
      3s);
  expect_steady(row);
}

// This test verifies that a rolling restart (drain at the balancer, SIGTERM, start, ready, next)
// of all three replicas fails no client request.
TEST_F(FaultTest, RollingRestart) {
  const Row& row = run_scenario(
      "2. rolling restart of 3 replicas", 2s,
      [](Row& r) {
        r.window_start = Clock::now();
        for (const char* n : {"1", "2", "3"}) ASSERT_TRUE(cluster_->run("restart", n));
        r.window_end = Clock::now();
        r.notes = "restart took " +
                  std::to_string(seconds_between(r.window_start, r.window_end)).substr(0, 4) + " s";
      },
      2s);
  expect_steady(row);
}

// This test verifies that logins and refreshes keep succeeding while Redis is down (local
// fallback limits, revocation checks on Postgres) and after it comes back, with no restart.
TEST_F(FaultTest, RedisKilledAndRestarted) {
  const Row& row = run_scenario(
      "4. Redis killed, restarted 4 s later", 2s,
      [](Row& r) {
        r.window_start = Clock::now();
        ASSERT_TRUE(cluster_->run("redis-kill"));
        std::this_thread::sleep_for(4s);  // the scenario: Redis stays down for 4 s under load
        ASSERT_TRUE(cluster_->run("redis-start"));
        r.window_end = Clock::now();
        r.notes = "fallback to local limits";
      },
      3s);
  expect_steady(row);
}

// This test verifies that a key rotation under load is invisible to a resource server that
// caches the JWKS as Cache-Control allows: no unknown kid, no bad signature.
TEST_F(FaultTest, KeyRotationUnderLoad) {
  const Row& row = run_scenario(
      "5. key rotation under load", 2s,
      [](Row& r) {
        r.window_start = Clock::now();
        ASSERT_TRUE(cluster_->run("rotate-keys"));
        // Until the new key signs: 2 s max-age + poll + 1 s.
        r.window_end = r.window_start + 4s;
        r.notes = "new key signs 4 s later (2 s max-age + poll + 1 s)";
      },
      6s);
  expect_steady(row);
  EXPECT_GE(row.verifier.kids, 2u) << "tokens signed by the old and then the new key";
}

// Cuts replica 2 off from `from` (postgres, redis or balancer) for `hold`, then heals the cut.
// The row's window is the cut; its recovery says when the balancer took replica 2 out (if it
// did) and when it was back, polled every 100 ms.
void partition_replica_2(const Cluster& cluster, Row& r, const std::string& from,
                         std::chrono::seconds hold) {
  r.window_start = Clock::now();
  ASSERT_TRUE(cluster.run("cut", "2 " + from));
  std::optional<double> out_after;
  while (Clock::now() - r.window_start < hold) {
    if (!out_after && cluster.lb_state(2) != "UP")
      out_after = seconds_between(r.window_start, Clock::now());
    std::this_thread::sleep_for(100ms);  // the scenario: the cut lasts `hold`, under load
  }
  r.window_end = Clock::now();
  ASSERT_TRUE(cluster.run("heal", "2"));
  std::optional<double> back_after;
  while (Clock::now() - r.window_end < 20s) {
    if (cluster.lb_state(2) == "UP") {
      back_after = seconds_between(r.window_end, Clock::now());
      break;
    }
    std::this_thread::sleep_for(100ms);  // poll interval
  }
  std::ostringstream o;
  o << std::fixed << std::setprecision(1);
  if (!out_after) {
    o << "stayed in the balancer";
  } else if (back_after) {
    o << "out of the balancer " << *out_after << " s after the cut, back " << *back_after
      << " s after the heal";
  } else {
    o << "out of the balancer " << *out_after << " s after the cut, not back 20 s after the heal";
  }
  r.recovery = o.str();
  EXPECT_TRUE(back_after) << from << ": replica 2 did not come back";
}

// A partition scenario's assertions: the other replicas serve and the tokens verify; with
// `clean`, no request fails. Only statuses that mean "unavailable" are tolerated otherwise.
void expect_partition(const Row& row, bool clean) {
  if (clean) {
    EXPECT_EQ(row.tally.failed, 0) << row.scenario << ": " << failures_detail(row.tally);
  }
  for (const auto& f : row.tally.failures) {
    EXPECT_TRUE(f.what.ends_with(" 503") || f.what.ends_with(" no-response"))
        << row.scenario << ": " << f.what;
  }
  EXPECT_GT(row.tally.logins, 5) << row.scenario;
  EXPECT_GT(row.tally.refreshes, 50) << row.scenario;
  EXPECT_EQ(row.verifier.unknown_kid + row.verifier.bad_signature, 0) << row.scenario;
}

// This test verifies that a replica cut off from Postgres while its peers reach it fails no
// request: it hands what it cannot serve back with 504, which the balancer resends to another
// replica, leaves the balancer, and comes back by itself after the heal.
TEST_F(FaultTest, PartitionReplicaFromPostgres) {
  if (!cluster_->netns()) GTEST_SKIP() << "no network namespaces (AUTHD_FAULT_NETNS)";
  Row& row = run_scenario(
      "6. replica 2 cut off from Postgres for 8 s", 3s,
      [](Row& r) { partition_replica_2(*cluster_, r, "postgres", 8s); }, 3s);
  row.notes = row.tally.failed ? "failures: " + failures_text(row.tally) : "no failures";
  expect_partition(row, true);
}

// This test verifies that a replica cut off from Redis keeps serving on its fallbacks (local
// limits, revocation checks on Postgres) and reconnects by itself after the heal.
TEST_F(FaultTest, PartitionReplicaFromRedis) {
  if (!cluster_->netns()) GTEST_SKIP() << "no network namespaces (AUTHD_FAULT_NETNS)";
  std::optional<Clock::time_point> seen_down, seen_up;  // authd_redis_up 0, then 1 again
  Row& row = run_scenario(
      "7. replica 2 cut off from Redis for 8 s", 3s,
      [&](Row& r) {
        std::atomic<bool> done{false};
        std::thread watch([&] {
          while (!done) {
            const auto v = cluster_->metric(2, "authd_redis_up");
            if (v && *v == 0 && !seen_down) seen_down = Clock::now();
            if (v && *v == 1 && seen_down && !seen_up) seen_up = Clock::now();
            std::this_thread::sleep_for(100ms);  // poll interval
          }
        });
        partition_replica_2(*cluster_, r, "redis", 8s);
        for (int i = 0; i < 100; ++i) {
          if (cluster_->metric(2, "authd_redis_up") == 1.0) break;
          std::this_thread::sleep_for(100ms);  // until replica 2 has Redis again
        }
        std::this_thread::sleep_for(200ms);  // one more poll of the watcher
        done = true;
        watch.join();
      },
      3s);
  std::ostringstream o;
  o << std::fixed << std::setprecision(1) << "Redis seen down on replica 2 ";
  if (seen_down) {
    o << seconds_between(row.window_start, *seen_down) << " s after the cut";
  } else {
    o << "never";
  }
  o << ", up again ";
  if (seen_up) {
    o << seconds_between(row.window_end, *seen_up) << " s after the heal";
  } else {
    o << "-";
  }
  row.notes =
      o.str() + "; " + (row.tally.failed ? "failures: " + failures_text(row.tally) : "no failures");
  expect_partition(row, true);
}

// This test verifies that a partition between the balancer and one replica fails no request:
// the balancer's health checks take the replica out, and the requests in flight on it (a burst
// of logins is sent just before the cut so that some are) are answered once TCP's
// retransmissions get through after the heal, late but inside `timeout server` (35 s). A cut
// longer than that would have HAProxy resend them elsewhere (retry-on response-timeout).
TEST_F(FaultTest, PartitionBalancerFromReplica) {
  if (!cluster_->netns()) GTEST_SKIP() << "no network namespaces (AUTHD_FAULT_NETNS)";
  Row& row = run_scenario(
      "8. balancer cut off from replica 2 mid-request for 8 s", 3s,
      [](Row& r) {
        load_->burst_logins(6);            // two land on replica 2 (round robin)
        std::this_thread::sleep_for(3ms);  // in flight: Argon2id takes longer than this
        partition_replica_2(*cluster_, r, "balancer", 8s);
      },
      3s);
  row.notes = row.tally.failed ? "failures: " + failures_text(row.tally) : "no failures";
  expect_partition(row, true);
}

// Runs one SQL query returning one integer, on whichever Postgres is the primary now.
std::optional<long> sql_count(const std::string& conninfo, const std::string& query,
                              const std::vector<std::string>& params = {}) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    PQfinish(c);
    return std::nullopt;
  }
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  PGresult* r = PQexecParams(c, query.c_str(), static_cast<int>(values.size()), nullptr,
                             values.data(), nullptr, nullptr, 0);
  std::optional<long> out;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
    out = std::stol(PQgetvalue(r, 0, 0));
  PQclear(r);
  PQfinish(c);
  return out;
}

// A Postgres array literal of bytea values in hex form: {"\\x00ff",...}.
std::string bytea_array(const std::vector<std::string>& raw) {
  static const char* hex = "0123456789abcdef";
  std::string out = "{";
  for (const auto& b : raw) {
    if (out.size() > 1) out += ',';
    out += "\"\\\\x";
    for (unsigned char ch : b) {
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
    out += '"';
  }
  return out + "}";
}

std::string text_array(const std::set<std::string>& items) {
  std::string out = "{";
  for (const auto& i : items) out += (out.size() > 1 ? "," : "") + i;
  return out + "}";
}

// Whether the Postgres failover must cost no request at all. That needs authd to hold the
// requests that need the store while there is no writable primary (store.failover_wait), so it
// is detected from the authd under test (`authd config-keys`); AUTHD_FAULT_PG_STRICT=1 or =0
// overrides the detection. Without it the scenario asserts what is true of such an authd: the
// only failures are 503 or no answer, all inside the outage, and everything recovers by itself.
bool pg_failover_must_be_clean() {
  if (const char* e = std::getenv("AUTHD_FAULT_PG_STRICT"); e && *e) return std::string(e) == "1";
  testing::Process keys(testing::authd_binary(), {"config-keys"});
  if (keys.wait(10s) != 0) return false;
  return keys.stdout_text().find("store.failover_wait\t") != std::string::npos;
}

// This test verifies that when the Postgres primary dies and the synchronous standby is
// promoted, logins and refreshes resume by themselves (libpq multi-host conninfo with
// target_session_attrs=read-write), every rotation acknowledged to a client survives, no
// refresh token has two successors, no family is lost, and no family is wrongly revoked; with
// an authd that holds requests during the failover, that no request fails at all.
// Last: afterwards the cluster runs without a standby.
TEST_F(FaultTest, PostgresPrimaryKilledStandbyPromoted) {
  // With Patroni (the default) the kill takes the leader's Patroni with it, as when its node
  // dies, and the standby is promoted once the leader key expires (ttl 5 s). Without it, the
  // test promotes the standby itself after 1 s, standing in for failure detection.
  const bool patroni = cluster_->env("AUTHD_LOCAL_PG_MODE") == "patroni";
  const bool strict = pg_failover_must_be_clean();
  Clock::time_point killed, promoted;
  Row& row = run_scenario(
      patroni ? "3. Postgres leader node killed, Patroni promotes the sync standby"
              : "3. Postgres primary killed, standby promoted 1 s later",
      3s,
      [&](Row& r) {
        killed = r.window_start = Clock::now();
        ASSERT_TRUE(cluster_->run("pg-kill-primary"));
        if (!patroni) std::this_thread::sleep_for(1s);
        ASSERT_TRUE(cluster_->run("pg-promote"));
        promoted = r.window_end = Clock::now();
      },
      10s);
  const Tally& t = row.tally;
  Clock::time_point last_failure = killed, last_release = killed;
  for (const auto& f : t.failures) last_failure = std::max(last_failure, f.at);
  for (const auto& s : t.samples) {
    if (s.start < killed || s.start > promoted) continue;
    last_release =
        std::max(last_release, s.start + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double, std::milli>(s.ms)));
  }
  // Writes are back when the last failure is behind us and every request the outage held has
  // been answered.
  const auto back = std::max(last_failure, last_release);
  const double outage = seconds_between(killed, back);
  std::ostringstream rec;
  rec << std::fixed << std::setprecision(2) << outage << " s after the kill ("
      << std::max(0.0, seconds_between(promoted, back)) << " s after promotion)";
  row.recovery = rec.str();
  row.notes = t.failed ? "failures during the outage: " + failures_text(t) : "no failures";
  row.notes +=
      strict ? " (asserted: 0 failed)" : " (asserted: only 503 or no answer, in the outage)";

  if (strict) {
    EXPECT_EQ(t.failed, 0) << failures_detail(t);
  }
  // Resumed by itself, and stayed up. The bound: Patroni's ttl (5 s) + loop_wait + HAProxy's
  // rise (2 checks) + margin; and it must stay within the refresh grace window (10 s), or a
  // refresh that the balancer replays on another replica would look like a thief.
  EXPECT_LT(outage, 10.0) << failures_detail(t);
  EXPECT_GT(seconds_between(last_failure, t.stopped), 4.0) << "still failing at the end";
  EXPECT_GT(t.last_login_ok, promoted) << "no login succeeded after the promotion";
  EXPECT_GT(t.last_refresh_ok, promoted) << "no refresh succeeded after the promotion";
  // Only unavailability while there was no primary: never a refused (lost) refresh token.
  for (const auto& f : t.failures) {
    EXPECT_TRUE(f.what.ends_with(" 503") || f.what.ends_with(" no-response"))
        << f.what << " at +" << seconds_between(killed, f.at) << " s";
  }
  EXPECT_EQ(row.verifier.unknown_kid + row.verifier.bad_signature, 0);

  // The database, on the new primary.
  const std::string pg = cluster_->env("AUTHD_LOCAL_PG_ADMIN_URL");
  EXPECT_EQ(sql_count(pg, "SELECT pg_is_in_recovery()::int"), 0);
  auto pepper = crypto::load_secret_file(cluster_->dir() + "/pepper", 32);
  ASSERT_TRUE(pepper);
  auto hasher = crypto::KeyedHasher::create(std::move(*pepper));
  ASSERT_TRUE(hasher);
  std::vector<std::string> hashes;
  for (const auto& tok : load_->acknowledged_tokens())
    hashes.push_back(auth::refresh_token_store_hash(*hasher, tok));
  ASSERT_GT(hashes.size(), 1000u);
  EXPECT_EQ(sql_count(pg, "SELECT count(*) FROM refresh_tokens WHERE hash = ANY($1::bytea[])",
                      {bytea_array(hashes)}),
            static_cast<long>(hashes.size()))
      << "every refresh token handed to a client, in all scenarios, is in the database";
  const auto families = load_->families();
  EXPECT_EQ(sql_count(pg, "SELECT count(*) FROM sessions WHERE id = ANY($1::uuid[])",
                      {text_array(families)}),
            static_cast<long>(families.size()))
      << "every family a client was given exists";
  EXPECT_EQ(sql_count(pg,
                      "SELECT count(*) FROM sessions WHERE id = ANY($1::uuid[])"
                      " AND revoked_at IS NOT NULL",
                      {text_array(families)}),
            0)
      << "no family was revoked (a failover must not look like token theft)";
  EXPECT_EQ(sql_count(pg,
                      "SELECT count(*) FROM (SELECT session_id, generation FROM refresh_tokens"
                      " GROUP BY 1, 2 HAVING count(*) > 1) f"),
            0)
      << "no family forked";
  EXPECT_EQ(sql_count(pg,
                      "SELECT count(*) FROM (SELECT session_id FROM refresh_tokens"
                      " WHERE used_at IS NULL GROUP BY 1 HAVING count(*) > 1) f"),
            0)
      << "no family has two live tokens";
  EXPECT_EQ(sql_count(pg,
                      "SELECT count(*) FROM refresh_tokens t WHERE t.successor_hash IS NOT NULL"
                      " AND NOT EXISTS (SELECT 1 FROM refresh_tokens s"
                      " WHERE s.hash = t.successor_hash)"),
            0)
      << "every used token's one successor exists";
}

}  // namespace
}  // namespace authd
