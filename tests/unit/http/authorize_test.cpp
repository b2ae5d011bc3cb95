// The authorization code flow over the real routes in-process: the hosted login page, PKCE,
// codes, the ID token, userinfo, RP-initiated logout, CORS, and discovery checked against
// what the routes do.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "authd/auth/pkce.h"
#include "authd/auth/protocol.h"
#include "authd/core/base64url.h"
#include "authd/crypto/digest.h"
#include "authd/http/form.h"
#include "authd/jose/jws.h"
#include "support/in_process_http.h"
#include "support/oauth.h"

namespace authd::http {
namespace {

using nlohmann::json;
using testing::basic;
using testing::claims_of;
using testing::Headers;
using testing::InProcessAuthd;
using testing::kForm;

constexpr const char* kRedirect = "https://app.example/cb";
constexpr const char* kLogoutRedirect = "https://app.example/bye";
constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-0123456789";
constexpr const char* kSecret = "web-secret-0123456789";

std::map<std::string, std::string> query_of(const std::string& location) {
  auto q = location.find('?');
  auto f = parse_form(q == std::string::npos ? "" : location.substr(q + 1));
  return f.value_or(std::map<std::string, std::string>{});
}

// "name=value" of a Set-Cookie header.
std::string cookie_pair(const Response& r) {
  std::string c(r.header("Set-Cookie"));
  return c.substr(0, c.find(';'));
}

std::string enc(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char b[4];
      std::snprintf(b, sizeof b, "%%%02X", c);
      out += b;
    }
  }
  return out;
}

class AuthorizeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    authd_ = std::make_unique<InProcessAuthd>();
    ASSERT_EQ(authd_->error(), "");
    auth::Client web;
    web.id = "web";
    web.grant_types = {"authorization_code", "refresh_token"};
    web.redirect_uris = {kRedirect, "http://127.0.0.1/native"};
    web.post_logout_redirect_uris = {kLogoutRedirect};
    web.allowed_origins = {"https://app.example"};
    authd_->add_client(web, kSecret);
    auth::Client spa = web;
    spa.id = "spa";
    authd_->add_client(spa);
  }
  testing::InProcessHttp& http() { return authd_->http(); }

  std::string authorize_query(const std::string& client = "web",
                              const std::string& extra = "") const {
    return "/oauth2/authorize?response_type=code&client_id=" + client +
           "&redirect_uri=" + enc(kRedirect) + "&scope=" + enc("openid email profile") +
           "&state=st-1&nonce=n-1&code_challenge=" + auth::pkce::s256(kVerifier) +
           "&code_challenge_method=S256" + extra;
  }

  // Shows the login page and submits the demo password; returns the redirect.
  Response sign_in(const std::string& client = "web",
                   const std::string& password = InProcessAuthd::kDemoPassword) {
    auto page = http().get(authorize_query(client));
    EXPECT_EQ(page.status, 200) << page.body;
    csrf_cookie_ = cookie_pair(page);
    const std::string csrf = csrf_cookie_.substr(csrf_cookie_.find('=') + 1);
    std::string body = authorize_query(client).substr(std::string("/oauth2/authorize?").size()) +
                       "&csrf=" + csrf + "&email=" + enc(InProcessAuthd::kDemoEmail) +
                       "&password=" + enc(password);
    Headers h = kForm;
    h["Cookie"] = csrf_cookie_;
    return http().request("POST", "/oauth2/authorize", body, h);
  }

  Response exchange(const std::string& code, const std::string& verifier = kVerifier,
                    const std::string& redirect = kRedirect) {
    Headers h = kForm;
    h["Authorization"] = basic("web", kSecret);
    return http().post("/oauth2/token",
                       "grant_type=authorization_code&code=" + enc(code) +
                           "&redirect_uri=" + enc(redirect) + "&code_verifier=" + verifier,
                       h);
  }

  std::unique_ptr<InProcessAuthd> authd_;
  std::string csrf_cookie_;
};

TEST_F(AuthorizeTest, LoginPageIsStrictAndAccessible) {
  auto r = http().get(authorize_query());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8");
  const std::string csp(r.header("Content-Security-Policy"));
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(csp.find("script-src"), std::string::npos);
  EXPECT_EQ(r.body.find("<script"), std::string::npos);
  EXPECT_NE(r.body.find("<label for=\"email\">"), std::string::npos);
  EXPECT_NE(r.body.find("<label for=\"password\">"), std::string::npos);
  EXPECT_NE(r.body.find("aria-live"), std::string::npos);
  EXPECT_EQ(r.header("X-Frame-Options"), "DENY");
  EXPECT_EQ(cookie_pair(r).rfind("__Host-authd_csrf=", 0), 0u);
  EXPECT_NE(std::string(r.header("Set-Cookie")).find("Secure"), std::string::npos);
}

TEST_F(AuthorizeTest, FullFlowIssuesVerifiedIdTokenAndUserinfo) {
  auto r = sign_in();
  ASSERT_EQ(r.status, 302) << r.body;
  const std::string session_cookie = cookie_pair(r);
  EXPECT_EQ(session_cookie.rfind("__Host-authd_session=", 0), 0u);
  const std::string set(r.header("Set-Cookie"));
  for (const char* attr : {"HttpOnly", "Secure", "SameSite=Lax", "Path=/"})
    EXPECT_NE(set.find(attr), std::string::npos) << attr;
  auto q = query_of(std::string(r.header("Location")));
  EXPECT_EQ(std::string(r.header("Location")).rfind(kRedirect, 0), 0u);
  EXPECT_EQ(q["state"], "st-1");
  EXPECT_EQ(q["iss"], authd_->service().settings().issuer);
  ASSERT_FALSE(q["code"].empty());

  auto t = exchange(q["code"]);
  ASSERT_EQ(t.status, 200) << t.body;
  auto tokens = json::parse(t.body);
  EXPECT_FALSE(tokens.contains("refresh_token")) << "no offline_access, no refresh token";
  const std::string id_token = tokens["id_token"];
  jose::VerifyOptions opts;
  opts.typ = "JWT";
  opts.issuer = authd_->service().settings().issuer;
  opts.audience = "web";
  auto v = jose::verify(id_token, authd_->ring().lookup(), SystemClock().now_unix(), opts);
  ASSERT_TRUE(v) << jose::to_string(v.error());
  const json& c = v->claims;
  EXPECT_EQ(c["nonce"], "n-1");
  EXPECT_EQ(c["email"], InProcessAuthd::kDemoEmail);
  EXPECT_EQ(c["amr"], json::array({"pwd"}));
  EXPECT_TRUE(c["auth_time"].is_number());
  EXPECT_TRUE(c["sid"].is_string());
  const std::string at = tokens["access_token"];
  const std::string digest =
      v->key->alg() == jose::Alg::EdDSA ? crypto::sha512(at) : crypto::sha256(at);
  EXPECT_EQ(c["at_hash"], base64url::encode(digest.substr(0, digest.size() / 2)));

  auto info = http().get("/oauth2/userinfo", {{"Authorization", "Bearer " + at}});
  ASSERT_EQ(info.status, 200) << info.body;
  auto ui = json::parse(info.body);
  EXPECT_EQ(ui["sub"], c["sub"]);
  EXPECT_EQ(ui["email"], InProcessAuthd::kDemoEmail);
  EXPECT_EQ(ui["preferred_username"], InProcessAuthd::kDemoEmail);

  // Within the sign-in, a second authorization needs no password.
  auto again = http().get(authorize_query(), {{"Cookie", session_cookie}});
  ASSERT_EQ(again.status, 302) << again.body;
  EXPECT_FALSE(query_of(std::string(again.header("Location")))["code"].empty());
  // prompt=login asks again even so.
  auto login = http().get(authorize_query("web", "&prompt=login"), {{"Cookie", session_cookie}});
  EXPECT_EQ(login.status, 200);

  // RP-initiated logout ends the sign-in and the families issued under it.
  auto out = http().get("/oauth2/logout?id_token_hint=" + id_token +
                        "&post_logout_redirect_uri=" + enc(kLogoutRedirect) + "&state=bye");
  ASSERT_EQ(out.status, 302) << out.body;
  EXPECT_EQ(std::string(out.header("Location")), std::string(kLogoutRedirect) + "?state=bye");
  EXPECT_EQ(http().get("/oauth2/userinfo", {{"Authorization", "Bearer " + at}}).status, 401);
  auto after = http().get(authorize_query("web", "&prompt=none"), {{"Cookie", session_cookie}});
  ASSERT_EQ(after.status, 302);
  EXPECT_EQ(query_of(std::string(after.header("Location")))["error"], "login_required");
}

TEST_F(AuthorizeTest, OfflineAccessGivesRefreshToken) {
  auto page = http().get(authorize_query());
  ASSERT_EQ(page.status, 200);
  auto r = sign_in();
  ASSERT_EQ(r.status, 302);
  auto second = http().get(
      "/oauth2/authorize?response_type=code&client_id=web&redirect_uri=" + enc(kRedirect) +
          "&scope=" + enc("openid offline_access") +
          "&code_challenge=" + auth::pkce::s256(kVerifier) + "&code_challenge_method=S256",
      {{"Cookie", cookie_pair(r)}});
  ASSERT_EQ(second.status, 302) << second.body;
  auto t = exchange(query_of(std::string(second.header("Location")))["code"]);
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_TRUE(json::parse(t.body)["refresh_token"].is_string());
}

// This test verifies a refresh that asks again for the scope the code granted, as clients do
// (authlib sends the session's scope): the OpenID scopes profile and email are accepted
// because the session holds them, a narrower scope too, and one the session lacks is refused.
TEST_F(AuthorizeTest, RefreshMayRepeatTheScopeTheCodeGranted) {
  auto r = sign_in();
  ASSERT_EQ(r.status, 302);
  auto with_offline = http().get(
      "/oauth2/authorize?response_type=code&client_id=web&redirect_uri=" + enc(kRedirect) +
          "&scope=" + enc("openid email profile offline_access") +
          "&code_challenge=" + auth::pkce::s256(kVerifier) + "&code_challenge_method=S256",
      {{"Cookie", cookie_pair(r)}});
  ASSERT_EQ(with_offline.status, 302) << with_offline.body;
  auto t = exchange(query_of(std::string(with_offline.header("Location")))["code"]);
  ASSERT_EQ(t.status, 200) << t.body;
  std::string rt = json::parse(t.body)["refresh_token"];
  Headers h = kForm;
  h["Authorization"] = basic("web", kSecret);
  auto refresh = [&](const std::string& scope) {
    auto a = http().post(
        "/oauth2/token",
        "grant_type=refresh_token&refresh_token=" + enc(rt) + "&scope=" + enc(scope), h);
    if (a.status == 200) rt = json::parse(a.body)["refresh_token"];
    return a;
  };
  auto same = refresh("openid email profile offline_access");
  EXPECT_EQ(same.status, 200) << same.body;
  auto narrower = refresh("openid email");
  EXPECT_EQ(narrower.status, 200) << narrower.body;
  auto wider = refresh("openid email invoices.read");
  EXPECT_EQ(wider.status, 400) << wider.body;
  EXPECT_EQ(json::parse(wider.body)["error"], "invalid_scope");
}

TEST_F(AuthorizeTest, ReplayedCodeRevokesWhatItGave) {
  auto code = query_of(std::string(sign_in().header("Location")))["code"];
  auto first = exchange(code);
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string at = json::parse(first.body)["access_token"];
  auto second = exchange(code);
  EXPECT_EQ(second.status, 400);
  EXPECT_EQ(json::parse(second.body)["error"], "invalid_grant");
  EXPECT_EQ(http().get("/oauth2/userinfo", {{"Authorization", "Bearer " + at}}).status, 401);
}

TEST_F(AuthorizeTest, WrongVerifierOrRedirectIsRefused) {
  auto code = query_of(std::string(sign_in().header("Location")))["code"];
  auto bad = exchange(code, std::string(kVerifier) + "x");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["error"], "invalid_grant");
  auto code2 =
      query_of(std::string(http()
                               .get(authorize_query(), {{"Cookie", cookie_pair(sign_in())}})
                               .header("Location")))["code"];
  auto wrong_redirect = exchange(code2, kVerifier, "https://app.example/other");
  EXPECT_EQ(json::parse(wrong_redirect.body)["error"], "invalid_grant");
}

TEST_F(AuthorizeTest, WrongPasswordIsShownOnThePage) {
  auto r = sign_in("web", "not-the-password");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("Invalid email or password."), std::string::npos);
  EXPECT_NE(r.body.find("aria-invalid=\"true\""), std::string::npos);
  EXPECT_EQ(r.body.find("not-the-password"), std::string::npos);
}

TEST_F(AuthorizeTest, MissingCsrfCookieIsRefused) {
  auto page = http().get(authorize_query());
  const std::string c = cookie_pair(page);
  std::string body = authorize_query().substr(std::string("/oauth2/authorize?").size()) +
                     "&csrf=" + c.substr(c.find('=') + 1) + "&email=demo%40example.com" +
                     "&password=demo-password";
  auto r = http().request("POST", "/oauth2/authorize", body, kForm);
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(r.header("Location").empty());
}

TEST_F(AuthorizeTest, BadClientOrRedirectIsAPageNotARedirect) {
  auto unknown = http().get("/oauth2/authorize?response_type=code&client_id=nobody&redirect_uri=" +
                            enc(kRedirect));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_TRUE(unknown.header("Location").empty());
  auto mismatch =
      http().get("/oauth2/authorize?response_type=code&client_id=web&redirect_uri=" +
                 enc("https://evil.example/cb") + "&code_challenge=" + auth::pkce::s256(kVerifier) +
                 "&code_challenge_method=S256");
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_TRUE(mismatch.header("Location").empty());
  EXPECT_NE(mismatch.body.find("not registered"), std::string::npos);
}

TEST_F(AuthorizeTest, PlainPkceAndMissingChallengeGoBackToTheClient) {
  for (const std::string& extra :
       {"&code_challenge=" + std::string(kVerifier) + "&code_challenge_method=plain",
        std::string("&code_challenge_method=S256")}) {
    auto r = http().get("/oauth2/authorize?response_type=code&client_id=web&state=s&redirect_uri=" +
                        enc(kRedirect) + extra);
    ASSERT_EQ(r.status, 302) << extra;
    auto q = query_of(std::string(r.header("Location")));
    EXPECT_EQ(q["error"], "invalid_request");
    EXPECT_EQ(q["state"], "s");
    EXPECT_EQ(q["iss"], authd_->service().settings().issuer);
  }
  auto token = http().get(authorize_query("web", "").replace(
      std::string("/oauth2/authorize?response_type=code").size() - 4, 4, "token"));
  ASSERT_EQ(token.status, 302);
  EXPECT_EQ(query_of(std::string(token.header("Location")))["error"], "unsupported_response_type");
}

TEST_F(AuthorizeTest, LoopbackRedirectMatchesAnyPort) {
  auto r = http().get("/oauth2/authorize?response_type=code&client_id=web&redirect_uri=" +
                      enc("http://127.0.0.1:49152/native") + "&prompt=none&code_challenge=" +
                      auth::pkce::s256(kVerifier) + "&code_challenge_method=S256");
  ASSERT_EQ(r.status, 302);
  EXPECT_EQ(std::string(r.header("Location")).rfind("http://127.0.0.1:49152/native?", 0), 0u);
}

TEST_F(AuthorizeTest, PublicClientRedeemsWithPkceOnly) {
  auto r = sign_in("spa");
  auto code = query_of(std::string(r.header("Location")))["code"];
  auto t = http().post(
      "/oauth2/token",
      "grant_type=authorization_code&client_id=spa&code=" + enc(code) +
          "&redirect_uri=" + enc(kRedirect) + "&code_verifier=" + kVerifier,
      {{"Content-Type", "application/x-www-form-urlencoded"}, {"Origin", "https://app.example"}});
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(t.header("Access-Control-Allow-Origin"), "https://app.example");
  auto other = http().request(
      "OPTIONS", "/oauth2/token", "",
      {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_TRUE(other.header("Access-Control-Allow-Origin").empty());
  auto pre = http().request(
      "OPTIONS", "/oauth2/token", "",
      {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.header("Access-Control-Allow-Origin"), "https://app.example");
}

// Every advertised value is checked against what the routes do.
TEST_F(AuthorizeTest, DiscoveryMatchesBehaviour) {
  for (const char* path :
       {"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"}) {
    auto r = http().get(path);
    ASSERT_EQ(r.status, 200);
    auto d = json::parse(r.body);
    const std::string iss = authd_->service().settings().issuer;
    EXPECT_EQ(d["issuer"], iss);
    for (const char* ep :
         {"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
          "revocation_endpoint", "introspection_endpoint", "end_session_endpoint"}) {
      const std::string url = d[ep];
      ASSERT_EQ(url.rfind(iss, 0), 0u) << ep;
      auto probe = http().get(url.substr(iss.size()));
      EXPECT_NE(probe.status, 404) << ep;
    }
    for (const auto& g : d["grant_types_supported"]) {
      auto t = http().post("/oauth2/token", "grant_type=" + g.get<std::string>(),
                           {{"Content-Type", "application/x-www-form-urlencoded"},
                            {"Authorization", basic("web", kSecret)}});
      EXPECT_NE(json::parse(t.body)["error"], "unsupported_grant_type") << g;
    }
    auto unknown = http().post("/oauth2/token", "grant_type=urn%3Aexample%3Anone",
                               {{"Content-Type", "application/x-www-form-urlencoded"},
                                {"Authorization", basic("web", kSecret)}});
    EXPECT_EQ(json::parse(unknown.body)["error"], "unsupported_grant_type");
    EXPECT_EQ(d["code_challenge_methods_supported"], json::array({"S256"}));
    EXPECT_EQ(d["response_types_supported"], json::array({"code"}));
    for (const auto& s : d["scopes_supported"]) {
      auto a = http().get(
          "/oauth2/authorize?response_type=code&client_id=web&redirect_uri=" + enc(kRedirect) +
          "&scope=" + s.get<std::string>() + "&code_challenge=" + auth::pkce::s256(kVerifier) +
          "&code_challenge_method=S256");
      EXPECT_EQ(a.status, 200) << s << " " << a.header("Location");
    }
    // Exactly the algorithm ID tokens are signed with: a relying party that registers nothing
    // verifies with what discovery says.
    EXPECT_EQ(d["id_token_signing_alg_values_supported"],
              json::array({jose::to_string(authd_->ring().id_token_signing_key().value()->alg())}));
    EXPECT_EQ(d["authorization_response_iss_parameter_supported"], true);
  }
}

}  // namespace
}  // namespace authd::http
