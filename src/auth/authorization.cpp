#include "auth/authorization.h"

#include <algorithm>
#include <cstring>

#include "authd/auth/pkce.h"
#include "authd/auth/protocol.h"
#include "authd/auth/redirect_uri.h"
#include "authd/core/base64url.h"
#include "authd/crypto/digest.h"
#include "authd/jose/jws.h"

namespace authd::auth::detail {
namespace {

// Purposes of the keyed hashes (crypto::KeyedHasher::derive): unrelated digests of one value.
constexpr std::string_view kCodePurpose = "authorization-code";
constexpr std::string_view kCodeFamilyPurpose = "authorization-code-family";
constexpr std::string_view kBrowserPurpose = "browser-session";
constexpr std::size_t kMaxParamBytes = 512;
constexpr std::size_t kSecretBytes = 32;

Unexpected<Error> invalid_code() {
  return fail(Errc::kInvalidGrant, "The authorization code is invalid, expired or already used.");
}

// Random bytes replayed, to turn a digest into a UUID with make_uuid_v4's layout.
class FixedBytes final : public Random {
 public:
  explicit FixedBytes(std::string bytes) : bytes_(std::move(bytes)) {}
  void fill(void* out, std::size_t n) override {
    std::memset(out, 0, n);
    std::memcpy(out, bytes_.data(), std::min(n, bytes_.size()));
  }

 private:
  std::string bytes_;
};

bool well_formed_secret(std::string_view token) {
  auto raw = base64url::decode(token);
  return token.size() == 43 && raw && raw->size() == kSecretBytes;
}

std::optional<Error> redirect_error(Errc code, std::string description) {
  return Error{code, std::move(description)};
}

std::string claim(const nlohmann::json& c, const char* name) {
  auto it = c.find(name);
  return it != c.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::vector<std::string> authorization_scopes(const Client& client) {
  std::vector<std::string> out(protocol::kScopes.begin(), protocol::kScopes.end());
  for (const auto& s : client.scopes)
    if (!contains(out, s)) out.push_back(s);
  return out;
}

AuthResult<CheckedAuthorization> Authorization::check(const AuthorizeRequest& req) {
  // Until client and redirect URI are known good, nothing may be sent to the redirect URI.
  if (req.client_id.empty()) return fail(Errc::kInvalidRequest, "client_id is required.");
  if (req.client_id.size() > 128) return fail(Errc::kInvalidClient, "Unknown client.");
  auto client = c_.clients.find(req.client_id);
  if (!client) {
    if (client.error().code == Errc::kInvalidClient)
      return fail(Errc::kInvalidClient, "Unknown client.");
    return unexpected(client.error());
  }
  if (req.redirect_uri.empty()) return fail(Errc::kInvalidRequest, "redirect_uri is required.");
  if (!redirect_uri::matches(client->redirect_uris, req.redirect_uri))
    return fail(Errc::kInvalidRequest, "The redirect_uri is not registered for this client.");

  CheckedAuthorization out;
  out.client = std::move(*client);
  out.request = req;
  auto& e = out.error;
  const auto prompts = split_scope(req.prompt);
  if (req.response_type.empty()) {
    e = redirect_error(Errc::kInvalidRequest, "response_type is required.");
  } else if (!protocol::supports(protocol::kResponseTypes, req.response_type)) {
    e = redirect_error(Errc::kUnsupportedResponseType, "Only response_type=code is supported.");
  } else if (!contains(out.client.grant_types, "authorization_code")) {
    e = redirect_error(Errc::kUnauthorizedClient,
                       "This client may not use the authorization code flow.");
  } else if (req.code_challenge.empty()) {
    e = redirect_error(Errc::kInvalidRequest, "code_challenge is required (PKCE, S256).");
  } else if (!protocol::supports(protocol::kCodeChallengeMethods, req.code_challenge_method)) {
    e = redirect_error(Errc::kInvalidRequest, "code_challenge_method must be S256.");
  } else if (!pkce::valid_challenge(req.code_challenge)) {
    e = redirect_error(Errc::kInvalidRequest, "code_challenge is not a base64url SHA-256.");
  } else if (req.state.size() > kMaxParamBytes || req.nonce.size() > kMaxParamBytes ||
             req.login_hint.size() > kMaxParamBytes) {
    e = redirect_error(Errc::kInvalidRequest, "state, nonce or login_hint is too long.");
  } else if (std::any_of(
                 prompts.begin(), prompts.end(),
                 [](const std::string& p) { return !protocol::supports(protocol::kPrompts, p); }) ||
             (contains(prompts, "none") && prompts.size() > 1)) {
    e = redirect_error(Errc::kInvalidRequest, "prompt must be none or login.");
  } else if (!req.max_age.empty() &&
             (req.max_age.size() > 9 ||
              !std::all_of(req.max_age.begin(), req.max_age.end(),
                           [](char ch) { return ch >= '0' && ch <= '9'; }))) {
    e = redirect_error(Errc::kInvalidRequest, "max_age must be a number of seconds.");
  }
  if (e) return out;
  auto granted = grant_scope(authorization_scopes(out.client),
                             req.scope.empty() ? std::string_view("openid") : req.scope);
  if (!granted) {
    e = granted.error();
    return out;
  }
  out.scope = std::move(*granted);
  if (!req.max_age.empty()) out.max_age = std::stoll(req.max_age);
  return out;
}

AuthorizeStep Authorization::next_step(const CheckedAuthorization& req,
                                       const std::optional<BrowserSession>& session) const {
  const auto prompts = split_scope(req.request.prompt);
  const bool none = contains(prompts, "none");
  if (contains(prompts, "login")) return AuthorizeStep::kShowLogin;
  const bool fresh_enough =
      session && (!req.max_age || c_.d.clock.now_unix() - session->auth_time <= *req.max_age);
  if (fresh_enough) return AuthorizeStep::kIssueCode;
  return none ? AuthorizeStep::kLoginRequired : AuthorizeStep::kShowLogin;
}

AuthResult<std::optional<BrowserSession>> Authorization::browser_session(std::string_view cookie) {
  if (!well_formed_secret(cookie)) return std::optional<BrowserSession>();
  auto found = c_.d.sessions.find_by_token(c_.d.token_hasher.derive(kBrowserPurpose, cookie));
  if (!found) return unexpected(store_error(found.error()));
  const std::int64_t now = c_.d.clock.now_unix();
  const auto& s = *found;
  if (!s || s->revoked_at || now >= s->absolute_expires_at || now >= s->idle_expires_at)
    return std::optional<BrowserSession>();
  return std::optional<BrowserSession>(
      BrowserSession{s->id, s->user_id, s->created_at, s->absolute_expires_at});
}

AuthResult<BrowserSignIn> Authorization::sign_in(const std::string& email,
                                                 const std::string& password, const std::string& ip,
                                                 const std::string& user_agent,
                                                 const std::string& request_id) {
  const std::string client_id(ClientDirectory::kDefaultClient);
  auto user = login_.verify_password(email, password, ip);
  if (!user) {
    login_.audit_login_failure(user.error(), client_id, {request_id, ip});
    return unexpected(user.error());
  }
  const std::int64_t now = c_.d.clock.now_unix();
  Session s;
  s.id = make_uuid_v4(c_.d.random);
  s.user_id = user->id;
  s.client_id = client_id;
  s.created_at = s.last_used_at = now;
  s.absolute_expires_at = s.idle_expires_at = now + c_.settings.browser_session_s;
  s.user_agent = user_agent.substr(0, 256);
  s.ip = ip.substr(0, 64);
  s.generation = 1;
  BrowserSignIn out;
  out.cookie = base64url::encode(c_.d.random.bytes(kSecretBytes));
  if (auto r = c_.d.sessions.create(
          s, NewRefreshToken{c_.d.token_hasher.derive(kBrowserPurpose, out.cookie), now});
      !r)
    return unexpected(store_error(r.error()));
  out.session = BrowserSession{s.id, s.user_id, now, s.absolute_expires_at};
  c_.audit({.type = "login",
            .outcome = "success",
            .reason = "browser_sign_in",
            .request_id = request_id,
            .client_id = client_id,
            .user_id = s.user_id,
            .session_id = s.id,
            .address = ip});
  return out;
}

AuthResult<std::string> Authorization::issue_code(const CheckedAuthorization& req,
                                                  const BrowserSession& session) {
  if (req.error || !c_.d.codes) return fail(Errc::kInternal, "Internal error.");
  auto user = c_.d.users.find_by_id(session.user_id);
  if (!user) return unexpected(store_error(user.error()));
  if (!*user || (*user)->disabled) return fail(Errc::kAccessDenied, "This account is disabled.");
  const std::int64_t now = c_.d.clock.now_unix();
  const std::string code = base64url::encode(c_.d.random.bytes(kSecretBytes));
  AuthorizationCode row;
  row.hash = c_.d.token_hasher.derive(kCodePurpose, code);
  row.client_id = req.client.id;
  row.user_id = session.user_id;
  row.redirect_uri = req.request.redirect_uri;
  row.code_challenge = req.request.code_challenge;
  row.scope = req.scope;
  row.nonce = req.request.nonce;
  row.browser_session_id = session.id;
  row.auth_time = session.auth_time;
  row.expires_at = now + protocol::kCodeLifetimeSeconds;
  if (auto r = c_.d.codes->create(row); !r) return unexpected(store_error(r.error()));
  return code;
}

bool Authorization::end_family(const std::string& session_id, const std::string& reason,
                               std::int64_t now) {
  auto r = c_.d.sessions.revoke(session_id, reason, now);
  if (!r || !*r) return false;
  c_.announce_revoked(session_id, now);
  return true;
}

AuthResult<TokenPair> Authorization::exchange(const Client& client, const CodeExchange& x) {
  if (!c_.d.codes) return fail(Errc::kInternal, "Internal error.");
  if (!contains(client.grant_types, "authorization_code"))
    return fail(Errc::kUnauthorizedClient, "This client may not use the authorization_code grant.");
  if (x.code.empty() || x.redirect_uri.empty())
    return fail(Errc::kInvalidRequest, "code and redirect_uri are required.");
  if (x.code_verifier.empty()) return fail(Errc::kInvalidRequest, "code_verifier is required.");
  if (!well_formed_secret(x.code)) return invalid_code();
  const std::int64_t now = c_.d.clock.now_unix();
  FixedBytes family_bytes(c_.d.token_hasher.derive(kCodeFamilyPurpose, x.code));
  const std::string family = make_uuid_v4(family_bytes);
  auto redeemed = c_.d.codes->redeem(c_.d.token_hasher.derive(kCodePurpose, x.code), now, family);
  if (!redeemed) return unexpected(store_error(redeemed.error()));
  if (!*redeemed) return invalid_code();
  const CodeRedemption& r = **redeemed;
  if (!r.first_use) {
    // Our own earlier redemption whose answer was lost (the store failed after it committed)
    // recorded this very family and never created it; any other second use is a replay.
    bool own_retry = false;
    if (r.session_id == family && now < r.code.expires_at) {
      auto existing = c_.d.sessions.find(family);
      if (!existing) return unexpected(store_error(existing.error()));
      own_retry = !existing->has_value();
    }
    if (!own_retry) {
      if (!r.session_id.empty()) end_family(r.session_id, "code_reuse", now);
      return invalid_code();
    }
  }
  if (now >= r.code.expires_at || r.code.client_id != client.id ||
      r.code.redirect_uri != x.redirect_uri ||
      !pkce::matches(r.code.code_challenge, x.code_verifier))
    return invalid_code();
  auto user = c_.d.users.find_by_id(r.code.user_id);
  if (!user) return unexpected(store_error(user.error()));
  if (!*user || (*user)->disabled) return invalid_code();
  // A sign-in ended after the code was issued (logout) ends the code with it.
  auto browser = c_.d.sessions.find(r.code.browser_session_id);
  if (!browser) return unexpected(store_error(browser.error()));
  if (!*browser || (*browser)->revoked_at) return invalid_code();

  auto spec = c_.tokens.spec(client, r.code.scope, {});
  if (!spec) return unexpected(spec.error());
  Session s;
  s.id = family;
  s.user_id = r.code.user_id;
  s.client_id = client.id;
  s.created_at = s.last_used_at = now;
  s.absolute_expires_at = now + c_.settings.session_absolute_s;
  s.idle_expires_at = std::min(now + c_.settings.session_idle_s, s.absolute_expires_at);
  s.ip = (*browser)->ip;
  s.user_agent = (*browser)->user_agent;
  s.generation = 1;
  s.scope = r.code.scope;
  const std::string refresh = c_.codec.mint(c_.d.random);
  if (auto created = c_.d.sessions.create(s, NewRefreshToken{c_.codec.store_hash(refresh), now});
      !created)
    return unexpected(store_error(created.error()));
  auto pair = c_.tokens.issue(**user, s, refresh, *spec, now);
  if (!pair) return unexpected(pair.error());
  if (c_.d.events) c_.d.events->token_issued("authorization_code", s.client_id);
  const auto scopes = split_scope(r.code.scope);
  if (!contains(scopes, "offline_access")) {
    pair->refresh_token.clear();
    pair->refresh_expires_in = 0;
  }
  if (contains(scopes, "openid")) {
    auto id = id_token(**user, client, r.code, pair->access_token, now);
    if (!id) return unexpected(id.error());
    pair->id_token = std::move(*id);
  }
  return pair;
}

AuthResult<std::string> Authorization::id_token(const User& user, const Client& client,
                                                const AuthorizationCode& code,
                                                const std::string& access_token,
                                                std::int64_t now) const {
  const bool email = contains(split_scope(code.scope), "email");
  const std::int64_t ttl =
      client.access_ttl_seconds > 0 ? client.access_ttl_seconds : c_.settings.access_ttl_s;
  bool claims_ok = true;
  auto token = c_.d.keys.sign_id_token([&](jose::Alg alg) {
    // at_hash: the left half of the hash the signature algorithm uses (Core §3.1.3.6); SHA-512
    // for Ed25519, as other servers do.
    const std::string digest =
        alg == jose::Alg::EdDSA ? crypto::sha512(access_token) : crypto::sha256(access_token);
    json::ObjectWriter c(512);
    c.str("iss", c_.settings.issuer)
        .str("sub", user.id)
        .str("aud", client.id)
        .str("azp", client.id)
        .num("exp", now + ttl)
        .num("iat", now)
        .num("auth_time", code.auth_time)
        .str("at_hash", base64url::encode(digest.substr(0, digest.size() / 2)))
        .str("sid", code.browser_session_id)
        .str_array("amr", {"pwd"});
    if (!code.nonce.empty()) c.str("nonce", code.nonce);
    if (email) c.str("email", user.email).boolean("email_verified", false);
    claims_ok = c.ok();
    return c.finish();
  });
  if (!claims_ok) return fail(Errc::kInvalidRequest, "The nonce is not valid UTF-8.");
  if (!token)
    return fail(Errc::kUnavailable, "No signing key is available; retry.",
                "keys: " + token.error());
  return std::move(*token);
}

AuthResult<nlohmann::json> Authorization::userinfo(std::string_view bearer_token) {
  auto claims = c_.tokens.verify(bearer_token);
  if (!claims) return unexpected(claims.error());
  const auto scopes = split_scope(claim(*claims, "scope"));
  if (!contains(scopes, "openid"))
    return fail(Errc::kInsufficientScope, "The access token lacks the openid scope.");
  auto user = c_.d.users.find_by_id(claim(*claims, "sub"));
  if (!user) return unexpected(store_error(user.error()));
  if (!*user || (*user)->disabled)
    return fail(Errc::kInvalidToken, "The access token is invalid, expired or revoked.");
  nlohmann::json out = {{"sub", (*user)->id}};
  if (contains(scopes, "email")) {
    out["email"] = (*user)->email;
    out["email_verified"] = false;  // authd does not verify addresses
  }
  if (contains(scopes, "profile")) {
    out["preferred_username"] = (*user)->email;
    out["updated_at"] = (*user)->updated_at;
  }
  return out;
}

AuthResult<std::size_t> Authorization::end_browser_session(const std::string& browser_session_id,
                                                           std::int64_t now) {
  std::size_t ended = 0;
  if (c_.d.codes) {
    auto families = c_.d.codes->families(browser_session_id);
    if (!families) return unexpected(store_error(families.error()));
    for (const auto& f : *families) ended += end_family(f, "logout", now) ? 1 : 0;
  }
  ended += end_family(browser_session_id, "logout", now) ? 1 : 0;
  return ended;
}

AuthResult<EndSessionResult> Authorization::end_session(const EndSessionRequest& req) {
  const std::int64_t now = c_.d.clock.now_unix();
  std::string client_id = req.client_id, sid, sub;
  if (!req.id_token_hint.empty()) {
    jose::VerifyOptions opts;
    opts.issuer = c_.settings.issuer;
    opts.typ = "JWT";
    // An expired ID token still names the sign-in to end (RP-Initiated Logout §2); one older
    // than any sign-in names nothing that is still live.
    opts.leeway_s = c_.settings.browser_session_s;
    auto v = jose::verify(
        req.id_token_hint, [this](std::string_view kid) { return c_.d.keys.find(kid); }, now, opts);
    if (!v) return fail(Errc::kInvalidRequest, "The id_token_hint is not a valid ID token.");
    const std::string aud = claim(v->claims, "aud");
    if (!client_id.empty() && client_id != aud)
      return fail(Errc::kInvalidRequest, "client_id does not match the id_token_hint.");
    client_id = aud;
    sid = claim(v->claims, "sid");
    sub = claim(v->claims, "sub");
  }
  EndSessionResult out;
  if (!req.post_logout_redirect_uri.empty()) {
    if (client_id.empty())
      return fail(Errc::kInvalidRequest, "post_logout_redirect_uri needs a client.");
    auto client = c_.clients.find(client_id);
    if (!client) return unexpected(client.error());
    if (!contains(client->post_logout_redirect_uris, req.post_logout_redirect_uri))
      return fail(Errc::kInvalidRequest, "The post_logout_redirect_uri is not registered.");
    out.redirect_uri = req.post_logout_redirect_uri;
  }
  std::vector<std::string> sign_ins;
  if (!sid.empty()) sign_ins.push_back(sid);
  auto cookie = browser_session(req.browser_cookie);
  if (!cookie) return unexpected(cookie.error());
  if (*cookie && (sub.empty() || (*cookie)->user_id == sub) && !contains(sign_ins, (*cookie)->id))
    sign_ins.push_back((*cookie)->id);
  for (const auto& id : sign_ins) {
    // Only sign-ins: an ID token's sid never names another kind of family.
    auto s = c_.d.sessions.find(id);
    if (!s) return unexpected(store_error(s.error()));
    if (!*s || (*s)->client_id != ClientDirectory::kDefaultClient ||
        (!sub.empty() && (*s)->user_id != sub))
      continue;
    auto n = end_browser_session(id, now);
    if (!n) return unexpected(n.error());
    out.sessions_ended += *n;
    c_.audit({.type = "logout",
              .outcome = "success",
              .reason = "rp_logout",
              .request_id = req.request_id,
              .client_id = client_id,
              .user_id = (*s)->user_id,
              .session_id = id,
              .address = req.address});
  }
  return out;
}

AuthResult<bool> Authorization::origin_registered(const std::string& origin) {
  const std::int64_t now = c_.d.clock.now_unix();
  std::lock_guard lock(origins_mu_);
  if (now >= origins_expire_at_) {
    auto clients = c_.d.clients.list();
    if (!clients) return unexpected(store_error(clients.error()));
    origins_.clear();
    for (const auto& c : *clients)
      for (const auto& o : c.allowed_origins)
        if (!contains(origins_, o)) origins_.push_back(o);
    origins_expire_at_ = now + c_.settings.client_cache_s;
  }
  return contains(origins_, origin);
}

}  // namespace authd::auth::detail
