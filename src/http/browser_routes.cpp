// The browser flow: /oauth2/authorize with the hosted login page, /oauth2/userinfo,
// RP-initiated logout at /oauth2/logout, the page's assets, and the discovery documents.

#include <algorithm>
#include <nlohmann/json.hpp>

#include "authd/auth/protocol.h"
#include "authd/core/base64url.h"
#include "authd/core/clock.h"
#include "authd/http/auth_errors.h"
#include "authd/http/auth_routes.h"
#include "authd/http/form.h"
#include "http/login_page.h"
#include "http/request_parsing.h"

namespace authd::http {
namespace {

using nlohmann::json;

constexpr std::string_view kAuthorizePath = "/oauth2/authorize";
constexpr std::string_view kLogoutPath = "/oauth2/logout";

// Percent-encodes a query component (RFC 3986 unreserved characters pass).
std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// `uri` with these query parameters appended (RFC 6749 §4.1.2: keep its own query).
std::string with_query(const std::string& uri,
                       const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out = uri;
  char sep = uri.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    out += sep;
    out += k + "=" + url_encode(v);
    sep = '&';
  }
  return out;
}

// scheme://host[:port] of an http(s) URI, or "scheme:" of another (CSP source expressions).
std::string origin_of(std::string_view uri) {
  const auto colon = uri.find(':');
  if (colon == std::string_view::npos) return {};
  if (uri.substr(colon, 3) != "://") return std::string(uri.substr(0, colon + 1));
  const auto end = uri.find_first_of("/?#", colon + 3);
  return std::string(uri.substr(0, end));
}

class BrowserRoutes {
 public:
  BrowserRoutes(auth::AuthService& s, AuthRoutesOptions o) : service_(s), opt_(std::move(o)) {
    if (opt_.login_css.empty()) opt_.login_css = std::string(default_login_css());
  }

  std::string cookie_name(std::string_view base) const {
    return (opt_.secure_cookies ? "__Host-" : "") + std::string(base);
  }
  std::string cookie(std::string_view base, const std::string& value, std::int64_t max_age) const {
    return cookie_name(base) + "=" + value + "; Path=/; Max-Age=" + std::to_string(max_age) +
           "; HttpOnly; SameSite=Lax" + (opt_.secure_cookies ? "; Secure" : "");
  }

  // Every page: no script at all, no framing, forms only to us (and, after a sign-in, the
  // redirect to the client, which Chrome checks against form-action too).
  Response html(int status, std::string body, const std::string& form_target = "") const {
    Response r = Response::text(status, std::move(body), "text/html; charset=utf-8");
    std::string form_action = "'self'";
    if (!form_target.empty()) form_action += " " + form_target;
    r.set_header("Content-Security-Policy",
                 "default-src 'none'; style-src 'self'; img-src 'self'; form-action " +
                     form_action + "; frame-ancestors 'none'; base-uri 'none'");
    r.set_header("X-Frame-Options", "DENY");
    r.set_header("Referrer-Policy", "no-referrer");
    r.set_header("Cache-Control", "no-store");
    return r;
  }

  Response error_page(int status, std::string_view message) const {
    return html(status, render_message(opt_.product_name, !opt_.logo.empty(),
                                       "Sign-in request refused", message));
  }

  static Response redirect(const std::string& location) {
    Response r;
    r.status = 302;
    r.set_header("Location", location);
    r.set_header("Cache-Control", "no-store");
    return r;
  }

  // RFC 6749 §4.1.2.1 with RFC 9207's iss.
  Response redirect_error(const auth::CheckedAuthorization& a, const auth::Error& e) const {
    return redirect(
        with_query(a.request.redirect_uri, {{"error", std::string(auth::to_string(e.code))},
                                            {"error_description", e.description},
                                            {"state", a.request.state},
                                            {"iss", service_.settings().issuer}}));
  }

  static auth::AuthorizeRequest authorize_params(const std::map<std::string, std::string>& p) {
    auto get = [&p](const char* k) {
      auto it = p.find(k);
      return it == p.end() ? std::string() : it->second;
    };
    return auth::AuthorizeRequest{
        get("response_type"), get("client_id"), get("redirect_uri"),   get("scope"),
        get("state"),         get("nonce"),     get("code_challenge"), get("code_challenge_method"),
        get("prompt"),        get("max_age"),   get("login_hint")};
  }

  static std::map<std::string, std::string> hidden_params(const auth::AuthorizeRequest& r) {
    std::map<std::string, std::string> h{{"response_type", r.response_type},
                                         {"client_id", r.client_id},
                                         {"redirect_uri", r.redirect_uri},
                                         {"scope", r.scope},
                                         {"state", r.state},
                                         {"nonce", r.nonce},
                                         {"code_challenge", r.code_challenge},
                                         {"code_challenge_method", r.code_challenge_method},
                                         {"max_age", r.max_age}};
    std::erase_if(h, [](const auto& kv) { return kv.second.empty(); });
    return h;
  }

  Response login_page(const auth::CheckedAuthorization& a, const std::string& email,
                      const std::string& error, int status, std::string csrf = "") const {
    const bool fresh = csrf.empty();
    if (fresh) csrf = base64url::encode(random_.bytes(32));
    LoginPage page{opt_.product_name,
                   !opt_.logo.empty(),
                   std::string(kAuthorizePath),
                   hidden_params(a.request),
                   email,
                   error};
    page.hidden["csrf"] = csrf;
    auto r = html(status, render_login(page), origin_of(a.request.redirect_uri));
    // Double submit: a cross-site form cannot read or set this cookie, so it cannot log the
    // browser into someone else's account (login CSRF).
    if (fresh) r.set_header("Set-Cookie", cookie("authd_csrf", csrf, 3600));
    return r;
  }

  Response issue(const auth::CheckedAuthorization& a, const auth::BrowserSession& s,
                 std::optional<std::string> set_cookie = std::nullopt) {
    auto code = service_.issue_code(a, s);
    Response r;
    if (!code) {
      if (code.error().store_unavailable) return auth_error_response(code.error());
      r = redirect_error(a, code.error());
    } else {
      r = redirect(with_query(
          a.request.redirect_uri,
          {{"code", *code}, {"state", a.request.state}, {"iss", service_.settings().issuer}}));
    }
    if (set_cookie) r.set_header("Set-Cookie", *set_cookie);
    return r;
  }

  // GET, or POST with the parameters as a form (OpenID Connect Core §3.1.2.1).
  Response authorize(const Request& req) {
    std::optional<std::map<std::string, std::string>> params;
    if (req.method == "POST") {
      if (!has_form_body(req)) return error_page(400, "The request must be a form.");
      params = parse_form(req.body);
    } else {
      params = parse_form(req.query);
    }
    if (!params) return error_page(400, "The request has malformed or repeated parameters.");
    if (params->count("csrf")) return sign_in(req, *params);
    auto checked = service_.check_authorization(authorize_params(*params));
    if (!checked) return refused(checked.error());
    const auth::CheckedAuthorization& a = *checked;
    if (a.error) return redirect_error(a, *a.error);
    auto session = service_.browser_session(req.cookie(cookie_name("authd_session")));
    if (!session) return auth_error_response(session.error());
    switch (service_.next_step(a, *session)) {
      case auth::AuthorizeStep::kIssueCode:
        return issue(a, **session);
      case auth::AuthorizeStep::kLoginRequired:
        return redirect_error(
            a, http_auth_error(auth::Errc::kLoginRequired, "The user must sign in."));
      case auth::AuthorizeStep::kShowLogin:
        break;
    }
    return login_page(a, a.request.login_hint, "", 200);
  }

  // A request whose client or redirect URI is bad: a page, never a redirect (§4.1.2.1).
  Response refused(const auth::Error& e) const {
    if (e.code == auth::Errc::kUnavailable || e.code == auth::Errc::kInternal)
      return auth_error_response(e);
    return error_page(400, e.description);
  }

  // The login form's submission.
  Response sign_in(const Request& req, const std::map<std::string, std::string>& form) {
    auto get = [&form](const char* k) {
      auto it = form.find(k);
      return it == form.end() ? std::string() : it->second;
    };
    auto checked = service_.check_authorization(authorize_params(form));
    if (!checked) return refused(checked.error());
    const auth::CheckedAuthorization& a = *checked;
    if (a.error) return redirect_error(a, *a.error);
    const std::string csrf = get("csrf");
    const std::string expected = req.cookie(cookie_name("authd_csrf"));
    if (req.method != "POST" || csrf.empty() || csrf != expected)
      return login_page(a, get("email"), "Your sign-in form expired. Please try again.", 403);
    auto s = service_.sign_in(get("email"), get("password"), req.client_address,
                              std::string(req.header("User-Agent")), req.request_id);
    if (!s) {
      const auto& e = s.error();
      if (e.store_unavailable || e.code == auth::Errc::kInternal) return auth_error_response(e);
      std::string message = "Invalid email or password.";
      int status = 401;
      if (e.code == auth::Errc::kRateLimited) {
        message = "Too many attempts. Wait a moment and try again.";
        status = 429;
      } else if (e.code == auth::Errc::kAccessDenied) {
        message = "This account is disabled.";
        status = 403;
      } else if (e.code == auth::Errc::kInvalidRequest) {
        message = e.description;
        status = 400;
      }
      auto page = login_page(a, get("email"), message, status, csrf);
      if (e.retry_after_s > 0) page.set_header("Retry-After", std::to_string(e.retry_after_s));
      return page;
    }
    return issue(a, s->session,
                 cookie("authd_session", s->cookie, s->session.expires_at - s->session.auth_time));
  }

  Response userinfo(const Request& req) {
    auto token = req.bearer_token();
    if (!token) {
      auto r = Response::error(401, "invalid_request", "A bearer access token is required.");
      r.set_header("WWW-Authenticate", "Bearer realm=\"authd\"");
      return with_cors(req, std::move(r), "");
    }
    auto who = service_.authenticate(*token);
    auto info = service_.userinfo(*token);
    Response r;
    if (!info) {
      r = auth_error_response(info.error());
      if (info.error().code == auth::Errc::kInsufficientScope)
        r.set_header("WWW-Authenticate",
                     "Bearer realm=\"authd\", error=\"insufficient_scope\", scope=\"openid\"");
    } else {
      r = Response::json(200, info->dump());
      r.set_header("Cache-Control", "no-store");
    }
    return with_cors(req, std::move(r), who ? who->client_id : "");
  }

  // Access-Control-Allow-Origin when `client_id` registered the request's Origin.
  Response with_cors(const Request& req, Response r, const std::string& client_id) {
    return allow_client_origin(service_, req, std::move(r), client_id);
  }

  // RP-initiated logout. With an id_token_hint the RP proves which sign-in it means; without
  // one, a cross-site link must not sign the user out, so the user confirms (a CSRF-checked
  // form).
  Response logout(const Request& req) {
    std::optional<std::map<std::string, std::string>> params =
        req.method == "POST" ? parse_form(req.body) : parse_form(req.query);
    if (!params) return error_page(400, "The request has malformed or repeated parameters.");
    auto get = [&params](const char* k) {
      auto it = params->find(k);
      return it == params->end() ? std::string() : it->second;
    };
    auth::EndSessionRequest er{get("id_token_hint"),
                               get("client_id"),
                               get("post_logout_redirect_uri"),
                               get("state"),
                               req.cookie(cookie_name("authd_session")),
                               req.request_id,
                               req.client_address};
    if (er.id_token_hint.empty()) {
      const std::string csrf = get("csrf");
      if (req.method != "POST" || csrf.empty() || csrf != req.cookie(cookie_name("authd_csrf"))) {
        const std::string token = base64url::encode(random_.bytes(32));
        auto hidden = *params;
        hidden["csrf"] = token;
        auto r = html(
            200, render_logout_confirm(opt_.product_name, !opt_.logo.empty(), kLogoutPath, hidden),
            origin_of(er.post_logout_redirect_uri));
        r.set_header("Set-Cookie", cookie("authd_csrf", token, 3600));
        return r;
      }
    }
    auto ended = service_.end_session(er);
    if (!ended) {
      if (ended.error().code == auth::Errc::kUnavailable ||
          ended.error().code == auth::Errc::kInternal)
        return auth_error_response(ended.error());
      return error_page(400, ended.error().description);
    }
    Response r = ended->redirect_uri.empty()
                     ? html(200, render_message(opt_.product_name, !opt_.logo.empty(), "Signed out",
                                                "You are signed out."))
                     : redirect(with_query(ended->redirect_uri, {{"state", er.state}}));
    r.set_header("Set-Cookie", cookie("authd_session", "", 0));
    return r;
  }

  Response css(const Request&) const {
    auto r = Response::text(200, opt_.login_css, "text/css; charset=utf-8");
    r.set_header("Cache-Control", "public, max-age=3600");
    return r;
  }
  Response logo(const Request&) const {
    if (opt_.logo.empty()) return Response::error(404, "not_found", "No such route.");
    auto r = Response::text(200, opt_.logo, opt_.logo_content_type);
    r.set_header("Cache-Control", "public, max-age=3600");
    return r;
  }

  Response discovery(const Request&) const {
    auto r = Response::json(
        200, discovery_document(service_.settings().issuer, opt_.id_token_signing_alg));
    r.set_header("Cache-Control", "public, max-age=3600");
    r.set_header("Access-Control-Allow-Origin", "*");
    return r;
  }

 private:
  auth::AuthService& service_;
  AuthRoutesOptions opt_;
  mutable SystemRandom random_;
};

}  // namespace

std::string discovery_document(const std::string& issuer, const std::string& id_token_alg) {
  namespace p = auth::protocol;
  auto list = [](auto const& table) {
    json a = json::array();
    for (auto v : table) a.push_back(std::string(v));
    return a;
  };
  const json algs = list(p::kSigningAlgs);
  json d = {{"issuer", issuer},
            {"authorization_endpoint", issuer + std::string(kAuthorizePath)},
            {"token_endpoint", issuer + "/oauth2/token"},
            {"userinfo_endpoint", issuer + "/oauth2/userinfo"},
            {"jwks_uri", issuer + "/.well-known/jwks.json"},
            {"revocation_endpoint", issuer + "/oauth2/revoke"},
            {"introspection_endpoint", issuer + "/oauth2/introspect"},
            {"end_session_endpoint", issuer + std::string(kLogoutPath)},
            {"scopes_supported", list(p::kScopes)},
            {"response_types_supported", list(p::kResponseTypes)},
            {"response_modes_supported", list(p::kResponseModes)},
            {"grant_types_supported", list(p::kGrantTypes)},
            {"code_challenge_methods_supported", list(p::kCodeChallengeMethods)},
            {"token_endpoint_auth_methods_supported", list(p::kTokenEndpointAuthMethods)},
            {"token_endpoint_auth_signing_alg_values_supported", algs},
            {"revocation_endpoint_auth_methods_supported", list(p::kTokenEndpointAuthMethods)},
            {"introspection_endpoint_auth_methods_supported", list(p::kTokenEndpointAuthMethods)},
            {"id_token_signing_alg_values_supported", json::array({id_token_alg})},
            {"subject_types_supported", list(p::kSubjectTypes)},
            {"claims_supported", list(p::kClaims)},
            {"prompt_values_supported", list(p::kPrompts)},
            {"authorization_response_iss_parameter_supported", true},
            {"request_parameter_supported", false},
            {"request_uri_parameter_supported", false},
            {"claims_parameter_supported", false}};
  return d.dump();
}

void add_browser_routes(Router& router, auth::AuthService& service, AuthRoutesOptions options) {
  auto routes = std::make_shared<BrowserRoutes>(service, std::move(options));
  auto bind = [routes](Response (BrowserRoutes::*fn)(const Request&)) {
    return [routes, fn](const Request& req, RequestContext&) { return ((*routes).*fn)(req); };
  };
  auto bind_const = [routes](Response (BrowserRoutes::*fn)(const Request&) const) {
    return [routes, fn](const Request& req, RequestContext&) { return ((*routes).*fn)(req); };
  };
  router.add("GET", std::string(kAuthorizePath), bind(&BrowserRoutes::authorize),
             Dispatch::kWorker);
  router.add("POST", std::string(kAuthorizePath), bind(&BrowserRoutes::authorize),
             Dispatch::kWorker);
  router.add("GET", "/oauth2/userinfo", bind(&BrowserRoutes::userinfo), Dispatch::kWorker);
  router.add("POST", "/oauth2/userinfo", bind(&BrowserRoutes::userinfo), Dispatch::kWorker);
  router.add("GET", std::string(kLogoutPath), bind(&BrowserRoutes::logout), Dispatch::kWorker);
  router.add("POST", std::string(kLogoutPath), bind(&BrowserRoutes::logout), Dispatch::kWorker);
  router.add("GET", "/oauth2/assets/login.css", bind_const(&BrowserRoutes::css));
  router.add("GET", "/oauth2/assets/logo", bind_const(&BrowserRoutes::logo));
  router.add("GET", "/.well-known/openid-configuration", bind_const(&BrowserRoutes::discovery));
  router.add("GET", "/.well-known/oauth-authorization-server",
             bind_const(&BrowserRoutes::discovery));
}

}  // namespace authd::http
