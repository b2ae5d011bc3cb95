#include "authd/auth/audit.h"

#include "authd/core/json_writer.h"

namespace authd::auth {
namespace {

void member(std::string& out, std::string_view key, std::string_view value, bool always = false) {
  if (value.empty() && !always) return;
  out += ',';
  json::append_quoted_lossy(out, key);
  out += ':';
  json::append_quoted_lossy(out, value);
}

}  // namespace

std::string audit_json(const AuditEvent& e) {
  std::string out;
  out.reserve(256);
  out += R"({"log":"audit","time":)";
  out += std::to_string(e.time);
  member(out, "event", e.type, true);
  member(out, "outcome", e.outcome, true);
  member(out, "reason", e.reason);
  member(out, "request_id", e.request_id);
  member(out, "client_id", e.client_id);
  member(out, "user_id", e.user_id);
  member(out, "session_id", e.session_id);
  member(out, "address", e.address);
  member(out, "actor", e.actor);
  member(out, "key_id", e.key_id);
  out += '}';
  return out;
}

}  // namespace authd::auth
