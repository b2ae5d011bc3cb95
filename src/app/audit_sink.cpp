#include "app/audit_sink.h"

#include <cerrno>
#include <cstring>

namespace authd::app {

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
  std::FILE* f = std::fopen(cfg.path.c_str(), "ae");
  if (!f) {
    error = "audit.path: cannot open " + cfg.path + " for appending: " + std::strerror(errno);
    return nullptr;
  }
  return std::make_unique<StreamAuditSink>(f, true);
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
