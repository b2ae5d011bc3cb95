#include "support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "support/eventually.h"

namespace authd::testing {
namespace {
// Each poll re-reads the child's output file: often enough, without spinning on it.
constexpr std::chrono::milliseconds kPollInterval{10};
}  // namespace

std::string authd_binary() { return AUTHD_BINARY; }

std::string authctl_binary() {
  const std::string authd = authd_binary();
  return authd.substr(0, authd.rfind('/')) + "/authctl";
}

std::string printed_client_secret(const std::string& text) {
  const std::string tag = "client_secret: ";
  const auto at = text.find(tag);
  if (at == std::string::npos) return std::string();
  return text.substr(at + tag.size(), text.find('\n', at) - at - tag.size());
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "authd-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (getenv("AUTHD_TEST_KEEP")) return;  // keep for debugging
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void TempDir::write(const std::string& name, const std::string& content, int mode) const {
  std::ofstream(file(name), std::ios::binary | std::ios::trunc) << content;
  std::filesystem::permissions(file(name), static_cast<std::filesystem::perms>(mode));
}

bool TempDir::write_key_files() const {
  return std::system(("cd " + path_ +
                      " && head -c32 /dev/urandom | base64 > kek && chmod 600 kek"
                      " && head -c32 /dev/urandom | base64 > pepper && chmod 600 pepper")
                         .c_str()) == 0;
}

Process::Process(std::string binary, std::vector<std::string> args,
                 std::map<std::string, std::string> env, const std::string& stdin_text) {
  const std::string out = dir_.file("stdout"), err = dir_.file("stderr"), in = dir_.file("stdin");
  dir_.write("stdin", stdin_text, 0600);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    int input = open(in.c_str(), O_RDONLY);
    dup2(input, 0);
    for (const auto& [k, v] : env) {
      if (v.empty())
        unsetenv(k.c_str());
      else
        setenv(k.c_str(), v.c_str(), 1);
    }
    std::vector<char*> argv;
    argv.push_back(binary.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
}

Process::~Process() {
  if (running()) {
    kill(pid_, SIGKILL);
    wait(std::chrono::seconds(5));
  }
}

void Process::signal(int sig) const { kill(pid_, sig); }

bool Process::running() {
  if (status_) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  if (!eventually([this] { return !running(); }, timeout, kPollInterval)) return std::nullopt;
  return status_;
}

static std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string Process::stdout_text() const { return slurp(dir_.file("stdout")); }
std::string Process::stderr_text() const { return slurp(dir_.file("stderr")); }

bool Process::wait_for_output(const std::string& needle, std::chrono::milliseconds timeout) {
  bool found = false;
  eventually(
      [&] {
        const bool alive = running();  // before reading: output written just before exit counts
        found = stdout_text().find(needle) != std::string::npos;
        return found || !alive;
      },
      timeout, kPollInterval);
  return found;
}

std::string Process::output_line(const std::vector<std::string>& needles) const {
  std::istringstream out(stdout_text());
  std::string line;
  while (std::getline(out, line)) {
    bool all = true;
    for (const auto& n : needles) all = all && line.find(n) != std::string::npos;
    if (all) return line;
  }
  return {};
}

std::string Process::wait_for_line(const std::vector<std::string>& needles,
                                   std::chrono::milliseconds timeout) {
  std::string found;
  eventually(
      [&] {
        const bool alive = running();  // before reading: output written just before exit counts
        found = output_line(needles);
        return !found.empty() || !alive;
      },
      timeout, kPollInterval);
  return found;
}

std::optional<int> Process::wait_for_port(const std::string& listener,
                                          std::chrono::milliseconds timeout) {
  // Matches both log formats: JSON ("listener":"public","address":"127.0.0.1:1234") and text.
  const std::regex json("\"event\":\"server.listening\",\"listener\":\"" + listener +
                        "\",\"address\":\"[^\"]*:([0-9]+)\"");
  const std::regex text("server.listening listener=" + listener + " address=\\S*:([0-9]+)");
  std::optional<int> port;
  eventually(
      [&] {
        const bool alive = running();
        const auto out = stdout_text();
        std::smatch m;
        if (std::regex_search(out, m, json) || std::regex_search(out, m, text)) {
          port = std::stoi(m[1]);
        }
        return port.has_value() || !alive;
      },
      timeout, kPollInterval);
  return port;
}

}  // namespace authd::testing
