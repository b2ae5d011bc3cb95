#include "auth/introspection.h"

namespace authd::auth::detail {

AuthResult<Principal> Introspection::authenticate(std::string_view bearer) {
  auto v = c_.tokens.verify(bearer);
  if (!v) return unexpected(v.error());
  const auto& c = *v;
  // authd's own bearer routes act on a user's sessions: client tokens have no family.
  if (!c.contains("sid"))
    return fail(Errc::kInvalidToken, "The access token is invalid, expired or revoked.");
  Principal p;
  p.user_id = c["sub"].get<std::string>();
  p.session_id = c["sid"].get<std::string>();
  if (c.contains("client_id") && c["client_id"].is_string())
    p.client_id = c["client_id"].get<std::string>();
  p.jti = c["jti"].get<std::string>();
  p.expires_at = c["exp"].get<std::int64_t>();
  if (c.contains("roles") && c["roles"].is_array())
    for (const auto& r : c["roles"])
      if (r.is_string()) p.roles.push_back(r.get<std::string>());
  return p;
}

AuthResult<std::optional<nlohmann::json>> Introspection::introspect(const Client& caller,
                                                                    std::string_view token) {
  if (!caller.confidential())
    return fail(Errc::kInvalidClient, "Introspection needs a confidential client.");
  if (!contains(caller.permissions, kPermissionIntrospect))
    return fail(Errc::kAccessDenied, "This client may not introspect tokens.");
  if (token.empty()) return fail(Errc::kInvalidRequest, "token is required.");
  auto v = c_.tokens.verify(token, /*any_audience=*/true);
  if (!v) {
    if (v.error().code == Errc::kInvalidToken) return std::optional<nlohmann::json>();
    return unexpected(v.error());
  }
  nlohmann::json out = {{"active", true}, {"token_type", "Bearer"}};
  for (const char* k : {"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope",
                        "sid", "roles", "tenant_id"})
    if (v->contains(k)) out[k] = (*v)[k];
  return std::optional<nlohmann::json>(std::move(out));
}

AuthResult<void> Introspection::revoke(const Client& caller, const std::string& token) {
  if (token.empty()) return fail(Errc::kInvalidRequest, "token is required.");
  if (RefreshTokenCodec::well_formed(token)) return revoke_refresh_token(caller, token);
  auto v = c_.tokens.verify(token, /*any_audience=*/true);
  if (!v) {
    if (v.error().code == Errc::kInvalidToken) return {};  // invalid or already revoked
    return unexpected(v.error());
  }
  if (v->value("client_id", std::string()) != caller.id)
    return fail(Errc::kUnauthorizedClient, "The token was issued to another client.");
  const std::string jti = (*v)["jti"].get<std::string>();
  // Until the token's expiry plus the leeway a verifier grants: then it is dead anyway.
  const std::int64_t until = (*v)["exp"].get<std::int64_t>() + c_.settings.leeway_s;
  if (auto r = c_.d.sessions.revoke_token(jti, until); !r)
    return unexpected(store_error(r.error()));
  if (c_.d.revocations) c_.d.revocations->revoke_token(jti, until);
  return {};
}

AuthResult<void> Introspection::revoke_refresh_token(const Client& caller,
                                                     const std::string& token) {
  const auto now = c_.d.clock.now_unix();
  auto s = c_.d.sessions.find_by_token(c_.codec.store_hash(token));
  if (!s) return unexpected(store_error(s.error()));
  if (!s->has_value()) return {};  // unknown tokens succeed (RFC 7009 §2.2)
  if ((*s)->client_id != caller.id)
    return fail(Errc::kUnauthorizedClient, "The token was issued to another client.");
  auto r = c_.d.sessions.revoke((*s)->id, "revoked", now);
  if (!r && r.error().code != store::Errc::kNotFound) return unexpected(store_error(r.error()));
  c_.announce_revoked((*s)->id, now);
  return {};
}

}  // namespace authd::auth::detail
