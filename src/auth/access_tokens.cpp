#include "auth/access_tokens.h"

#include <algorithm>

#include "auth/context.h"
#include "authd/jose/jws.h"

namespace authd::auth::detail {
namespace {
Unexpected<Error> invalid_access_token() {
  return fail(Errc::kInvalidToken, "The access token is invalid, expired or revoked.");
}

constexpr std::string_view kTypAccessToken = "at+jwt";  // RFC 9068
constexpr std::string_view kTypLegacy = "JWT";
}  // namespace

json::ObjectWriter AccessTokens::claims(const std::string& sub, const std::string& client_id,
                                        const TokenSpec& spec, std::int64_t now) const {
  json::ObjectWriter claims(512);
  claims.str("iss", settings_.issuer).str("sub", sub);
  if (spec.audiences.empty()) {
    claims.str("aud", settings_.audience);
  } else if (spec.audiences.size() == 1) {
    claims.str("aud", spec.audiences.front());
  } else {
    claims.str_array("aud", spec.audiences);
  }
  claims.num("iat", now)
      .num("nbf", now)
      .num("exp", now + spec.ttl_s)
      .str("jti", make_uuid_v4(d_.random))
      .str("client_id", client_id)
      .str("scope", spec.scope);
  return claims;
}

bool AccessTokens::names_legacy_audience(const nlohmann::json& claims) const {
  const auto aud = claims.find("aud");
  if (aud == claims.end()) return false;
  const auto& legacy = settings_.legacy_typ_audiences;
  if (aud->is_string()) return contains(legacy, aud->get_ref<const std::string&>());
  if (!aud->is_array()) return false;
  return std::any_of(aud->begin(), aud->end(), [&](const nlohmann::json& a) {
    return a.is_string() && contains(legacy, a.get_ref<const std::string&>());
  });
}

AuthResult<TokenSpec> AccessTokens::spec(const Client& client, std::string scope,
                                         const std::vector<std::string>& audiences) const {
  TokenSpec s;
  s.scope = std::move(scope);
  s.ttl_s = client.access_ttl_seconds > 0 ? client.access_ttl_seconds : settings_.access_ttl_s;
  for (const auto& a : audiences) {
    if (a != settings_.audience && !contains(client.audiences, a))
      return fail(Errc::kInvalidTarget, "The requested audience is not allowed for this client.");
    if (!contains(s.audiences, a)) s.audiences.push_back(a);
  }
  return s;
}

std::string_view AccessTokens::typ(const TokenSpec& spec) const {
  const auto& legacy = settings_.legacy_typ_audiences;
  if (legacy.empty()) return kTypAccessToken;
  if (spec.audiences.empty())
    return contains(legacy, settings_.audience) ? kTypLegacy : kTypAccessToken;
  for (const auto& a : spec.audiences)
    if (contains(legacy, a)) return kTypLegacy;
  return kTypAccessToken;
}

AuthResult<std::string> AccessTokens::sign(json::ObjectWriter& claims,
                                           const TokenSpec& spec) const {
  if (!claims.ok()) return fail(Errc::kInternal, "A stored claim is not valid UTF-8.");
  auto token = d_.keys.sign(claims.finish(), typ(spec));
  if (!token)
    return fail(Errc::kUnavailable, "No signing key is available; retry.",
                "keys: " + token.error());
  return std::move(*token);
}

AuthResult<TokenPair> AccessTokens::issue(const User& user, const Session& session,
                                          const std::string& refresh_token, const TokenSpec& spec,
                                          std::int64_t now) const {
  json::ObjectWriter c = claims(user.id, session.client_id, spec, now);
  c.str("sid", session.id);
  if (!user.roles.empty()) c.str_array("roles", user.roles);
  if (!user.tenant_id.empty()) c.str("tenant_id", user.tenant_id);
  auto token = sign(c, spec);
  if (!token) return unexpected(token.error());
  TokenPair p;
  p.access_token = std::move(*token);
  p.expires_in = spec.ttl_s;
  p.refresh_token = refresh_token;
  p.refresh_expires_in = std::max<std::int64_t>(
      0, std::min(session.idle_expires_at, session.absolute_expires_at) - now);
  p.session_id = session.id;
  p.user_id = user.id;
  p.scope = spec.scope;
  return p;
}

AuthResult<nlohmann::json> AccessTokens::verify(std::string_view token, bool any_audience) const {
  jose::VerifyOptions opts;
  opts.issuer = settings_.issuer;
  if (!any_audience) opts.audience = settings_.audience;
  opts.leeway_s = settings_.leeway_s;
  const auto lookup = [this](std::string_view kid) { return d_.keys.find(kid); };
  auto v = jose::verify(token, lookup, d_.clock.now_unix(), opts);
  bool legacy_typ = false;
  if (!v && v.error() == jose::Errc::TypMismatch && !settings_.legacy_typ_audiences.empty()) {
    opts.typ = std::string(kTypLegacy);
    v = jose::verify(token, lookup, d_.clock.now_unix(), opts);
    legacy_typ = true;
  }
  if (!v) return invalid_access_token();
  if (legacy_typ && !names_legacy_audience(v->claims)) return invalid_access_token();
  nlohmann::json c = std::move(v->claims);
  if (!c.contains("sub") || !c["sub"].is_string() || !c.contains("jti") || !c["jti"].is_string())
    return invalid_access_token();
  const std::string jti = c["jti"].get<std::string>();
  const bool has_family = c.contains("sid");
  if (has_family && !c["sid"].is_string()) return invalid_access_token();
  const std::string sid = has_family ? c["sid"].get<std::string>() : std::string();
  // Revocation takes effect at once, not at token expiry.
  std::optional<bool> family_revoked, token_revoked;
  if (d_.revocations) {
    if (has_family) family_revoked = d_.revocations->is_session_revoked(sid);
    if (!family_revoked.value_or(false)) token_revoked = d_.revocations->is_token_revoked(jti);
  }
  if (family_revoked.value_or(false) || token_revoked.value_or(false))
    return invalid_access_token();
  if (has_family && !family_revoked) {
    auto s = d_.sessions.find(sid);
    if (!s) return unexpected(store_error(s.error()));
    if (!s->has_value() || (*s)->revoked_at || (*s)->user_id != c["sub"].get<std::string>())
      return invalid_access_token();
  }
  if (!token_revoked) {
    auto r = d_.sessions.is_token_revoked(jti);
    if (!r) return unexpected(store_error(r.error()));
    if (*r) return invalid_access_token();
  }
  return c;
}

}  // namespace authd::auth::detail
