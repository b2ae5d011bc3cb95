#pragma once
// OAuth clients (RFC 6749 §2). A default public client "authd" exists after migration.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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
  /// private_key_jwt with keys the client publishes (and rotates) itself: the https URL of its
  /// JWK Set, fetched and cached by authd; "" when it has none. Never set together with `jwk`.
  std::string jwks_uri;
  /// Where /oauth2/authorize may send a code, compared exactly (RFC 6749 §3.1.2.3), except that
  /// an http://127.0.0.1 or http://[::1] URI matches on any port (native apps, RFC 8252 §7.3).
  std::vector<std::string> redirect_uris;
  /// Where RP-initiated logout may send the browser back to, compared exactly.
  std::vector<std::string> post_logout_redirect_uris;

  /// A client that authenticates: with a secret, or with assertions signed by its key.
  bool confidential() const { return !secret_hash.empty() || !jwk.empty() || !jwks_uri.empty(); }
  /// Authenticates with signed assertions (private_key_jwt) rather than a secret.
  bool uses_assertions() const { return !jwk.empty() || !jwks_uri.empty(); }
};

/// The key sets of private_key_jwt clients registered with a jwks_uri, fetched from where the
/// client publishes them and cached. Outside the domain: it does network I/O.
class ClientKeySets {
 public:
  virtual ~ClientKeySets() = default;
  /// Verifies `assertion` with the key its `kid` names in the set at `client.jwks_uri`, with
  /// the strict verifier: signature, `exp`, `nbf`, `iat`, `iss` = the client id and `aud`
  /// naming one of `audiences`. Returns the verified claims (a JSON object as text), or
  /// std::nullopt when refused or when no usable key set can be had. May block for a fetch
  /// (bounded by its timeout): call it from a worker, never from an event loop.
  virtual std::optional<std::string> verify(const Client& client, std::string_view assertion,
                                            const std::vector<std::string>& audiences) = 0;
  /// Drops what is cached for `client_id` ("" = every client): the client changed.
  virtual void forget(const std::string& client_id) = 0;
};

/// Client assertions already used, shared by every replica ahead of the store (Redis).
class UsedAssertions {
 public:
  virtual ~UsedAssertions() = default;
  /// Records `key` (client id and jti) as used until `until` (Unix seconds), atomically: true
  /// the first time, false when already recorded; std::nullopt when it cannot answer now
  /// (the store then decides).
  virtual std::optional<bool> first_use(const std::string& key, std::int64_t until) = 0;
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
  /// Deletes up to `limit` used-assertion records whose `until` is before `now` (their
  /// assertions are expired, so forgetting them allows no replay). Returns how many.
  virtual store::StoreResult<std::size_t> purge_assertions(std::int64_t now, std::size_t limit) = 0;
  virtual store::StoreResult<std::optional<Client>> find(const std::string& id) = 0;
  virtual store::StoreResult<std::vector<Client>> list() = 0;
};

}  // namespace authd::auth
