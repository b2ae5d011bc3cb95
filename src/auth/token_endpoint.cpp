#include "auth/token_endpoint.h"

#include "authd/core/base64url.h"
#include "authd/jose/jws.h"
#include "authd/jose/key.h"

namespace authd::auth::detail {
namespace {
constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
// An assertion lives an hour at most (authlib's default): its jti is remembered until then.
constexpr std::int64_t kMaxAssertionLifetime = 3600;
constexpr std::size_t kMaxJtiBytes = 256;

// The assertion's `sub` before any verification: only to pick the key that must verify it.
std::string unverified_subject(std::string_view jwt) {
  const auto a = jwt.find('.');
  const auto b = a == std::string_view::npos ? a : jwt.find('.', a + 1);
  if (b == std::string_view::npos) return {};
  auto payload = base64url::decode(jwt.substr(a + 1, b - a - 1));
  if (!payload) return {};
  auto j = nlohmann::json::parse(*payload, nullptr, false);
  if (!j.is_object() || !j.contains("sub") || !j["sub"].is_string()) return {};
  return j["sub"].get<std::string>();
}

bool names(const nlohmann::json& aud, const std::string& a, const std::string& b) {
  if (aud.is_string()) return aud == a || aud == b;
  if (!aud.is_array()) return false;
  for (const auto& x : aud)
    if (x.is_string() && (x == a || x == b)) return true;
  return false;
}
}  // namespace

AuthResult<Client> TokenEndpoint::authenticate_client(const ClientAuthRequest& req) {
  const std::string id =
      req.client_id.empty() ? std::string(ClientDirectory::kDefaultClient) : req.client_id;
  if (id.size() > 128 || req.client_secret.size() > c_.settings.max_password_bytes)
    return client_not_authenticated();
  // Before any lookup or hash: a flood of made-up clients from one address stops here.
  if (auto e = c_.limits.admit_oauth_address(req.ip)) return unexpected(std::move(*e));
  if (!req.client_assertion.empty() || !req.client_assertion_type.empty())
    return authenticate_assertion(req);
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
  if (req.client_secret.empty() || c->secret_hash.empty()) return client_not_authenticated();
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

std::optional<AuthResult<Client>> TokenEndpoint::authenticate_cached_client(
    const ClientAuthRequest& req) {
  // Only what needs neither the store, a password hash nor a limiter that waits on I/O; every
  // other case is the worker's (authenticate_client), which then charges the limits itself.
  if (c_.limits.oauth_checks_block() || !req.client_assertion.empty() ||
      !req.client_assertion_type.empty() || req.client_secret.empty() ||
      req.client_id.size() > 128 || req.client_secret.size() > c_.settings.max_password_bytes)
    return std::nullopt;
  auto c = c_.clients.cached(req.client_id);
  if (!c || !c->confidential() || !ClientSecretCodec::is_keyed(c->secret_hash) ||
      !keyed_secret_matches(*c, req.client_secret))
    return std::nullopt;
  // The same limits, in the same order, as authenticate_client charges.
  if (auto e = c_.limits.admit_oauth_address(req.ip)) return unexpected(std::move(*e));
  return admitted(std::move(*c));
}

bool TokenEndpoint::keyed_secret_matches(const Client& c, std::string_view secret) const {
  if (c_.secrets.verify(c.id, c.secret_hash, secret)) return true;
  return !c.previous_secret_hash.empty() && c_.d.clock.now_unix() < c.previous_secret_expires_at &&
         c_.secrets.verify(c.id, c.previous_secret_hash, secret);
}

AuthResult<Client> TokenEndpoint::authenticate_assertion(const ClientAuthRequest& req) {
  if (req.client_assertion_type != kJwtBearer || req.client_assertion.empty() ||
      !req.client_secret.empty())
    return client_not_authenticated();
  const std::string id =
      req.client_id.empty() ? unverified_subject(req.client_assertion) : req.client_id;
  if (id.empty() || id.size() > 128) return client_not_authenticated();
  auto c = c_.clients.find(id);
  if (!c) {
    if (c.error().code == Errc::kInvalidClient) return client_not_authenticated();
    return unexpected(c.error());
  }
  if (!c->uses_assertions()) return client_not_authenticated();
  const std::int64_t now = c_.d.clock.now_unix();
  const std::string token_url = c_.settings.issuer + "/oauth2/token";
  nlohmann::json cl;
  if (!c->jwks_uri.empty()) {
    // Keys the client publishes itself: fetched, cached and checked outside the domain.
    if (!c_.d.client_keys) return client_not_authenticated();
    auto verified =
        c_.d.client_keys->verify(*c, req.client_assertion, {token_url, c_.settings.issuer});
    if (!verified) return client_not_authenticated();
    cl = nlohmann::json::parse(*verified, nullptr, false);
    if (!cl.is_object() || !cl.contains("exp") || !cl["exp"].is_number_integer())
      return client_not_authenticated();
  } else {
    auto key = jose::Key::from_jwk(c->jwk);
    if (!key) return client_not_authenticated();
    jose::VerifyOptions opts;
    opts.typ = std::nullopt;  // RFC 7523 assertions carry "JWT" or nothing
    opts.leeway_s = c_.settings.leeway_s;
    opts.require_exp = true;
    jose::KeyPtr k = *key;
    auto v = jose::verify(
        req.client_assertion, [k](std::string_view) { return k; }, now, opts);
    if (!v) return client_not_authenticated();
    cl = std::move(v->claims);
  }
  auto str = [&cl](const char* name) {
    auto it = cl.find(name);
    return it != cl.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string jti = str("jti");
  if (str("iss") != id || str("sub") != id || jti.empty() || jti.size() > kMaxJtiBytes ||
      !cl.contains("iat") || !cl["iat"].is_number() ||
      !names(cl.value("aud", nlohmann::json()), token_url, c_.settings.issuer))
    return client_not_authenticated();
  const std::int64_t exp = cl["exp"].get<std::int64_t>();
  if (exp - now > kMaxAssertionLifetime + c_.settings.leeway_s) return client_not_authenticated();
  // Once, on every replica: Redis decides first when it answers (one round trip); else the
  // store records the jti until the assertion is dead anyway.
  const std::string key = id + "\n" + jti;
  const std::int64_t until = exp + c_.settings.leeway_s;
  std::optional<bool> first;
  if (c_.d.used_assertions) first = c_.d.used_assertions->first_use(key, until);
  if (!first) {
    auto stored = c_.d.clients.use_assertion(key, until, now);
    if (!stored) return unexpected(store_error(stored.error()));
    first = *stored;
  }
  if (!*first) return client_not_authenticated();
  return admitted(std::move(*c));
}

AuthResult<Client> TokenEndpoint::admitted(Client c) {
  if (auto e = c_.limits.admit_client(c.id)) return unexpected(std::move(*e));
  return c;
}

AuthResult<Client> TokenEndpoint::authenticate_legacy(Client c, const std::string& secret) {
  // The slow path, bounded per client before the hash as well as per address.
  if (auto e = c_.limits.admit_client(c.id)) return unexpected(std::move(*e));
  auto verified = c_.passwords.verify(c.secret_hash, secret);
  if (!verified) return unexpected(std::move(verified.error()));
  if (!*verified) return client_not_authenticated();
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
  if (!contains(c.grant_types, "client_credentials") || !c.confidential())
    return fail(Errc::kUnauthorizedClient, "This client may not use the client_credentials grant.");
  auto granted = grant_scope(c.scopes, scope);
  if (!granted) return unexpected(granted.error());
  auto spec = c_.tokens.spec(c, std::move(*granted), audiences);
  if (!spec) return unexpected(spec.error());
  auto claims = c_.tokens.claims(c.id, c.id, *spec, c_.d.clock.now_unix());
  auto token = c_.tokens.sign(claims, *spec);
  if (!token) return unexpected(token.error());
  if (c_.d.events) c_.d.events->token_issued("client_credentials", c.id);
  TokenPair p;
  p.access_token = std::move(*token);
  p.expires_in = spec->ttl_s;
  p.scope = std::move(spec->scope);
  return p;
}

}  // namespace authd::auth::detail
