#include "app/audit_sink.h"

#include <cerrno>
#include <cstring>
#include <utility>

namespace authd::app {
namespace {

std::FILE* open_for_appending(const std::string& path, std::string& error) {
  std::FILE* f = std::fopen(path.c_str(), "ae");
  if (!f) error = "audit.path: cannot open " + path + " for appending: " + std::strerror(errno);
  return f;
}

}  // namespace

std::unique_ptr<AuditSink> StreamAuditSink::open(const config::AuditConfig& cfg,
                                                 std::string& error) {
  switch (cfg.sink) {
    case config::AuditSink::kOff:
      return std::make_unique<NullAuditSink>();
    case config::AuditSink::kStdout:
      return std::make_unique<StreamAuditSink>(stdout, false);
    case config::AuditSink::kStderr:
      return std::make_unique<StreamAuditSink>(stderr, false);
    case config::AuditSink::kFile:
      break;
  }
  std::FILE* f = open_for_appending(cfg.path, error);
  if (!f) return nullptr;
  return std::make_unique<StreamAuditSink>(f, true, cfg.path);
}

bool StreamAuditSink::reopen(std::string& error) {
  if (!owned_) return true;
  // The new file first: when it cannot be opened, the lines keep going to the old one.
  std::FILE* f = open_for_appending(path_, error);
  if (!f) return false;
  std::FILE* old = nullptr;
  {
    std::lock_guard lock(mu_);
    old = std::exchange(f_, f);
  }
  std::fclose(old);
  return true;
}

StreamAuditSink::~StreamAuditSink() {
  if (owned_) std::fclose(f_);
}

void StreamAuditSink::write(const auth::AuditEvent& e) {
  std::string line = auth::audit_json(e);
  line += '\n';
  // One fwrite per line: stdio locks the stream for the call, so a line never interleaves
  // with the log's lines when both go to stdout.
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), f_);
  std::fflush(f_);
}

}  // namespace authd::app
