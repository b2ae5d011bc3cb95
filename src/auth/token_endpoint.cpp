#include "auth/token_endpoint.h"

namespace authd::auth::detail {

AuthResult<Client> TokenEndpoint::authenticate_client(const ClientAuthRequest& req) {
  const std::string id =
      req.client_id.empty() ? std::string(ClientDirectory::kDefaultClient) : req.client_id;
  if (id.size() > 128 || req.client_secret.size() > c_.settings.max_password_bytes)
    return client_not_authenticated();
  if (auto e = c_.limits.admit_client(id)) return unexpected(std::move(*e));
  auto c = c_.clients.find(id);
  if (!c && c.error().code != Errc::kInvalidClient) return unexpected(c.error());
  const bool confidential = c && !c->secret_hash.empty();
  if (confidential) {
    if (!req.client_secret.empty() && c_.passwords.verify(c->secret_hash, req.client_secret))
      return c;
  } else if (!c && !req.client_secret.empty()) {
    c_.passwords.verify_dummy(req.client_secret);  // as much work as a wrong secret
  } else if (c && req.client_secret.empty()) {
    return c;  // a public client names itself
  }
  return client_not_authenticated();
}

AuthResult<std::string> TokenEndpoint::grant_scope(const Client& c, std::string_view requested) {
  std::string granted;
  auto add = [&granted](std::string_view one) {
    if (!granted.empty()) granted += ' ';
    granted += one;
  };
  if (requested.empty()) {
    for (const auto& sc : c.scopes) add(sc);
    return granted;
  }
  while (!requested.empty()) {
    const auto sp = requested.find(' ');
    const std::string_view one = requested.substr(0, sp);
    if (!one.empty()) {
      if (!contains(c.scopes, one))
        return fail(Errc::kInvalidScope, "The requested scope is not allowed for this client.");
      add(one);
    }
    if (sp == std::string_view::npos) break;
    requested.remove_prefix(sp + 1);
  }
  return granted;
}

AuthResult<TokenPair> TokenEndpoint::client_credentials(const Client& c, const std::string& scope) {
  if (!contains(c.grant_types, "client_credentials") || c.secret_hash.empty())
    return fail(Errc::kUnauthorizedClient, "This client may not use the client_credentials grant.");
  auto granted = grant_scope(c, scope);
  if (!granted) return unexpected(granted.error());
  auto claims = c_.tokens.claims(c.id, c.id, *granted, c_.d.clock.now_unix());
  auto token = c_.tokens.sign(claims);
  if (!token) return unexpected(token.error());
  TokenPair p;
  p.access_token = std::move(*token);
  p.expires_in = c_.settings.access_ttl_s;
  p.scope = std::move(*granted);
  return p;
}

}  // namespace authd::auth::detail
