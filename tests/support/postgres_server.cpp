#include "support/postgres_server.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/eventually.h"
#include "support/redis_server.h"  // free_port()

namespace authd::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

std::string pg_bin() {
  const char* v = std::getenv("PGBIN");
  return v != nullptr && *v != '\0' ? v : "/usr/lib/postgresql/15/bin";
}

// The state letter and parent of a process, from /proc/<pid>/stat ("pid (comm) S ppid ...";
// comm may hold spaces and parentheses, so parse after the last ')').
bool proc_stat(pid_t pid, char* state, pid_t* ppid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return false;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 1));
  long parent = 0;
  if (!(rest >> *state >> parent)) return false;
  *ppid = static_cast<pid_t>(parent);
  return true;
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto pid = static_cast<pid_t>(std::stol(name));
    char state = 0;
    pid_t ppid = 0;
    if (proc_stat(pid, &state, &ppid) && ppid == parent) out.push_back(pid);
  }
  return out;
}

bool is_stopped(pid_t pid) {
  char state = 0;
  pid_t ppid = 0;
  // Gone counts as stopped: a backend that exited answers nothing either.
  return !proc_stat(pid, &state, &ppid) || state == 'T' || state == 'Z';
}

}  // namespace

PostgresServer::PostgresServer() = default;

PostgresServer::~PostgresServer() {
  resume();
  stop();
  if (guardian_pid_ > 0) {
    ::close(guardian_fd_);  // EOF: the guardian finds no pid file and exits
    int status = 0;
    eventually([&] { return ::waitpid(guardian_pid_, &status, WNOHANG) != 0; }, seconds(10));
  }
}

void PostgresServer::start_guardian(const std::string& data) {
  const std::string pg_ctl = pg_bin() + "/pg_ctl -D '" + data + "' -m immediate -w -t 10 stop";
  const std::string stop = ::geteuid() == 0 ? "runuser -u postgres -- " + pg_ctl : pg_ctl;
  // The directory goes too, as the test's TempDir would have removed it (unless kept).
  const std::string remove = std::getenv("AUTHD_TEST_KEEP") ? "" : "; rm -rf '" + dir_.path() + "'";
  const std::string script = "read _; f='" + data +
                             "/postmaster.pid'; [ -f \"$f\" ] || exit 0; pm=$(head -1 \"$f\"); "
                             "kill -CONT $pm $(pgrep -P $pm) 2>/dev/null; " +
                             stop + " >/dev/null 2>&1" + remove;
  int fds[2];
  // Close-on-exec: no other child (pg_ctl, the postmaster) may hold the write end.
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[0], 0);  // clears close-on-exec on the copy
    ::setsid();         // not killed along with the test's process group
    ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[0]);
  if (pid < 0) {
    ::close(fds[1]);
    return;
  }
  guardian_fd_ = fds[1];
  guardian_pid_ = pid;
}

std::string PostgresServer::conninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres";
}

int PostgresServer::run_as_postgres(const std::string& program,
                                    const std::vector<std::string>& args, std::string* output) {
  const std::string binary = pg_bin() + "/" + program;
  std::unique_ptr<Process> p;
  if (::geteuid() == 0) {
    // initdb and postgres refuse to run as root.
    std::vector<std::string> full{"-u", "postgres", "--", binary};
    full.insert(full.end(), args.begin(), args.end());
    p = std::make_unique<Process>("/usr/sbin/runuser", full);
  } else {
    p = std::make_unique<Process>(binary, args);
  }
  const auto code = p->wait(seconds(60));
  if (output != nullptr) *output = p->stdout_text() + p->stderr_text();
  return code ? *code : -1;
}

bool PostgresServer::start() {
  // The postgres user must reach its directory inside the test's own.
  std::error_code ec;
  fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read |
                                   fs::perms::group_exec | fs::perms::others_read |
                                   fs::perms::others_exec);
  root_ = dir_.file("pg");
  fs::create_directory(root_, ec);
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr || ::chown(root_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      error_ = "no postgres user to own " + root_;
      return false;
    }
  }
  fs::permissions(root_, fs::perms::owner_all);
  const std::string data = root_ + "/data";
  std::string out;
  if (run_as_postgres("initdb",
                      {"-D", data, "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
                       "--auth-local=trust", "--auth-host=trust"},
                      &out) != 0) {
    error_ = "initdb failed: " + out;
    return false;
  }
  {
    std::ofstream conf(data + "/postgresql.conf", std::ios::app);
    conf << "listen_addresses = '127.0.0.1'\n"
         << "unix_socket_directories = '" << root_ << "'\n"
         << "fsync = off\n"
         << "full_page_writes = off\n"
         << "max_connections = 50\n";
  }
  // Another test may take the chosen port between the check and the bind: try a few.
  for (int attempt = 0; attempt < 3 && !started_; ++attempt) {
    port_ = free_port();
    {
      std::ofstream conf(data + "/postgresql.conf", std::ios::app);
      conf << "port = " << port_ << "\n";  // the last setting wins
    }
    started_ = run_as_postgres(
                   "pg_ctl", {"-D", data, "-l", root_ + "/postgres.log", "-w", "-t", "30", "start"},
                   &out) == 0;
  }
  if (!started_) {
    error_ = "pg_ctl start failed: " + out;
    return false;
  }
  start_guardian(data);
  return true;
}

std::optional<pid_t> PostgresServer::postmaster_pid() const {
  std::ifstream f(root_ + "/data/postmaster.pid");
  long pid = 0;
  if (!(f >> pid) || pid <= 0) return std::nullopt;
  return static_cast<pid_t>(pid);
}

bool PostgresServer::stall() {
  const auto pm = postmaster_pid();
  if (!started_ || !pm) return false;
  // The postmaster first: once it is stopped it forks nothing new.
  if (::kill(*pm, SIGSTOP) != 0) return false;
  stopped_.push_back(*pm);
  for (pid_t child : children_of(*pm)) {
    if (::kill(child, SIGSTOP) == 0) stopped_.push_back(child);
  }
  return eventually([this] {
    for (pid_t pid : stopped_) {
      if (!is_stopped(pid)) return false;
    }
    return true;
  });
}

void PostgresServer::resume() {
  for (pid_t pid : stopped_) ::kill(pid, SIGCONT);
  stopped_.clear();
}

void PostgresServer::resume_backends() {
  const auto pm = postmaster_pid();
  std::vector<pid_t> still;
  for (pid_t pid : stopped_) {
    if (pm && pid == *pm) {
      still.push_back(pid);
    } else {
      ::kill(pid, SIGCONT);
    }
  }
  stopped_ = std::move(still);
}

bool process_exited(pid_t pid) {
  char state = 0;
  pid_t ppid = 0;
  return !proc_stat(pid, &state, &ppid) || state == 'Z';
}

void PostgresServer::stop() {
  if (!started_) return;
  started_ = false;
  const auto pm = postmaster_pid();
  if (run_as_postgres("pg_ctl",
                      {"-D", root_ + "/data", "-m", "immediate", "-w", "-t", "10", "stop"},
                      nullptr) != 0 &&
      pm) {
    ::kill(*pm, SIGKILL);
  }
}

std::vector<int> client_ports_connected_to(int port) {
  std::vector<int> out;
  std::ifstream f("/proc/net/tcp");
  std::string line;
  std::getline(f, line);  // header
  while (std::getline(f, line)) {
    // "  sl  local_address rem_address   st ..." with addresses as HEXIP:HEXPORT.
    std::istringstream in(line);
    std::string sl, local, remote, state;
    if (!(in >> sl >> local >> remote >> state)) continue;
    const auto lc = local.find(':'), rc = remote.find(':');
    if (lc == std::string::npos || rc == std::string::npos) continue;
    const int remote_port = std::stoi(remote.substr(rc + 1), nullptr, 16);
    if (remote_port == port && state == "01") {  // 01: ESTABLISHED
      out.push_back(std::stoi(local.substr(lc + 1), nullptr, 16));
    }
  }
  return out;
}

}  // namespace authd::testing
