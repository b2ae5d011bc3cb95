#include "support/redis_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

namespace authd::testing {

namespace {

bool port_bindable(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Nested arrays become one space-separated line (enough for the checks the tests make).
std::string flatten(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      return std::to_string(r->integer);
    case REDIS_REPLY_ARRAY: {
      std::string s;
      for (size_t i = 0; i < r->elements; ++i) {
        if (i) s += ' ';
        s += flatten(r->element[i]);
      }
      return s;
    }
    default:
      return r->str ? std::string(r->str, r->len) : std::string();
  }
}

// A daemonized redis-server is reparented to PID 1, which here reaps zombies only every few
// seconds: a zombie counts as gone.
bool process_alive(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

}  // namespace

int free_port() {
  static std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> dist(21000, 31999);
  for (int i = 0; i < 200; ++i) {
    const int p = dist(rng);
    // The port +10000 is a Redis cluster bus port we never use; only this one matters.
    if (port_bindable(p)) return p;
  }
  return 0;
}

RedisServer::RedisServer(const std::string& dir, std::string name, Config config, int port)
    : dir_(dir),
      name_(std::move(name)),
      config_(std::move(config)),
      port_(port ? port : free_port()) {}

RedisServer::~RedisServer() { stop(); }

std::string RedisServer::url() const {
  return "redis://" + (config_.password.empty() ? "" : ":" + config_.password + "@") +
         "127.0.0.1:" + std::to_string(port_);
}

RedisOptions RedisServer::options() const {
  RedisOptions o;
  o.endpoint = {"127.0.0.1", port_};
  o.password = config_.password;
  return o;
}

bool RedisServer::start() {
  const std::string conf = dir_ + "/" + name_ + ".conf";
  std::ofstream out(conf, std::ios::trunc);
  out << "bind 127.0.0.1\n"
      << "port " << port_ << "\n"
      << "protected-mode yes\n"
      << "daemonize yes\n"
      << "pidfile " << dir_ << "/" << name_ << ".pid\n"
      << "logfile " << dir_ << "/" << name_ << ".log\n"
      << "dir " << dir_ << "\n";
  if (config_.sentinel_monitor_port) {
    out << "sentinel monitor " << config_.master_name << " 127.0.0.1 "
        << *config_.sentinel_monitor_port << " 1\n"
        << "sentinel down-after-milliseconds " << config_.master_name << " 1000\n"
        << "sentinel failover-timeout " << config_.master_name << " 5000\n"
        << "sentinel parallel-syncs " << config_.master_name << " 1\n";
    if (!config_.master_password.empty()) {
      out << "sentinel auth-pass " << config_.master_name << " " << config_.master_password << "\n";
    }
  } else {
    out << "dbfilename " << name_ << ".rdb\n"
        << "save \"\"\n"
        << "appendonly no\n"
        << "repl-diskless-sync-delay 0\n"
        << "enable-debug-command local\n";
    if (!config_.password.empty()) out << "requirepass " << config_.password << "\n";
    if (!config_.master_password.empty()) out << "masterauth " << config_.master_password << "\n";
    if (config_.replica_of) out << "replicaof 127.0.0.1 " << *config_.replica_of << "\n";
  }
  out.close();
  ::unlink((dir_ + "/" + name_ + ".pid").c_str());
  const std::string cmd = "redis-server " + conf +
                          (config_.sentinel_monitor_port ? " --sentinel" : "") + " >>" + dir_ +
                          "/" + name_ + ".start.log 2>&1";
  if (std::system(cmd.c_str()) != 0) return false;
  return eventually([&] { return answers_ping(); }, std::chrono::seconds(5));
}

std::optional<pid_t> RedisServer::pid() const {
  std::ifstream in(dir_ + "/" + name_ + ".pid");
  pid_t p = 0;
  if (in >> p && p > 0) return p;
  return std::nullopt;
}

bool RedisServer::running() const {
  auto p = pid();
  return p && process_alive(*p);
}

void RedisServer::kill9() {
  auto p = pid();
  if (!p) return;
  ::kill(*p, SIGKILL);
  eventually([&] { return !process_alive(*p); }, std::chrono::seconds(5));
  ::unlink((dir_ + "/" + name_ + ".pid").c_str());
}

void RedisServer::stop() {
  auto p = pid();
  if (!p || !process_alive(*p)) return;
  ::kill(*p, SIGTERM);
  if (!eventually([&] { return !process_alive(*p); }, std::chrono::seconds(5))) {
    ::kill(*p, SIGKILL);
  }
}

std::optional<std::string> RedisServer::cli(const std::vector<std::string>& args) const {
  timeval tv{1, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
  if (c == nullptr) return std::nullopt;
  std::unique_ptr<redisContext, decltype(&redisFree)> guard(c, &redisFree);
  if (c->err) return std::nullopt;
  redisSetTimeout(c, tv);
  auto run = [c](const std::vector<std::string>& a) -> std::optional<std::string> {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& s : a) {
      argv.push_back(s.data());
      lens.push_back(s.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (r == nullptr) return std::nullopt;
    std::unique_ptr<redisReply, decltype(&freeReplyObject)> rg(r, &freeReplyObject);
    switch (r->type) {
      case REDIS_REPLY_STRING:
      case REDIS_REPLY_STATUS:
      case REDIS_REPLY_ERROR:
        return std::string(r->str, r->len);
      case REDIS_REPLY_INTEGER:
        return std::to_string(r->integer);
      case REDIS_REPLY_ARRAY:
        return flatten(r);
      default:
        return std::string();
    }
  };
  if (!config_.password.empty() && !config_.sentinel_monitor_port) {
    if (!run({"AUTH", config_.password})) return std::nullopt;
  }
  return run(args);
}

bool RedisServer::answers_ping() const {
  auto r = cli({"PING"});
  return r && *r == "PONG";
}

namespace {

// Tests of the shared server assert what Redis answers, not how fast: under ASan and ctest -j2
// a first EVAL (EVALSHA, NOSCRIPT, EVAL) can take longer than the client's default 100 ms,
// and a rate limiter then answers from its in-process fallback at half the burst. Tests of
// deadlines start a server of their own and set the timeout they test.
constexpr std::chrono::milliseconds kSharedCommandTimeout{5000};

RedisOptions shared_server_options() {
  if (const char* url = std::getenv("AUTHD_TEST_REDIS_URL"); url != nullptr && *url != '\0') {
    auto o = cache::parse_redis_url(url);
    if (o) return *o;
    ADD_FAILURE() << "AUTHD_TEST_REDIS_URL: " << o.error().message;
  }
  // No shared server: start one for the whole binary (stopped at exit by its destructor).
  static authd::testing::TempDir dir;
  static RedisServer server(dir.path(), "shared", {});
  static const bool started = server.start();
  if (!started) ADD_FAILURE() << "could not start redis-server";
  return server.options();
}

}  // namespace

RedisOptions shared_redis_options() {
  RedisOptions o = shared_server_options();
  o.command_timeout = kSharedCommandTimeout;
  return o;
}

std::unique_ptr<RedisClient> connect_or_fail(RedisOptions options, std::chrono::milliseconds wait) {
  auto client = RedisClient::create(std::move(options));
  if (!client) {
    ADD_FAILURE() << "create: " << client.error().message;
    return nullptr;
  }
  if (!(*client)->wait_until_available(wait)) {
    ADD_FAILURE() << "not connected after " << wait.count() << " ms: " << (*client)->last_error();
  }
  return std::move(*client);
}

}  // namespace authd::testing
