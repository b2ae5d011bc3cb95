#pragma once
// Test helper: runs the real authd binary as a child process, with captured output.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace authd::testing {

/// Path of the built authd binary (set by CMake as AUTHD_BINARY).
std::string authd_binary();
/// Path of the built authctl binary, beside authd.
std::string authctl_binary();
/// The secret authctl printed once ("client_secret: ..." line); "" when there is none.
std::string printed_client_secret(const std::string& authctl_output);

/// A fresh temporary directory, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& content, int mode = 0644) const;
  /// Writes `kek` and `pepper` (32 random bytes each, base64, mode 0600) for a production-mode
  /// authd (keys.kek_file, auth.pepper_file); false if the shell command failed.
  bool write_key_files() const;

 private:
  std::string path_;
};

class Process {
 public:
  /// Starts `binary args...` with the current environment plus `env` (an empty value unsets).
  Process(std::string binary, std::vector<std::string> args,
          std::map<std::string, std::string> env = {}, const std::string& stdin_text = "");
  ~Process();  // SIGKILLs a child still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  /// Waits for exit; returns the exit code, 128+signal, or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();

  std::string stdout_text() const;
  std::string stderr_text() const;
  /// Waits until stdout contains `needle`; false on timeout or exit.
  bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout);
  /// The first line of stdout holding every one of `needles`, without its newline; "" when
  /// none. stdout carries the log and, by default, the audit trail: a request id alone names
  /// lines of both, `"event":"http.access"` picks the access line.
  std::string output_line(const std::vector<std::string>& needles) const;
  /// Waits until output_line(needles) finds a line and returns it; "" on timeout or exit.
  std::string wait_for_line(const std::vector<std::string>& needles,
                            std::chrono::milliseconds timeout);
  /// Waits for the "server.listening" line of a listener and returns its port.
  std::optional<int> wait_for_port(const std::string& listener,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

}  // namespace authd::testing
