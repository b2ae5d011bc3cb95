#pragma once
// The audit trail's event model: one structured record per security-relevant action (a login,
// a refresh-token reuse, a revocation, a client authentication, an operator's change), for a
// SIEM. Never carries a token, password, secret, code or key: only identifiers and outcomes.
// Formatting is here so that every sink writes the same line; where it goes is the app's.

#include <cstdint>
#include <string>
#include <string_view>

namespace authd::auth {

struct AuditEvent {
  std::int64_t time = 0;  ///< Unix seconds
  std::string type{};     ///< e.g. "login", "refresh.reuse_detected", "session.revoked"
  std::string outcome{};  ///< "success" or "failure"
  std::string reason{};   ///< why (failure reason, revocation cause); "" = none
  std::string request_id{};
  std::string client_id{};
  std::string user_id{};
  std::string session_id{};
  std::string address{};  ///< the caller's IP address, "" = not known (authctl)
  std::string actor{};    ///< who made an operator's change ("authctl"), "" = the caller
  std::string key_id{};   ///< a signing key's kid (key.rotated)
};

/// Where a call came from, for the audit records it causes: the HTTP request's id (the
/// X-Request-Id authd answers with) and the caller's address. Both "" when unknown.
struct AuditOrigin {
  std::string request_id{};
  std::string address{};
};

/// The event as one JSON object, no trailing newline, marked `"log":"audit"`. Always valid
/// JSON (ill-formed UTF-8 becomes U+FFFD); empty fields are left out, type and outcome never.
std::string audit_json(const AuditEvent& e);

}  // namespace authd::auth
