#include "authd/http/auth_routes.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <variant>

#include "authd/core/json_writer.h"
#include "authd/http/form.h"

namespace authd::http {
namespace {

using nlohmann::json;

int status_of(auth::Errc c, bool token_endpoint) {
  switch (c) {
    case auth::Errc::kInvalidRequest:
      return 400;
    case auth::Errc::kInvalidClient:
      return 401;
    case auth::Errc::kUnauthorizedClient:
      return 400;
    case auth::Errc::kUnsupportedGrant:
    case auth::Errc::kInvalidScope:
      return 400;
    case auth::Errc::kInvalidGrant:
      return token_endpoint ? 400 : 401;  // RFC 6749 §5.2 for /oauth2/token
    case auth::Errc::kInvalidToken:
      return 401;
    case auth::Errc::kAccessDenied:
      return 403;
    case auth::Errc::kNotFound:
      return 404;
    case auth::Errc::kCsrf:
      return 403;
    case auth::Errc::kRateLimited:
      return 429;
    case auth::Errc::kUnavailable:
      return 503;
    case auth::Errc::kInternal:
      return 500;
  }
  return 500;
}

/// Parses a JSON object body; nullopt for anything else.
std::optional<json> json_body(const Request& req) {
  auto j = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

/// A string member: nullopt if present but not a string; "" if absent.
std::optional<std::string> str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

Response bad_request(std::string_view description) {
  return auth_error_response(auth::Error{auth::Errc::kInvalidRequest, std::string(description), 0});
}

std::string cookie_value(const Request& req, const std::string& name) {
  std::string_view all = req.header("Cookie");
  while (!all.empty()) {
    auto semi = all.find(';');
    auto part = all.substr(0, semi);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=')
      return std::string(part.substr(name.size() + 1));
    if (semi == std::string_view::npos) break;
    all.remove_prefix(semi + 1);
  }
  return {};
}

std::optional<std::string> bearer(const Request& req) {
  std::string_view h = req.header("Authorization");
  if (h.size() < 8 || !iequals(h.substr(0, 7), "Bearer ")) return std::nullopt;
  h.remove_prefix(7);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  if (h.empty()) return std::nullopt;
  return std::string(h);
}

Response token_response(const auth::TokenPair& t, bool include_refresh) {
  // Built without a DOM: this is the body of every /login and /refresh.
  authd::json::ObjectWriter j(t.access_token.size() + t.refresh_token.size() + 160);
  j.str("access_token", t.access_token)
      .str("token_type", "Bearer")
      .num("expires_in", t.expires_in)
      .num("refresh_expires_in", t.refresh_expires_in)
      .str("scope", t.scope);
  if (include_refresh) j.str("refresh_token", t.refresh_token);
  auto r = Response::json(200, j.finish());
  r.set_header("Pragma", "no-cache");
  return r;
}

class AuthRoutes {
 public:
  AuthRoutes(auth::AuthService& s, AuthRoutesOptions o) : service_(s), opt_(std::move(o)) {}

  std::string set_cookie(const std::string& token, std::int64_t max_age) const {
    return opt_.cookie_name + "=" + token + "; Path=" + opt_.cookie_path +
           "; Max-Age=" + std::to_string(max_age) + "; HttpOnly; Secure; SameSite=Strict";
  }

  Response login(const Request& req) {
    auto j = json_body(req);
    if (!j) return bad_request("The body must be a JSON object.");
    auto email = str(*j, "email"), password = str(*j, "password"), client_id = str(*j, "client_id");
    if (!email || !password || !client_id)
      return bad_request("email, password and client_id must be strings.");
    if (email->empty() || password->empty()) return bad_request("email and password are required.");
    bool cookie = false;
    if (auto it = j->find("cookie"); it != j->end()) {
      if (!it->is_boolean()) return bad_request("cookie must be true or false.");
      cookie = it->get<bool>();
    }
    auth::LoginRequest lr{*email, *password, *client_id, std::string(req.header("User-Agent")),
                          req.client_address};
    auto r = service_.login(lr);
    if (!r) return auth_error_response(r.error());
    auto resp = token_response(*r, !cookie);
    if (cookie) resp.set_header("Set-Cookie", set_cookie(r->refresh_token, r->refresh_expires_in));
    return resp;
  }

  // Cookie requests must come from an allowed Origin and carry the CSRF header.
  std::optional<auth::Error> csrf_check(const Request& req, const std::string& client_id) {
    if (!req.has_header(opt_.csrf_header))
      return auth::Error{auth::Errc::kCsrf,
                         "Cookie requests need the " + opt_.csrf_header + " header.", 0};
    const std::string origin(req.header("Origin"));
    if (origin.empty())
      return auth::Error{auth::Errc::kCsrf, "Cookie requests need an Origin header.", 0};
    auto allowed = [&](const std::vector<std::string>& list) {
      return std::find(list.begin(), list.end(), origin) != list.end();
    };
    if (allowed(opt_.allowed_origins)) return std::nullopt;
    auto c = service_.client(client_id);
    if (c && allowed(c->allowed_origins)) return std::nullopt;
    return auth::Error{auth::Errc::kCsrf, "Origin not allowed.", 0};
  }

  // The body's token and client, or the 400 to answer. An empty token means "use the cookie".
  std::optional<Response> parse_refresh(const Request& req, std::string& token,
                                        std::string& client_id) {
    if (req.body.empty()) return std::nullopt;
    auto j = json_body(req);
    if (!j) return bad_request("The body must be a JSON object.");
    auto t = str(*j, "refresh_token"), c = str(*j, "client_id");
    if (!t || !c) return bad_request("refresh_token and client_id must be strings.");
    token = *t;
    client_id = *c;
    return std::nullopt;
  }

  Response refresh_response(const auth::AuthResult<auth::TokenPair>& r, bool from_cookie) const {
    if (!r) {
      auto resp = auth_error_response(r.error());
      if (from_cookie && r.error().code == auth::Errc::kInvalidGrant)
        resp.set_header("Set-Cookie", set_cookie("", 0));
      return resp;
    }
    auto resp = token_response(*r, !from_cookie);
    if (from_cookie)
      resp.set_header("Set-Cookie", set_cookie(r->refresh_token, r->refresh_expires_in));
    return resp;
  }

  // The blocking path: cookie mode (its CSRF check may look the client up) and the fallback.
  Response refresh(const Request& req) {
    std::string token, client_id;
    if (auto bad = parse_refresh(req, token, client_id)) return std::move(*bad);
    const bool from_cookie = token.empty();
    if (from_cookie) {
      token = cookie_value(req, opt_.cookie_name);
      if (token.empty()) return bad_request("refresh_token is required.");
      if (auto e = csrf_check(req, client_id)) return auth_error_response(*e);
    }
    return refresh_response(
        service_.refresh(auth::RefreshRequest{token, client_id, req.client_address}), from_cookie);
  }

  // Started on the I/O thread: a body token with everything cached rotates without a worker.
  void refresh_async(const Request& req, Reply reply) {
    std::string token, client_id;
    if (auto bad = parse_refresh(req, token, client_id)) return reply(std::move(*bad));
    if (token.empty()) {
      return reply.offload([this, req] { return refresh(req); });
    }
    auth::RefreshRequest rr{std::move(token), std::move(client_id), req.client_address};
    const bool started = service_.refresh_async(
        rr,
        [this, reply](auth::AuthResult<auth::TokenPair> r) { reply(refresh_response(r, false)); },
        [reply](std::function<void()> task) { reply.resume(std::move(task)); });
    if (!started) {
      reply.offload(
          [this, rr = std::move(rr)] { return refresh_response(service_.refresh(rr), false); });
    }
  }

  /// Authenticates the bearer token or answers 401 with WWW-Authenticate.
  std::optional<Response> require_bearer(const Request& req, auth::Principal& out) {
    auto token = bearer(req);
    if (!token) {
      auto r = Response::error(401, "invalid_request", "A bearer access token is required.");
      r.set_header("WWW-Authenticate", "Bearer realm=\"authd\"");
      return r;
    }
    auto p = service_.authenticate(*token);
    if (!p) return auth_error_response(p.error());
    out = std::move(*p);
    return std::nullopt;
  }

  Response logout(const Request& req) {
    // A refresh token (body or cookie) identifies the family without an access token.
    std::string token;
    if (!req.body.empty()) {
      auto j = json_body(req);
      if (!j) return bad_request("The body must be a JSON object.");
      auto t = str(*j, "refresh_token");
      if (!t) return bad_request("refresh_token must be a string.");
      token = *t;
    }
    if (token.empty() && !req.has_header("Authorization")) {
      token = cookie_value(req, opt_.cookie_name);
      if (!token.empty())
        if (auto e = csrf_check(req, "")) return auth_error_response(*e);
    }
    Response ok = Response::json(200, R"({"status":"logged_out"})");
    ok.set_header("Set-Cookie", set_cookie("", 0));
    if (!token.empty()) {
      auto r = service_.logout_refresh_token(token);
      return r ? ok : auth_error_response(r.error());
    }
    auth::Principal p;
    if (auto denied = require_bearer(req, p)) return *denied;
    auto r = service_.logout(p);
    return r ? ok : auth_error_response(r.error());
  }

  Response logout_all(const Request& req) {
    auth::Principal p;
    if (auto denied = require_bearer(req, p)) return *denied;
    auto r = service_.logout_all(p);
    if (!r) return auth_error_response(r.error());
    auto resp =
        Response::json(200, json{{"status", "logged_out"}, {"sessions_revoked", *r}}.dump());
    resp.set_header("Set-Cookie", set_cookie("", 0));
    return resp;
  }

  Response sessions(const Request& req) {
    auth::Principal p;
    if (auto denied = require_bearer(req, p)) return *denied;
    auto r = service_.list_sessions(p);
    if (!r) return auth_error_response(r.error());
    json list = json::array();
    for (const auto& s : *r)
      list.push_back({{"id", s.id},
                      {"client_id", s.client_id},
                      {"created_at", s.created_at},
                      {"last_used_at", s.last_used_at},
                      {"expires_at", std::min(s.idle_expires_at, s.absolute_expires_at)},
                      {"user_agent", s.user_agent},
                      {"ip", s.ip},
                      {"current", s.id == p.session_id}});
    return Response::json(200, json{{"sessions", list}}.dump());
  }

  // The OAuth endpoints share their input: a form body (RFC 6749 §3.2) and client
  // authentication by HTTP Basic or body credentials (§2.3.1), never both.
  struct OAuthRequest {
    std::map<std::string, std::string> form;
    bool basic = false;
    std::optional<auth::Client> client;
    std::string param(const char* k) const {
      auto it = form.find(k);
      return it == form.end() ? std::string() : it->second;
    }
  };

  static Response oauth_error(const auth::Error& e, bool basic) {
    auto r = auth_error_response(e, /*token_endpoint=*/true);
    if (e.code == auth::Errc::kInvalidClient && basic)
      r.set_header("WWW-Authenticate", "Basic realm=\"authd\"");
    r.set_header("Cache-Control", "no-store");
    return r;
  }
  static Response oauth_invalid(std::string description) {
    return oauth_error(auth::Error{auth::Errc::kInvalidRequest, std::move(description), 0}, false);
  }

  /// Parses the form and authenticates the client; an error response when either fails.
  std::variant<OAuthRequest, Response> oauth_request(const Request& req) {
    const std::string_view type = req.header("Content-Type");
    if (type.substr(0, type.find(';')) != "application/x-www-form-urlencoded")
      return oauth_invalid("The body must be application/x-www-form-urlencoded.");
    auto form = parse_form(req.body);
    if (!form) return oauth_invalid("Malformed or repeated form parameters.");
    OAuthRequest o;
    o.form = std::move(*form);
    auth::ClientAuthRequest who{o.param("client_id"), o.param("client_secret")};
    o.basic = req.has_header("Authorization");
    if (o.basic) {
      auto creds = parse_basic_auth(req.header("Authorization"));
      if (!creds)
        return oauth_error(
            auth::Error{auth::Errc::kInvalidClient, "Malformed Basic credentials.", 0}, true);
      if (o.form.count("client_secret") ||
          (o.form.count("client_id") && who.client_id != creds->user))
        return oauth_invalid("Use one client authentication method.");
      who = auth::ClientAuthRequest{creds->user, creds->password};
    }
    auto client = service_.authenticate_client(who);
    if (!client) return oauth_error(client.error(), o.basic);
    o.client = std::move(*client);
    return o;
  }

  // RFC 6749 §4.3, §6, §4.4: the password, refresh_token and client_credentials grants.
  Response token(const Request& req) {
    auto parsed = oauth_request(req);
    if (auto* err = std::get_if<Response>(&parsed)) return std::move(*err);
    const OAuthRequest& o = std::get<OAuthRequest>(parsed);
    const auth::Client& client = *o.client;
    const std::string grant = o.param("grant_type");
    auth::AuthResult<auth::TokenPair> r = auth::fail(auth::Errc::kInternal, "");
    bool with_refresh = true;
    if (grant == "password") {
      const std::string user = o.param("username"), password = o.param("password");
      if (user.empty() || password.empty())
        return oauth_invalid("username and password are required.");
      r = service_.login(auth::LoginRequest{
          user, password, client.id, std::string(req.header("User-Agent")), req.client_address});
    } else if (grant == "refresh_token") {
      const std::string token = o.param("refresh_token");
      if (token.empty()) return oauth_invalid("refresh_token is required.");
      r = service_.refresh(auth::RefreshRequest{token, client.id, req.client_address});
    } else if (grant == "client_credentials") {
      r = service_.client_credentials(client, o.param("scope"));
      with_refresh = false;
    } else if (grant.empty()) {
      return oauth_invalid("grant_type is required.");
    } else {
      return oauth_error(auth::Error{auth::Errc::kUnsupportedGrant, "Unsupported grant_type.", 0},
                         false);
    }
    if (!r) return oauth_error(r.error(), o.basic);
    json j = {{"access_token", r->access_token},
              {"token_type", "Bearer"},
              {"expires_in", r->expires_in},
              {"scope", r->scope}};
    if (with_refresh) {
      j["refresh_token"] = r->refresh_token;
      j["refresh_expires_in"] = r->refresh_expires_in;
    }
    auto resp = Response::json(200, j.dump());
    resp.set_header("Cache-Control", "no-store");
    resp.set_header("Pragma", "no-cache");
    return resp;
  }

  // RFC 7009: revoke a refresh token (its family) or an access token (its jti).
  Response revoke(const Request& req) {
    auto parsed = oauth_request(req);
    if (auto* err = std::get_if<Response>(&parsed)) return std::move(*err);
    const OAuthRequest& o = std::get<OAuthRequest>(parsed);
    const std::string token = o.param("token");
    if (token.empty()) return oauth_invalid("token is required.");
    auto r = service_.revoke(*o.client, token);
    if (!r) return oauth_error(r.error(), o.basic);
    Response ok;  // 200 with an empty body, also for unknown tokens (§2.2)
    ok.set_header("Cache-Control", "no-store");
    return ok;
  }

  // RFC 7662: is this access token active, and what does it say?
  Response introspect(const Request& req) {
    auto parsed = oauth_request(req);
    if (auto* err = std::get_if<Response>(&parsed)) return std::move(*err);
    const OAuthRequest& o = std::get<OAuthRequest>(parsed);
    auto r = service_.introspect(*o.client, o.param("token"));
    if (!r) return oauth_error(r.error(), o.basic);
    auto resp = Response::json(200, r->has_value() ? (*r)->dump() : R"({"active":false})");
    resp.set_header("Cache-Control", "no-store");
    return resp;
  }

  Response delete_session(const Request& req) {
    auth::Principal p;
    if (auto denied = require_bearer(req, p)) return *denied;
    auto it = req.path_params.find("id");
    if (it == req.path_params.end() || it->second.size() > 64)
      return bad_request("Bad session id.");
    auto r = service_.delete_session(p, it->second);
    if (!r) return auth_error_response(r.error());
    Response resp;
    resp.status = 204;
    return resp;
  }

 private:
  auth::AuthService& service_;
  AuthRoutesOptions opt_;
};

}  // namespace

Response auth_error_response(const auth::Error& e, bool token_endpoint) {
  auto r =
      Response::error(status_of(e.code, token_endpoint), auth::to_string(e.code), e.description);
  if (e.code == auth::Errc::kInvalidToken)
    r.set_header("WWW-Authenticate", "Bearer realm=\"authd\", error=\"invalid_token\"");
  if ((e.code == auth::Errc::kRateLimited || e.code == auth::Errc::kUnavailable) &&
      e.retry_after_s > 0)
    r.set_header("Retry-After", std::to_string(e.retry_after_s));
  if (e.code == auth::Errc::kRateLimited && e.limit > 0) {
    // draft-ietf-httpapi-ratelimit-headers: the policy that was hit, and when it frees up.
    r.set_header("RateLimit-Policy", std::to_string(e.limit) + ";w=" + std::to_string(e.window_s));
    r.set_header("RateLimit", "limit=" + std::to_string(e.limit) +
                                  ", remaining=0, reset=" + std::to_string(e.retry_after_s));
  }
  return r;
}

void add_auth_routes(Router& router, auth::AuthService& service, AuthRoutesOptions options) {
  auto routes = std::make_shared<AuthRoutes>(service, std::move(options));
  auto bind = [routes](Response (AuthRoutes::*fn)(const Request&)) {
    return [routes, fn](const Request& req, RequestContext&) { return ((*routes).*fn)(req); };
  };
  router.add("POST", "/login", bind(&AuthRoutes::login), Dispatch::kWorker);
  router.add_async("POST", "/refresh", [routes](const Request& req, RequestContext&, Reply reply) {
    routes->refresh_async(req, std::move(reply));
  });
  router.add("POST", "/logout", bind(&AuthRoutes::logout), Dispatch::kWorker);
  router.add("POST", "/logout/all", bind(&AuthRoutes::logout_all), Dispatch::kWorker);
  router.add("GET", "/sessions", bind(&AuthRoutes::sessions), Dispatch::kWorker);
  router.add("DELETE", "/sessions/{id}", bind(&AuthRoutes::delete_session), Dispatch::kWorker);
  router.add("POST", "/oauth2/token", bind(&AuthRoutes::token), Dispatch::kWorker);
  router.add("POST", "/oauth2/revoke", bind(&AuthRoutes::revoke), Dispatch::kWorker);
  router.add("POST", "/oauth2/introspect", bind(&AuthRoutes::introspect), Dispatch::kWorker);
}

}  // namespace authd::http
