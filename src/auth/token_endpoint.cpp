#include "auth/token_endpoint.h"

namespace authd::auth::detail {

AuthResult<Client> TokenEndpoint::authenticate_client(const ClientAuthRequest& req) {
  const std::string id =
      req.client_id.empty() ? std::string(ClientDirectory::kDefaultClient) : req.client_id;
  if (id.size() > 128 || req.client_secret.size() > c_.settings.max_password_bytes)
    return client_not_authenticated();
  // Before any lookup or hash: a flood of made-up clients from one address stops here.
  if (auto e = c_.limits.admit_oauth_address(req.ip)) return unexpected(std::move(*e));
  auto c = c_.clients.find(id);
  if (!c && c.error().code != Errc::kInvalidClient) return unexpected(c.error());
  if (!c) {
    // The keyed hash a known client's check costs, against a digest nothing matches.
    if (!req.client_secret.empty())
      (void)c_.secrets.verify(id, ClientSecretCodec::kStoredPrefix, req.client_secret);
    return client_not_authenticated();
  }
  if (!c->confidential()) {
    if (!req.client_secret.empty()) return client_not_authenticated();  // public: named only
    return admitted(std::move(*c));
  }
  if (req.client_secret.empty()) return client_not_authenticated();
  if (!ClientSecretCodec::is_keyed(c->secret_hash))
    return authenticate_legacy(std::move(*c), req.client_secret);
  if (keyed_secret_matches(*c, req.client_secret)) return admitted(std::move(*c));
  // The cached copy may predate a new secret (authctl client rotate-secret): ask the store.
  auto fresh = c_.clients.reload(id);
  if (!fresh) {
    if (fresh.error().code == Errc::kInvalidClient) return client_not_authenticated();
    return unexpected(fresh.error());
  }
  if (!fresh->confidential() || fresh->secret_hash == c->secret_hash)
    return client_not_authenticated();
  if (!ClientSecretCodec::is_keyed(fresh->secret_hash))
    return authenticate_legacy(std::move(*fresh), req.client_secret);
  if (!keyed_secret_matches(*fresh, req.client_secret)) return client_not_authenticated();
  return admitted(std::move(*fresh));
}

bool TokenEndpoint::keyed_secret_matches(const Client& c, std::string_view secret) const {
  if (c_.secrets.verify(c.id, c.secret_hash, secret)) return true;
  return !c.previous_secret_hash.empty() && c_.d.clock.now_unix() < c.previous_secret_expires_at &&
         c_.secrets.verify(c.id, c.previous_secret_hash, secret);
}

AuthResult<Client> TokenEndpoint::admitted(Client c) {
  if (auto e = c_.limits.admit_client(c.id)) return unexpected(std::move(*e));
  return c;
}

AuthResult<Client> TokenEndpoint::authenticate_legacy(Client c, const std::string& secret) {
  // The slow path, bounded per client before the hash as well as per address.
  if (auto e = c_.limits.admit_client(c.id)) return unexpected(std::move(*e));
  if (!c_.passwords.verify(c.secret_hash, secret)) return client_not_authenticated();
  // Upgrade: from now on the same secret is checked as a keyed hash. Written over the store's
  // current row (not the cached copy), and only if its secret is still this one; a failed
  // write is retried at the next use.
  auto current = c_.d.clients.find(c.id);
  if (current && current->has_value() && (*current)->secret_hash == c.secret_hash) {
    Client upgraded = std::move(**current);
    upgraded.secret_hash = c_.secrets.store_hash(upgraded.id, secret);
    if (c_.d.clients.upsert(upgraded)) {
      c_.clients.remember(upgraded);
      return upgraded;
    }
  }
  return c;
}

AuthResult<TokenPair> TokenEndpoint::client_credentials(const Client& c, const std::string& scope,
                                                        const std::vector<std::string>& audiences) {
  if (!contains(c.grant_types, "client_credentials") || c.secret_hash.empty())
    return fail(Errc::kUnauthorizedClient, "This client may not use the client_credentials grant.");
  auto granted = grant_scope(c.scopes, scope);
  if (!granted) return unexpected(granted.error());
  auto spec = c_.tokens.spec(c, std::move(*granted), audiences);
  if (!spec) return unexpected(spec.error());
  auto claims = c_.tokens.claims(c.id, c.id, *spec, c_.d.clock.now_unix());
  auto token = c_.tokens.sign(claims);
  if (!token) return unexpected(token.error());
  TokenPair p;
  p.access_token = std::move(*token);
  p.expires_in = spec->ttl_s;
  p.scope = std::move(spec->scope);
  return p;
}

}  // namespace authd::auth::detail
