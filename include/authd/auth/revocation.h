#pragma once
// Where revoked sessions are announced so every replica rejects their access tokens at once.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

  /// Single access tokens by jti, with the same meaning. They share the implementation's key
  /// space under a prefix no session id has (session ids are UUIDs).
  void revoke_token(const std::string& jti, std::int64_t until) {
    revoke_session(std::string(kTokenKeyPrefix) + jti, until);
  }
  std::optional<bool> is_token_revoked(const std::string& jti) {
    return is_session_revoked(std::string(kTokenKeyPrefix) + jti);
  }

 private:
  static constexpr std::string_view kTokenKeyPrefix = "jti:";
};

}  // namespace authd::auth
