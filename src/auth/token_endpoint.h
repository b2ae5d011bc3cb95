#pragma once
// The OAuth token endpoint's own work (RFC 6749): authenticating the calling client, and the
// client_credentials grant. The password and refresh_token grants are Login and Refresh.

#include "auth/context.h"

namespace authd::auth::detail {

class TokenEndpoint {
 public:
  explicit TokenEndpoint(Context& c) : c_(c) {}
  /// See AuthService::authenticate_client.
  AuthResult<Client> authenticate_client(const ClientAuthRequest& req);
  /// See AuthService::authenticate_cached_client.
  std::optional<AuthResult<Client>> authenticate_cached_client(const ClientAuthRequest& req);
  /// See AuthService::client_credentials.
  AuthResult<TokenPair> client_credentials(const Client& client, const std::string& scope,
                                           const std::vector<std::string>& audiences);

 private:
  /// Whether `secret` is the client's current keyed secret, or its previous one within the
  /// overlap window of a rotation.
  bool keyed_secret_matches(const Client& c, std::string_view secret) const;
  /// private_key_jwt: see AuthService::authenticate_client.
  AuthResult<Client> authenticate_assertion(const ClientAuthRequest& req);
  /// An authenticated client, after its per-client limit.
  AuthResult<Client> admitted(Client c);
  /// A confidential client whose stored secret is a legacy Argon2id hash.
  AuthResult<Client> authenticate_legacy(Client c, const std::string& secret);

  Context& c_;
};

}  // namespace authd::auth::detail
