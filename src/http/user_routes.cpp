// The user-facing routes: /login, /refresh (body or HttpOnly cookie, with its CSRF rules),
// /logout, /logout/all and the bearer-authenticated /sessions.

#include <algorithm>
#include <nlohmann/json.hpp>

#include "authd/core/json_writer.h"
#include "authd/core/utf8.h"
#include "authd/http/auth_errors.h"
#include "authd/http/auth_routes.h"
#include "authd/http/form.h"
#include "http/request_parsing.h"

namespace authd::http {
namespace {

using nlohmann::json;

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

// The per-call policy of /login and /refresh: "scope" (a space-separated string) and
// "resource" (RFC 8707: one URI string or an array of them). False when either has a bad type.
bool parse_policy(const nlohmann::json& j, std::string& scope,
                  std::vector<std::string>& audiences) {
  auto s = json_string(j, "scope");
  if (!s) return false;
  scope = *s;
  auto it = j.find("resource");
  if (it == j.end() || it->is_null()) return true;
  if (it->is_string()) {
    audiences.push_back(it->get<std::string>());
    return true;
  }
  if (!it->is_array()) return false;
  for (const auto& a : *it) {
    if (!a.is_string()) return false;
    audiences.push_back(a.get<std::string>());
  }
  return true;
}

class UserRoutes {
 public:
  UserRoutes(auth::AuthService& s, AuthRoutesOptions o) : service_(s), opt_(std::move(o)) {}

  std::string set_cookie(const std::string& token, std::int64_t max_age) const {
    return opt_.cookie_name + "=" + token + "; Path=/; Max-Age=" + std::to_string(max_age) +
           "; HttpOnly; Secure; SameSite=Strict";
  }

  std::string refresh_cookie(const Request& req) const {
    std::string token = req.cookie(opt_.cookie_name);
    return token.empty() ? req.cookie(opt_.legacy_cookie_name) : token;
  }

  // /login and /refresh name a client in the body; a confidential one must authenticate, with
  // HTTP Basic as at the token endpoint (RFC 6749 §2.3.1). Sets `client_id` and
  // `authenticated` from valid credentials; the answer to send when they are not.
  std::optional<Response> authenticate_client(const Request& req, std::string& client_id,
                                              bool& authenticated) {
    if (!req.has_header("Authorization")) return std::nullopt;
    auto creds = parse_basic_auth(req.header("Authorization"));
    if (!creds)
      return client_error(
          http_auth_error(auth::Errc::kInvalidClient, "Malformed Basic credentials."));
    if (!client_id.empty() && client_id != creds->user &&
        (!creds->raw || client_id != creds->raw->first))
      return bad_request("Use one client authentication method.");
    auto c = authenticate_basic(service_, *creds, req.client_address, req.request_id);
    if (!c) return client_error(c.error());
    client_id = c->id;
    authenticated = true;
    return std::nullopt;
  }

  static auth::AuditOrigin origin(const Request& req) {
    return {req.request_id, req.client_address};
  }

  // An error answer; invalid_client says how to authenticate (RFC 9110 §11.6.1).
  static Response client_error(const auth::Error& e) {
    auto r = auth_error_response(e);
    if (e.code == auth::Errc::kInvalidClient)
      r.set_header("WWW-Authenticate", "Basic realm=\"authd\"");
    return r;
  }

  Response login(const Request& req) {
    auto j = json_body(req);
    if (!j) return bad_request("The body must be a JSON object.");
    auto email = json_string(*j, "email"), password = json_string(*j, "password"),
         client_id = json_string(*j, "client_id");
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
    lr.request_id = req.request_id;
    if (!parse_policy(*j, lr.scope, lr.audiences))
      return bad_request("scope must be a string, resource a string or an array of strings.");
    if (auto denied = authenticate_client(req, lr.client_id, lr.client_authenticated))
      return std::move(*denied);
    if (cookie)
      if (auto e = login_csrf_check(req, lr.client_id)) return auth_error_response(*e);
    auto r = service_.login(lr);
    if (!r) return client_error(r.error());
    auto resp = token_response(*r, !cookie);
    if (cookie) resp.set_header("Set-Cookie", set_cookie(r->refresh_token, r->refresh_expires_in));
    return resp;
  }

  // Cookie requests must come from an allowed Origin and carry the CSRF header.
  std::optional<auth::Error> csrf_check(const Request& req, const std::string& client_id) {
    if (!req.has_header(opt_.csrf_header))
      return http_auth_error(auth::Errc::kCsrf,
                             "Cookie requests need the " + opt_.csrf_header + " header.");
    return origin_check(req, client_id);
  }

  // Login CSRF: a cross-site page must not sign the browser in to an attacker's account. A
  // form or a "simple" fetch cannot send a JSON content type without a CORS preflight, and the
  // Origin must be one allowed for cookies (configuration or the client's).
  std::optional<auth::Error> login_csrf_check(const Request& req, const std::string& client_id) {
    std::string_view type = req.header("Content-Type");
    type = type.substr(0, type.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
    auto lower = [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); };
    std::string media;
    for (char c : type) media += lower(c);
    if (media != "application/json")
      return http_auth_error(auth::Errc::kCsrf,
                             "Cookie-mode login needs Content-Type: application/json.");
    return origin_check(req, client_id);
  }

  std::optional<auth::Error> origin_check(const Request& req, const std::string& client_id) {
    const std::string origin(req.header("Origin"));
    if (origin.empty())
      return http_auth_error(auth::Errc::kCsrf, "Cookie requests need an Origin header.");
    auto allowed = [&](const std::vector<std::string>& list) {
      return std::find(list.begin(), list.end(), origin) != list.end();
    };
    if (allowed(opt_.allowed_origins)) return std::nullopt;
    auto c = service_.client(client_id);
    if (c && allowed(c->allowed_origins)) return std::nullopt;
    return http_auth_error(auth::Errc::kCsrf, "Origin not allowed.");
  }

  // The body's token, client and policy into `rr`, or the 400 to answer. An empty token means
  // "use the cookie".
  std::optional<Response> parse_refresh(const Request& req, auth::RefreshRequest& rr) {
    rr.ip = req.client_address;
    rr.request_id = req.request_id;
    rr.presented_at = req.received_unix;
    if (req.body.empty()) return std::nullopt;
    auto j = json_body(req);
    if (!j) return bad_request("The body must be a JSON object.");
    auto t = json_string(*j, "refresh_token"), c = json_string(*j, "client_id");
    if (!t || !c) return bad_request("refresh_token and client_id must be strings.");
    rr.refresh_token = *t;
    rr.client_id = *c;
    if (!parse_policy(*j, rr.scope, rr.audiences))
      return bad_request("scope must be a string, resource a string or an array of strings.");
    return std::nullopt;
  }

  Response refresh_response(const auth::AuthResult<auth::TokenPair>& r, bool from_cookie) const {
    if (!r) {
      auto resp = client_error(r.error());
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
    auth::RefreshRequest rr;
    if (auto bad = parse_refresh(req, rr)) return std::move(*bad);
    if (auto denied = authenticate_client(req, rr.client_id, rr.client_authenticated))
      return std::move(*denied);
    const bool from_cookie = rr.refresh_token.empty();
    if (from_cookie) {
      rr.refresh_token = refresh_cookie(req);
      if (rr.refresh_token.empty()) return bad_request("refresh_token is required.");
      if (auto e = csrf_check(req, rr.client_id)) return auth_error_response(*e);
    }
    return refresh_response(service_.refresh(rr), from_cookie);
  }

  // Started on the I/O thread: a body token with everything cached rotates without a worker.
  void refresh_async(const Request& req, Reply reply) {
    auth::RefreshRequest rr;
    if (auto bad = parse_refresh(req, rr)) return reply(std::move(*bad));
    if (rr.refresh_token.empty() || req.has_header("Authorization")) {
      // Cookie mode and client authentication may block: a worker's job.
      return reply.offload([this, req] { return refresh(req); });
    }
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
    auto token = req.bearer_token();
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
      auto t = json_string(*j, "refresh_token");
      if (!t) return bad_request("refresh_token must be a string.");
      token = *t;
    }
    if (token.empty() && !req.has_header("Authorization")) {
      token = refresh_cookie(req);
      if (!token.empty())
        if (auto e = csrf_check(req, "")) return auth_error_response(*e);
    }
    Response ok = Response::json(200, R"({"status":"logged_out"})");
    ok.set_header("Set-Cookie", set_cookie("", 0));
    if (!token.empty()) {
      auto r = service_.logout_refresh_token(token, origin(req));
      return r ? ok : auth_error_response(r.error());
    }
    auth::Principal p;
    if (auto denied = require_bearer(req, p)) return *denied;
    auto r = service_.logout(p, origin(req));
    return r ? ok : auth_error_response(r.error());
  }

  Response logout_all(const Request& req) {
    auth::Principal p;
    if (auto denied = require_bearer(req, p)) return *denied;
    auto r = service_.logout_all(p, origin(req));
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
                      // Sessions stored before login sanitized it may hold ill-formed bytes.
                      {"user_agent", utf8::sanitize(s.user_agent, 256)},
                      {"ip", s.ip},
                      {"current", s.id == p.session_id}});
    return Response::json(200, json{{"sessions", list}}.dump());
  }

  Response delete_session(const Request& req) {
    auth::Principal p;
    if (auto denied = require_bearer(req, p)) return *denied;
    auto it = req.path_params.find("id");
    if (it == req.path_params.end() || it->second.size() > 64)
      return bad_request("Bad session id.");
    auto r = service_.delete_session(p, it->second, origin(req));
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

void add_user_routes(Router& router, auth::AuthService& service, AuthRoutesOptions options) {
  auto routes = std::make_shared<UserRoutes>(service, std::move(options));
  auto bind = [routes](Response (UserRoutes::*fn)(const Request&)) {
    return [routes, fn](const Request& req, RequestContext&) { return ((*routes).*fn)(req); };
  };
  router.add("POST", "/login", bind(&UserRoutes::login), Dispatch::kWorker);
  router.add_async("POST", "/refresh", [routes](const Request& req, RequestContext&, Reply reply) {
    routes->refresh_async(req, std::move(reply));
  });
  router.add("POST", "/logout", bind(&UserRoutes::logout), Dispatch::kWorker);
  router.add("POST", "/logout/all", bind(&UserRoutes::logout_all), Dispatch::kWorker);
  router.add("GET", "/sessions", bind(&UserRoutes::sessions), Dispatch::kWorker);
  router.add("DELETE", "/sessions/{id}", bind(&UserRoutes::delete_session), Dispatch::kWorker);
}

}  // namespace authd::http
