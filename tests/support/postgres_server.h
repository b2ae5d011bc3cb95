#pragma once
// Test helper: a private PostgreSQL 15 instance owned by one test process, on a free loopback
// port below 32768, for tests that must do to the server what the shared one of
// scripts/services must never suffer: stop it (SIGSTOP, a server that keeps its TCP
// connections open but answers nothing) and resume it. Started with initdb + pg_ctl (as the
// postgres user when running as root), trust authentication on 127.0.0.1 only, fsync off;
// stopped by its data directory (pg_ctl -m immediate), never by name.
//
// Signals go only to processes of this instance: the postmaster named in its own pid file and
// the processes whose parent it is (each backend is its own process group, so a group signal
// would not reach them). A guardian process resumes and stops the instance if the test process
// dies without doing so (a crash, a ctest timeout), so no stopped server is ever left behind.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "support/process.h"

namespace authd::testing {

class PostgresServer {
 public:
  PostgresServer();
  ~PostgresServer();  // resumes and stops it
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  /// initdb, start, wait until it accepts connections; false and error() on failure.
  bool start();
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  /// key=value conninfo for the superuser on the postgres database.
  std::string conninfo() const;

  /// SIGSTOPs the postmaster, then every process it has forked (its backends and auxiliary
  /// processes): the kernel still accepts and acknowledges, nothing answers.
  bool stall();
  /// SIGCONTs everything stall() stopped. Idempotent.
  void resume();
  /// SIGCONTs the processes stall() stopped except the postmaster: backends run what they had
  /// received (and may commit it), while new connections and cancel requests still wait.
  void resume_backends();
  bool stalled() const { return !stopped_.empty(); }

  /// The postmaster's pid, from postmaster.pid.
  std::optional<pid_t> postmaster_pid() const;

 private:
  /// Runs a PostgreSQL program as the postgres user; its exit code, or -1 on timeout.
  int run_as_postgres(const std::string& program, const std::vector<std::string>& args,
                      std::string* output);
  void stop();
  /// Starts the guardian: a shell, in a session of its own, reading a pipe whose write end
  /// only this process holds. EOF (this process ended, however) makes it resume and stop the
  /// instance if its pid file is still there.
  void start_guardian(const std::string& data);

  TempDir dir_;
  std::string root_;  // owned by postgres: data directory, socket, log
  int port_ = 0;
  bool started_ = false;
  std::vector<pid_t> stopped_;
  std::string error_;
  int guardian_fd_ = -1;
  pid_t guardian_pid_ = -1;
};

/// True when `pid` has exited (gone, or a zombie its stopped parent has not reaped yet).
bool process_exited(pid_t pid);

/// Local ports of the client ends of established TCP connections to 127.0.0.1:`port`, from
/// /proc/net/tcp: lets a test see a connection being opened to a stopped server (whose kernel
/// completes the handshake), which nothing else can observe.
std::vector<int> client_ports_connected_to(int port);

}  // namespace authd::testing
