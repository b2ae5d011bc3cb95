#include "app/audit_sink.h"

namespace authd::app {

std::unique_ptr<AuditSink> StreamAuditSink::open(std::string_view spec, std::string& error) {
  if (spec == "off") return std::make_unique<NullAuditSink>();
  if (spec.empty() || spec == "stdout") return std::make_unique<StreamAuditSink>(stdout, false);
  constexpr std::string_view kFile = "file:";
  if (spec.starts_with(kFile) && spec.size() > kFile.size()) {
    const std::string path(spec.substr(kFile.size()));
    std::FILE* f = std::fopen(path.c_str(), "ae");
    if (!f) {
      error = "audit.sink: cannot open " + path + " for appending";
      return nullptr;
    }
    return std::make_unique<StreamAuditSink>(f, true);
  }
  error = "audit.sink must be stdout, file:/path or off";
  return nullptr;
}

StreamAuditSink::~StreamAuditSink() {
  if (owned_) std::fclose(f_);
}

void StreamAuditSink::write(const auth::AuditEvent& e) {
  std::string line = auth::audit_json(e);
  line += '\n';
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), f_);
  std::fflush(f_);
}

}  // namespace authd::app
