#pragma once
// Where revoked sessions are announced so every replica rejects their access tokens at once.

#include <cstdint>
#include <optional>
#include <string>

namespace authd::auth {

/// Thread-safe; may block briefly on I/O (bounded by a timeout).
class RevocationList {
 public:
  virtual ~RevocationList() = default;
  /// Records that session `sid` is revoked until `until` (Unix seconds: the expiry of the
  /// last access token it could have), and tells the other replicas.
  virtual void revoke_session(const std::string& sid, std::int64_t until) = 0;
  /// true/false when known; std::nullopt when the list cannot answer (Redis down and not
  /// synced): the caller then asks the store, failing closed.
  virtual std::optional<bool> is_session_revoked(const std::string& sid) = 0;
};

}  // namespace authd::auth
