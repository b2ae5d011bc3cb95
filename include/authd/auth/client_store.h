#pragma once
// OAuth clients (RFC 6749 §2). A default public client "authd" exists after migration.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "authd/store/errc.h"

namespace authd::auth {

struct Client {
  std::string id;
  std::string secret_hash;               ///< Argon2id of the client secret; "" for public clients
  std::vector<std::string> grant_types;  ///< "password", "refresh_token", "client_credentials"
  std::vector<std::string> scopes;
  /// Browser origins (scheme://host[:port]) that may call the token, revoke and userinfo
  /// endpoints cross-origin (CORS) and use cookie mode on /login and /refresh.
  std::vector<std::string> allowed_origins;
  std::int64_t refresh_grace_seconds = 10;  ///< 0..60
  std::int64_t created_at = 0;
  /// What the client may do besides its grants: "introspect" (ask /oauth2/introspect).
  std::vector<std::string> permissions;
  /// Audiences (RFC 8707 resource indicators) it may request besides the server's default.
  std::vector<std::string> audiences;
  std::int64_t access_ttl_seconds = 0;  ///< 0 = the server's auth.access_ttl; else 1..86400
  /// After a rotation the previous secret keeps working until this time (Unix seconds).
  std::string previous_secret_hash;
  std::int64_t previous_secret_expires_at = 0;
  /// private_key_jwt (RFC 7523): the client's public JWK; "" when it has none.
  std::string jwk;
  /// Where /oauth2/authorize may send a code, compared exactly (RFC 6749 §3.1.2.3), except that
  /// an http://127.0.0.1 or http://[::1] URI matches on any port (native apps, RFC 8252 §7.3).
  std::vector<std::string> redirect_uris;
  /// Where RP-initiated logout may send the browser back to, compared exactly.
  std::vector<std::string> post_logout_redirect_uris;

  /// A client that authenticates: with a secret, or with assertions signed by its key.
  bool confidential() const { return !secret_hash.empty() || !jwk.empty(); }
};

/// Client::permissions values.
inline constexpr const char* kPermissionIntrospect = "introspect";

class ClientStore {
 public:
  virtual ~ClientStore() = default;
  /// Inserts or replaces (keeping created_at).
  virtual store::StoreResult<void> upsert(const Client& client) = 0;
  /// Inserts a new client; kConflict if the id exists (nothing is replaced).
  virtual store::StoreResult<void> create(const Client& client) = 0;
  /// Deletes a client; false if there was none.
  virtual store::StoreResult<bool> remove(const std::string& id) = 0;
  /// Records a client assertion (`key`: client id and jti) as used until `until`: true the
  /// first time, false when it is already recorded and not yet past its `until` at `now`.
  /// Atomic, so two replicas presented the same assertion never both get true.
  virtual store::StoreResult<bool> use_assertion(const std::string& key, std::int64_t until,
                                                 std::int64_t now) = 0;
  virtual store::StoreResult<std::optional<Client>> find(const std::string& id) = 0;
  virtual store::StoreResult<std::vector<Client>> list() = 0;
};

}  // namespace authd::auth
