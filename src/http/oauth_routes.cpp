// The OAuth 2.0 endpoints: /oauth2/token (RFC 6749), /oauth2/revoke (RFC 7009) and
// /oauth2/introspect (RFC 7662), with their shared form parsing and client authentication.

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <variant>

#include "authd/auth/protocol.h"
#include "authd/http/auth_errors.h"
#include "authd/http/auth_routes.h"
#include "authd/http/form.h"
#include "http/request_parsing.h"

namespace authd::http {
namespace {

using nlohmann::json;

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto sp = text.find(' ');
    if (sp != 0) out.emplace_back(text.substr(0, sp));
    if (sp == std::string_view::npos) break;
    text.remove_prefix(sp + 1);
  }
  return out;
}

class OAuthRoutes {
 public:
  OAuthRoutes(auth::AuthService& s, AuthRoutesOptions o) : service_(s), opt_(std::move(o)) {}

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
    return oauth_error(http_auth_error(auth::Errc::kInvalidRequest, std::move(description)), false);
  }

  /// Parses the form and authenticates the client; an error response when either fails.
  std::variant<OAuthRequest, Response> oauth_request(const Request& req) {
    if (!has_form_body(req))
      return oauth_invalid("The body must be application/x-www-form-urlencoded.");
    auto form = parse_form(req.body);
    if (!form) return oauth_invalid("Malformed or repeated form parameters.");
    OAuthRequest o;
    o.form = std::move(*form);
    auth::ClientAuthRequest who{o.param("client_id"), o.param("client_secret"), req.client_address,
                                req.request_id};
    std::optional<BasicCredentials> basic;
    o.basic = req.has_header("Authorization");
    if (o.basic) {
      auto creds = parse_basic_auth(req.header("Authorization"));
      if (!creds)
        return oauth_error(
            http_auth_error(auth::Errc::kInvalidClient, "Malformed Basic credentials."), true);
      if (o.form.count("client_secret") ||
          (o.form.count("client_id") && who.client_id != creds->user &&
           (!creds->raw || who.client_id != creds->raw->first)))
        return oauth_invalid("Use one client authentication method.");
      basic = std::move(*creds);
    }
    // private_key_jwt (RFC 7523 §2.2): the assertion is the only credential.
    if (o.form.count("client_assertion") || o.form.count("client_assertion_type")) {
      if (o.basic || o.form.count("client_secret"))
        return oauth_invalid("Use one client authentication method.");
      who.client_assertion_type = o.param("client_assertion_type");
      who.client_assertion = o.param("client_assertion");
    }
    auto client = basic ? authenticate_basic(service_, *basic, req.client_address, req.request_id)
                        : service_.authenticate_client(who);
    if (!client) return oauth_error(client.error(), o.basic);
    o.client = std::move(*client);
    return o;
  }

  // RFC 6749 §4.3, §6, §4.4: the password, refresh_token and client_credentials grants.
  Response token(const Request& req) {
    auto parsed = oauth_request(req);
    if (auto* err = std::get_if<Response>(&parsed)) return std::move(*err);
    return grant(req, std::get<OAuthRequest>(parsed));
  }

  // The token endpoint without leaving the event loop, for the request most machine traffic
  // is: client_credentials from a cached client with a secret authd generated (a keyed hash:
  // no store, no password hash) under in-process limits. std::nullopt for anything else,
  // having charged nothing: token() then runs on a worker and decides (and explains) it.
  std::optional<Response> token_without_blocking(const Request& req) {
    if (req.has_header("Origin") || !has_form_body(req)) return std::nullopt;
    auto form = parse_form(req.body);
    if (!form) return std::nullopt;
    OAuthRequest o;
    o.form = std::move(*form);
    if (o.param("grant_type") != "client_credentials" || o.form.count("client_assertion") ||
        o.form.count("client_assertion_type"))
      return std::nullopt;
    auth::ClientAuthRequest who{o.param("client_id"), o.param("client_secret"), req.client_address,
                                req.request_id};
    o.basic = req.has_header("Authorization");
    if (o.basic) {
      auto creds = parse_basic_auth(req.header("Authorization"));
      if (!creds || o.form.count("client_secret") || o.form.count("client_id")) return std::nullopt;
      who.client_id = std::move(creds->user);
      who.client_secret = std::move(creds->password);
    }
    auto client = service_.authenticate_cached_client(who);
    if (!client) return std::nullopt;
    if (!*client) return oauth_error(client->error(), o.basic);
    o.client = std::move(**client);
    return grant(req, o);
  }

  // The grant of a parsed request whose client is authenticated.
  Response grant(const Request& req, const OAuthRequest& o) {
    const auth::Client& client = *o.client;
    const std::string grant = o.param("grant_type");
    // RFC 8707 `resource` (one; repeated parameters are refused) or `audience` (space-separated).
    if (o.form.count("resource") && o.form.count("audience"))
      return oauth_invalid("Use resource or audience, not both.");
    const std::vector<std::string> audiences =
        split_words(o.param("resource") + " " + o.param("audience"));
    const std::string scope = o.param("scope");
    auth::AuthResult<auth::TokenPair> r = auth::fail(auth::Errc::kInternal, "");
    bool with_refresh = true;
    if (grant == "password") {
      const std::string user = o.param("username"), password = o.param("password");
      if (user.empty() || password.empty())
        return oauth_invalid("username and password are required.");
      r = service_.login(auth::LoginRequest{
          user, password, client.id, std::string(req.header("User-Agent")), req.client_address,
          /*client_authenticated=*/true, scope, audiences, req.request_id});
    } else if (grant == "refresh_token") {
      const std::string token = o.param("refresh_token");
      if (token.empty()) return oauth_invalid("refresh_token is required.");
      r = service_.refresh(auth::RefreshRequest{token, client.id, req.client_address,
                                                /*client_authenticated=*/true, scope, audiences,
                                                /*presented_at=*/req.received_unix,
                                                req.request_id});
    } else if (grant == "client_credentials") {
      r = service_.client_credentials(client, scope, audiences);
      with_refresh = false;
    } else if (grant == "authorization_code") {
      if (!audiences.empty() || !scope.empty())
        return oauth_invalid("The code's grant fixes scope and audience.");
      r = service_.exchange_code(
          client,
          auth::CodeExchange{o.param("code"), o.param("redirect_uri"), o.param("code_verifier")});
      with_refresh = r && !r->refresh_token.empty();
    } else if (grant.empty()) {
      return oauth_invalid("grant_type is required.");
    } else {
      return oauth_error(http_auth_error(auth::Errc::kUnsupportedGrant, "Unsupported grant_type."),
                         false);
    }
    static_assert(auth::protocol::kGrantTypes.size() == 4, "a grant without a branch above");
    if (!r) return oauth_error(r.error(), o.basic);
    json j = {{"access_token", r->access_token},
              {"token_type", "Bearer"},
              {"expires_in", r->expires_in},
              {"scope", r->scope}};
    if (with_refresh) {
      j["refresh_token"] = r->refresh_token;
      j["refresh_expires_in"] = r->refresh_expires_in;
    }
    if (!r->id_token.empty()) j["id_token"] = r->id_token;
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

  // CORS (Fetch standard): a preflight is answered for an origin some client registered (it
  // names no client); the answer itself is readable by the origin only if the request's
  // client registered it. No credentials mode: these endpoints take no cookies.
  Response preflight(const Request& req) {
    const std::string origin(req.header("Origin"));
    Response r;
    r.status = 204;
    if (origin.empty()) return r;
    bool allowed = std::find(opt_.allowed_origins.begin(), opt_.allowed_origins.end(), origin) !=
                   opt_.allowed_origins.end();
    if (!allowed) {
      auto registered = service_.origin_registered(origin);
      if (!registered) return auth_error_response(registered.error());
      allowed = *registered;
    }
    if (!allowed) return r;
    r.set_header("Access-Control-Allow-Origin", origin);
    r.set_header("Access-Control-Allow-Methods", "GET, POST");
    r.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
    r.set_header("Access-Control-Max-Age", "600");
    r.set_header("Vary", "Origin");
    return r;
  }

  // The client a request names, by Basic credentials or the form, decides its CORS answer.
  Response with_cors(const Request& req, Response r) {
    if (req.header("Origin").empty()) return r;
    std::string client_id;
    if (auto creds = parse_basic_auth(req.header("Authorization"))) {
      client_id = creds->user;
    } else if (auto form = parse_form(req.body)) {
      auto it = form->find("client_id");
      if (it != form->end()) client_id = it->second;
    }
    return allow_client_origin(service_, req, std::move(r), client_id);
  }

 private:
  auth::AuthService& service_;
  AuthRoutesOptions opt_;
};

}  // namespace

void add_oauth_routes(Router& router, auth::AuthService& service) {
  add_oauth_routes(router, service, AuthRoutesOptions{});
}

void add_oauth_routes(Router& router, auth::AuthService& service, AuthRoutesOptions options) {
  auto routes = std::make_shared<OAuthRoutes>(service, std::move(options));
  auto bind = [routes](Response (OAuthRoutes::*fn)(const Request&)) {
    return [routes, fn](const Request& req, RequestContext&) {
      return routes->with_cors(req, ((*routes).*fn)(req));
    };
  };
  auto preflight = [routes](const Request& req, RequestContext&) { return routes->preflight(req); };
  // Started on the event loop: machine tokens of cached clients are answered there; every
  // other request goes to a worker as before.
  router.add_async("POST", "/oauth2/token",
                   [routes](const Request& req, RequestContext&, Reply reply) {
                     if (auto answered = routes->token_without_blocking(req))
                       return reply(std::move(*answered));
                     reply.offload([routes, copy = std::make_shared<const Request>(req)] {
                       return routes->with_cors(*copy, routes->token(*copy));
                     });
                   });
  router.add("POST", "/oauth2/revoke", bind(&OAuthRoutes::revoke), Dispatch::kWorker);
  router.add("POST", "/oauth2/introspect", bind(&OAuthRoutes::introspect), Dispatch::kWorker);
  for (const char* path : {"/oauth2/token", "/oauth2/revoke", "/oauth2/userinfo"})
    router.add("OPTIONS", path, preflight, Dispatch::kWorker);
}

}  // namespace authd::http
