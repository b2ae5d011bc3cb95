// authd's routes without a socket: the real handlers over a real AuthService on SQLite, a real
// key ring and an in-process limiter (support/in_process_http.h). Statuses, RFC 6749 bodies,
// headers and cookies are checked here; tests/integration keeps what needs the transport or
// the daemon itself.

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "authd/core/base64url.h"
#include "authd/core/clock.h"
#include "authd/http/admin_routes.h"
#include "authd/http/jwks_route.h"
#include "authd/jose/jws.h"
#include "authd/jose/key.h"
#include "authd/obs/metrics.h"
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
using testing::kWebSecret;

const std::string kDemoLogin = R"({"email":"demo@example.com","password":"demo-password"})";
constexpr const char* kAppOrigin = "https://app.example";
constexpr const char* kBillingSecret = "billing-secret-0123456789";

json body_of(const Response& r) { return json::parse(r.body, nullptr, false); }

class RoutesTest : public ::testing::Test {
 protected:
  void SetUp() override { start(InProcessAuthd::Options{}); }

  void start(InProcessAuthd::Options options) {
    options.routes.allowed_origins = {kAppOrigin};
    authd_ = std::make_unique<InProcessAuthd>(std::move(options));
    ASSERT_EQ(authd_->error(), "");
  }
  testing::InProcessHttp& http() { return authd_->http(); }

  json login_ok(const std::string& body = kDemoLogin) {
    auto r = http().post("/login", body);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? body_of(r) : json::object();
  }
  Headers bearer(const json& tokens) {
    return {{"Authorization", "Bearer " + tokens["access_token"].get<std::string>()}};
  }
  Response refresh(const json& token) {
    return http().post("/refresh", json{{"refresh_token", token}}.dump());
  }
  void add_billing_client() {
    auth::Client c;
    c.id = "billing";
    c.grant_types = {"client_credentials"};
    c.scopes = {"invoices.read", "invoices.write"};
    c.permissions = {auth::kPermissionIntrospect};
    authd_->add_client(c, kBillingSecret);
    ASSERT_EQ(authd_->error(), "");
  }
  Headers billing_basic(const std::string& secret = kBillingSecret) {
    Headers h = kForm;
    h["Authorization"] = basic("billing", secret);
    return h;
  }

  std::unique_ptr<InProcessAuthd> authd_;
};

// ---- /login --------------------------------------------------------------------------------

TEST_F(RoutesTest, LoginReturnsTokensAsRfc6749) {
  auto r = http().post("/login", kDemoLogin);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  EXPECT_EQ(r.header("Pragma"), "no-cache");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  auto j = body_of(r);
  EXPECT_EQ(j["token_type"], "Bearer");
  EXPECT_EQ(j["expires_in"], 600);
  EXPECT_TRUE(j["access_token"].is_string());
  EXPECT_EQ(j["refresh_token"].get<std::string>().size(), 43u);
  EXPECT_GT(j["refresh_expires_in"].get<int>(), 0);
  EXPECT_TRUE(r.header("Set-Cookie").empty()) << "no cookie unless asked for";
}

// This test verifies that the hash queue shows in /metrics: each login's wait for a hash slot
// (one here, with a free slot), the queue's depth and the count of logins refused as busy.
TEST_F(RoutesTest, LoginsReportTheirHashWaitInMetrics) {
  auto value = [&](const std::string& name) {
    const std::string text = http().get("/metrics").body;
    const auto at = text.find("\n" + name + " ");
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + name.size() + 2));
  };
  EXPECT_EQ(value("authd_password_hash_wait_seconds_count"), 0.0) << "no hash yet";
  ASSERT_EQ(http().post("/login", kDemoLogin).status, 200);
  ASSERT_EQ(http().post("/login", R"({"email":"nobody@example.com","password":"x"})").status, 401);
  EXPECT_EQ(value("authd_password_hash_wait_seconds_count"), 2.0);
  EXPECT_EQ(value("authd_password_hash_wait_seconds_bucket{le=\"0.001\"}"), 2.0);
  EXPECT_EQ(value("authd_password_hash_rejected_total"), 0.0);
}

TEST_F(RoutesTest, WrongPasswordAndUnknownUserLookTheSame) {
  auto wrong = http().post("/login", R"({"email":"demo@example.com","password":"nope"})");
  auto unknown = http().post("/login", R"({"email":"nobody@example.com","password":"nope"})");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, wrong.status);
  EXPECT_EQ(unknown.body, wrong.body);
  EXPECT_EQ(body_of(wrong)["error"], "invalid_grant");
}

TEST_F(RoutesTest, MalformedLoginBodiesGet400) {
  for (const char* body :
       {"{", "[]", R"({"email":1,"password":"x"})", R"({"email":"demo@example.com"})", "",
        R"({"email":"demo@example.com","password":"x","cookie":"yes"})"}) {
    auto r = http().post("/login", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(body_of(r)["error"], "invalid_request") << body;
  }
}

// Bodies with duplicate members (the last one won) or a byte-order mark were accepted.
TEST_F(RoutesTest, DuplicateMembersOrAByteOrderMarkInABodyGet400) {
  for (const std::string& body :
       {std::string(R"({"email":"demo@example.com","password":"x","password":"demo-password"})"),
        "\xEF\xBB\xBF" + std::string(kDemoLogin)}) {
    auto r = http().post("/login", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(body_of(r)["error"], "invalid_request") << body;
  }
}

// A User-Agent cut mid-character at 256 bytes made GET /sessions answer 500.
TEST_F(RoutesTest, UserAgentCutInsideACharacterStillListsSessions) {
  std::string ua = "x";
  while (ua.size() < 300) ua += "\xE2\x82\xAC";  // byte 256 falls inside a euro sign
  auto r = http().post("/login", kDemoLogin,
                       {{"Content-Type", "application/json"}, {"User-Agent", ua + "\xFF"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto list = http().get("/sessions", bearer(body_of(r)));
  ASSERT_EQ(list.status, 200) << list.body;
  const auto got = body_of(list)["sessions"][0]["user_agent"].get<std::string>();
  EXPECT_EQ(got.size(), 256u);
  EXPECT_EQ(got, ua.substr(0, 256));
}

// This test verifies that a 429 names when to retry (Retry-After) and the policy that was hit
// (RateLimit-Policy, RateLimit), in an RFC 6749 body.
TEST_F(RoutesTest, RateLimitedLoginAnswers429WithRetryAfterAndRateLimit) {
  auto options = InProcessAuthd::Options{};
  options.settings.login_per_account = auth::Limit{60, 2};
  start(std::move(options));
  EXPECT_EQ(http().post("/login", kDemoLogin).status, 200);
  EXPECT_EQ(http().post("/login", kDemoLogin).status, 200);
  auto r = http().post("/login", kDemoLogin);
  ASSERT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(body_of(r)["error"], "rate_limited");
  EXPECT_EQ(r.header("Retry-After"), "1");
  EXPECT_EQ(r.header("RateLimit-Policy"), "2;w=2");
  EXPECT_EQ(r.header("RateLimit"), "limit=2, remaining=0, reset=1");
}

// This test verifies that a store failure answers 503 with Retry-After, that the response
// carries the store's message as its log cause for the transport's log, and that the client
// never sees it.
TEST_F(RoutesTest, StoreFailureIsA503WhoseCauseStaysOutOfTheBody) {
  authd_->users().fail_with(store::Error{store::Errc::kUnavailable, "pg-host-7 refused"});
  auto r = http().post("/login", kDemoLogin);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(body_of(r)["error"], "temporarily_unavailable");
  EXPECT_EQ(r.header("Retry-After"), "1");
  EXPECT_NE(r.log_cause.find("pg-host-7 refused"), std::string::npos) << r.log_cause;
  EXPECT_EQ(r.body.find("pg-host-7"), std::string::npos) << r.body;

  authd_->users().fail_with(store::Error{store::Errc::kInternal, "corrupt row 42"});
  auto internal = http().post("/login", kDemoLogin);
  EXPECT_EQ(internal.status, 500);
  EXPECT_NE(internal.log_cause.find("corrupt row 42"), std::string::npos);
  EXPECT_EQ(internal.body.find("corrupt row"), std::string::npos) << internal.body;

  authd_->users().fail_with(std::nullopt);
  auto ok = http().post("/login", kDemoLogin);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.log_cause, "");
}

// ---- /refresh and cookies ------------------------------------------------------------------

TEST_F(RoutesTest, RefreshRotatesAndReuseRevokesTheFamily) {
  auto t = login_ok();
  auto r1 = refresh(t["refresh_token"]);
  ASSERT_EQ(r1.status, 200) << r1.body;
  const auto t1 = body_of(r1);
  EXPECT_NE(t1["refresh_token"], t["refresh_token"]);
  EXPECT_EQ(r1.header("Cache-Control"), "no-store");
  // Inside the grace window the old token returns the same successor (two tabs).
  auto again = refresh(t["refresh_token"]);
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(body_of(again)["refresh_token"], t1["refresh_token"]);
  // Rotate the successor, then replay the original: its successor is no longer live -> reuse.
  auto r2 = refresh(t1["refresh_token"]);
  ASSERT_EQ(r2.status, 200);
  auto reuse = refresh(t["refresh_token"]);
  EXPECT_EQ(reuse.status, 401);
  EXPECT_EQ(body_of(reuse)["error"], "invalid_grant");
  EXPECT_EQ(refresh(body_of(r2)["refresh_token"]).status, 401) << "the whole family is revoked";
}

TEST_F(RoutesTest, RefreshRejectsMalformedBodies) {
  for (const char* body : {"{", R"({"refresh_token":5})", R"({"client_id":[]})"}) {
    auto r = http().post("/refresh", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(body_of(r)["error"], "invalid_request") << body;
  }
  auto no_token = http().post("/refresh", "");
  EXPECT_EQ(no_token.status, 400) << "no body and no cookie";
}

// This test verifies cookie mode: the refresh token only in an HttpOnly, Secure, SameSite=Strict
// __Host- cookie, and the CSRF rules of cookie requests (the header is required, an
// Origin is required, and it must be allowed by configuration or by the client).
TEST_F(RoutesTest, CookieModeSetsAStrictCookieAndNeedsOriginAndCsrfHeader) {
  auto r = http().post("/login",
                       R"({"email":"demo@example.com","password":"demo-password","cookie":true})",
                       {{"Content-Type", "application/json"}, {"Origin", kAppOrigin}});
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(body_of(r).contains("refresh_token")) << "cookie mode keeps the token out of JS";
  const std::string cookie(r.header("Set-Cookie"));
  EXPECT_EQ(cookie.substr(0, cookie.find('=')), "__Host-authd_refresh");
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("; Secure"), std::string::npos);
  EXPECT_NE(cookie.find("; SameSite=Strict"), std::string::npos);
  EXPECT_NE(cookie.find("; Path=/;"), std::string::npos);
  EXPECT_NE(cookie.find("; Max-Age=" + std::to_string(body_of(r)["refresh_expires_in"].get<int>())),
            std::string::npos);
  const auto pair = cookie.substr(0, cookie.find(';'));

  auto no_header = http().post("/refresh", "", {{"Cookie", pair}, {"Origin", kAppOrigin}});
  EXPECT_EQ(no_header.status, 403);
  EXPECT_EQ(body_of(no_header)["error"], "csrf_check_failed");
  auto bad_origin =
      http().post("/refresh", "",
                  {{"Cookie", pair}, {"Origin", "https://evil.example"}, {"X-Authd-CSRF", "1"}});
  EXPECT_EQ(bad_origin.status, 403);
  EXPECT_EQ(body_of(bad_origin)["error"], "csrf_check_failed");
  auto no_origin = http().post("/refresh", "", {{"Cookie", pair}, {"X-Authd-CSRF", "1"}});
  EXPECT_EQ(no_origin.status, 403);
  auto ok =
      http().post("/refresh", "",
                  {{"Cookie", "other=1; " + pair}, {"Origin", kAppOrigin}, {"X-Authd-CSRF", "1"}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_FALSE(body_of(ok).contains("refresh_token"));
  const std::string rotated(ok.header("Set-Cookie"));
  EXPECT_NE(rotated.substr(0, rotated.find(';')), pair) << "cookie rotated";

  // A cookie that is not a live token is refused, and cleared so the browser stops sending it.
  auto junk = http().post(
      "/refresh", "",
      {{"Cookie", "authd_refresh=junk"}, {"Origin", kAppOrigin}, {"X-Authd-CSRF", "1"}});
  EXPECT_EQ(junk.status, 401);
  EXPECT_NE(junk.header("Set-Cookie").find("__Host-authd_refresh=; Path=/; Max-Age=0"),
            std::string::npos)
      << junk.header("Set-Cookie");
}

// This test verifies that cookie-mode login is safe from login CSRF: a cross-site form or
// simple request (no JSON content type), a request without an Origin, or from an Origin not
// allowed is refused before the password is checked; an allowed JSON request signs in, and
// body mode (no cookie) stays open to API clients without an Origin.
TEST_F(RoutesTest, CookieModeLoginNeedsJsonAndAnAllowedOrigin) {
  const std::string body =
      R"({"email":"demo@example.com","password":"demo-password","cookie":true})";
  struct Case {
    const char* what;
    Headers headers;
  };
  const std::vector<Case> refused{
      {"a form post",
       {{"Content-Type", "application/x-www-form-urlencoded"}, {"Origin", kAppOrigin}}},
      {"text/plain", {{"Content-Type", "text/plain"}, {"Origin", kAppOrigin}}},
      {"no content type", {{"Origin", kAppOrigin}}},
      {"json-looking type", {{"Content-Type", "application/jsonx"}, {"Origin", kAppOrigin}}},
      {"no Origin", {{"Content-Type", "application/json"}}},
      {"a foreign Origin",
       {{"Content-Type", "application/json"}, {"Origin", "https://evil.example"}}},
      {"the null Origin", {{"Content-Type", "application/json"}, {"Origin", "null"}}},
  };
  for (const auto& c : refused) {
    auto r = http().post("/login", body, c.headers);
    EXPECT_EQ(r.status, 403) << c.what << ": " << r.body;
    EXPECT_EQ(body_of(r)["error"], "csrf_check_failed") << c.what;
    EXPECT_TRUE(r.header("Set-Cookie").empty()) << c.what;
  }
  auto ok =
      http().post("/login", body,
                  {{"Content-Type", "Application/JSON; charset=utf-8"}, {"Origin", kAppOrigin}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_FALSE(ok.header("Set-Cookie").empty());
  auto api = http().post("/login", kDemoLogin, {{"Content-Type", "application/json"}});
  EXPECT_EQ(api.status, 200) << "body mode needs no Origin: " << api.body;
}

// The cookie had Path=/refresh, so POST /logout never received it and could not end the
// session, and no __Host- prefix, so a subdomain could set or shadow it.
TEST_F(RoutesTest, LogoutReceivesTheRefreshCookieAndEndsTheSession) {
  auto r = http().post("/login",
                       R"({"email":"demo@example.com","password":"demo-password","cookie":true})",
                       {{"Content-Type", "application/json"}, {"Origin", kAppOrigin}});
  ASSERT_EQ(r.status, 200);
  const std::string cookie(r.header("Set-Cookie"));
  EXPECT_EQ(cookie.rfind("__Host-", 0), 0u);
  EXPECT_EQ(cookie.find("Domain"), std::string::npos);
  const auto pair = cookie.substr(0, cookie.find(';'));
  const Headers browser{{"Cookie", pair}, {"Origin", kAppOrigin}, {"X-Authd-CSRF", "1"}};
  auto out = http().post("/logout", "", browser);
  ASSERT_EQ(out.status, 200) << out.body;
  auto after = http().post("/refresh", "", browser);
  EXPECT_EQ(after.status, 401) << "the cookie's session ended at logout";
}

// A session opened before the rename still refreshes with its old cookie.
TEST_F(RoutesTest, TheLegacyRefreshCookieStillWorks) {
  auto r = http().post("/login", kDemoLogin);
  ASSERT_EQ(r.status, 200);
  const std::string legacy = "authd_refresh=" + body_of(r)["refresh_token"].get<std::string>();
  auto ok = http().post("/refresh", "",
                        {{"Cookie", legacy}, {"Origin", kAppOrigin}, {"X-Authd-CSRF", "1"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(RoutesTest, CookieOriginsMayComeFromTheClient) {
  auth::Client spa;
  spa.id = "spa";
  spa.grant_types = {"password", "refresh_token"};
  spa.allowed_origins = {"https://spa.example"};
  authd_->add_client(spa);
  auto r = http().post(
      "/login",
      R"({"email":"demo@example.com","password":"demo-password","client_id":"spa","cookie":true})",
      {{"Content-Type", "application/json"}, {"Origin", "https://spa.example"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string cookie(r.header("Set-Cookie"));
  const Headers h{{"Cookie", cookie.substr(0, cookie.find(';'))},
                  {"Origin", "https://spa.example"},
                  {"X-Authd-CSRF", "1"}};
  auto ok = http().post("/refresh", json{{"client_id", "spa"}}.dump(), h);
  EXPECT_EQ(ok.status, 200) << ok.body;
  auto other_client = http().post("/refresh", json{{"client_id", ""}}.dump(), h);
  EXPECT_EQ(other_client.status, 403) << "the default client does not allow that origin";
}

// ---- bearer routes -------------------------------------------------------------------------

TEST_F(RoutesTest, BearerRoutesSessionsAndLogout) {
  auto none = http().get("/sessions");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.header("WWW-Authenticate"), "Bearer realm=\"authd\"");
  EXPECT_EQ(body_of(none)["error"], "invalid_request");
  auto garbage = http().get("/sessions", {{"Authorization", "Bearer not-a-jwt"}});
  EXPECT_EQ(garbage.status, 401);
  EXPECT_EQ(garbage.header("WWW-Authenticate"), "Bearer realm=\"authd\", error=\"invalid_token\"");

  auto a = login_ok(), b = login_ok();
  auto list = http().get("/sessions", bearer(a));
  ASSERT_EQ(list.status, 200);
  auto sessions = body_of(list)["sessions"];
  ASSERT_EQ(sessions.size(), 2u);
  std::string other_id;
  for (const auto& s : sessions) {
    EXPECT_TRUE(s.contains("created_at") && s.contains("expires_at") && s.contains("client_id"));
    if (!s["current"].get<bool>()) other_id = s["id"];
  }
  ASSERT_FALSE(other_id.empty());
  auto del = http().request("DELETE", "/sessions/" + other_id, "", bearer(a));
  EXPECT_EQ(del.status, 204);
  EXPECT_EQ(refresh(b["refresh_token"]).status, 401) << "deleted session's refresh token is dead";
  auto missing = http().request("DELETE", "/sessions/" + other_id + "x", "", bearer(a));
  EXPECT_EQ(missing.status, 404);
  auto too_long = http().request("DELETE", "/sessions/" + std::string(65, 'a'), "", bearer(a));
  EXPECT_EQ(too_long.status, 400);

  auto out = http().post("/logout", "", bearer(a));
  ASSERT_EQ(out.status, 200);
  EXPECT_EQ(body_of(out)["status"], "logged_out");
  EXPECT_NE(out.header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  auto after = http().get("/sessions", bearer(a));
  EXPECT_EQ(after.status, 401) << "logout rejects the access token at once";
  EXPECT_NE(after.header("WWW-Authenticate").find("invalid_token"), std::string::npos);
}

TEST_F(RoutesTest, LogoutWithARefreshTokenEndsItsFamily) {
  auto t = login_ok();
  auto out = http().post("/logout", json{{"refresh_token", t["refresh_token"]}}.dump());
  EXPECT_EQ(out.status, 200) << out.body;
  EXPECT_EQ(refresh(t["refresh_token"]).status, 401);
  EXPECT_EQ(http().post("/logout", R"({"refresh_token":7})").status, 400);
}

TEST_F(RoutesTest, LogoutAllEndsEverySession) {
  auto a = login_ok(), b = login_ok();
  auto r = http().post("/logout/all", "", bearer(a));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r)["sessions_revoked"], 2);
  EXPECT_NE(r.header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(refresh(b["refresh_token"]).status, 401);
}

// ---- /oauth2/token -------------------------------------------------------------------------

// This test verifies the password and refresh_token grants of the token endpoint for the
// default public client: RFC 6749 §5.1 answers, no-store, and rotation as on /refresh.
TEST_F(RoutesTest, TokenEndpointPasswordAndRefreshGrants) {
  auto r =
      http().post("/oauth2/token",
                  "grant_type=password&username=demo%40example.com&password=demo-password", kForm);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  EXPECT_EQ(r.header("Pragma"), "no-cache");
  auto j = body_of(r);
  EXPECT_EQ(j["token_type"], "Bearer");
  EXPECT_EQ(claims_of(j["access_token"])["client_id"], "authd");
  const std::string rt = j["refresh_token"];

  auto r2 = http().post("/oauth2/token", "grant_type=refresh_token&refresh_token=" + rt, kForm);
  ASSERT_EQ(r2.status, 200) << r2.body;
  EXPECT_NE(body_of(r2)["refresh_token"], rt);

  auto wrong = http().post("/oauth2/token",
                           "grant_type=password&username=demo%40example.com&password=nope", kForm);
  EXPECT_EQ(wrong.status, 400) << "RFC 6749 §5.2: invalid_grant is a 400 at the token endpoint";
  EXPECT_EQ(body_of(wrong)["error"], "invalid_grant");
  EXPECT_EQ(wrong.header("Cache-Control"), "no-store");
}

// This test verifies the client_credentials grant for a confidential client (HTTP Basic or
// body credentials), its scopes, and that a wrong secret, an unknown client and a public
// client are refused with the right RFC 6749 errors.
TEST_F(RoutesTest, TokenEndpointClientCredentials) {
  add_billing_client();
  auto r = http().post("/oauth2/token", "grant_type=client_credentials&scope=invoices.read",
                       billing_basic());
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = body_of(r);
  EXPECT_FALSE(j.contains("refresh_token")) << "client_credentials issues no refresh token";
  EXPECT_EQ(j["scope"], "invoices.read");
  auto c = claims_of(j["access_token"]);
  EXPECT_EQ(c["sub"], "billing");
  EXPECT_EQ(c["client_id"], "billing");
  EXPECT_FALSE(c.contains("sid"));

  auto body_creds = http().post("/oauth2/token",
                                "grant_type=client_credentials&client_id=billing"
                                "&client_secret=billing-secret-0123456789",
                                kForm);
  EXPECT_EQ(body_creds.status, 200);
  EXPECT_EQ(body_of(body_creds)["scope"], "invoices.read invoices.write");

  auto bad_scope =
      http().post("/oauth2/token", "grant_type=client_credentials&scope=admin", billing_basic());
  EXPECT_EQ(bad_scope.status, 400);
  EXPECT_EQ(body_of(bad_scope)["error"], "invalid_scope");

  auto wrong = http().post("/oauth2/token", "grant_type=client_credentials",
                           billing_basic("wrong-secret-0123456789"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(body_of(wrong)["error"], "invalid_client");
  EXPECT_EQ(wrong.header("WWW-Authenticate"), "Basic realm=\"authd\"");
  Headers unknown_client = kForm;
  unknown_client["Authorization"] = basic("nobody", "wrong-secret-0123456789");
  auto unknown = http().post("/oauth2/token", "grant_type=client_credentials", unknown_client);
  EXPECT_EQ(unknown.body, wrong.body) << "unknown client and wrong secret look the same";

  auto public_client = http().post("/oauth2/token", "grant_type=client_credentials", kForm);
  EXPECT_EQ(public_client.status, 400);
  EXPECT_EQ(body_of(public_client)["error"], "unauthorized_client");
}

// This test verifies the client authentication rules of RFC 6749 §2.3.1 at all three OAuth
// endpoints: one method only, a malformed Basic header is invalid_client with a Basic
// challenge, body credentials get no challenge, and a confidential client must authenticate.
TEST_F(RoutesTest, OAuthClientAuthenticationRules) {
  add_billing_client();
  for (const char* path : {"/oauth2/token", "/oauth2/revoke", "/oauth2/introspect"}) {
    SCOPED_TRACE(path);
    const std::string grant = "grant_type=client_credentials&token=x";
    auto both = http().post(path, grant + "&client_secret=" + kBillingSecret, billing_basic());
    EXPECT_EQ(both.status, 400);
    EXPECT_EQ(body_of(both)["error"], "invalid_request");
    EXPECT_EQ(body_of(both)["error_description"], "Use one client authentication method.");
    auto other_id = http().post(path, grant + "&client_id=someone-else", billing_basic());
    EXPECT_EQ(other_id.status, 400) << "Basic and a different body client_id";
    auto same_id = http().post(path, grant + "&client_id=billing", billing_basic());
    EXPECT_EQ(same_id.status, 200) << "a body client_id equal to the Basic one is allowed";

    Headers malformed = kForm;
    malformed["Authorization"] = "Basic !!!not-base64";
    auto bad = http().post(path, grant, malformed);
    EXPECT_EQ(bad.status, 401);
    EXPECT_EQ(body_of(bad)["error"], "invalid_client");
    EXPECT_EQ(bad.header("WWW-Authenticate"), "Basic realm=\"authd\"");
    EXPECT_EQ(bad.header("Cache-Control"), "no-store");

    auto body_wrong =
        http().post(path, grant + "&client_id=billing&client_secret=wrong-secret-0123", kForm);
    EXPECT_EQ(body_wrong.status, 401);
    EXPECT_EQ(body_of(body_wrong)["error"], "invalid_client");
    EXPECT_TRUE(body_wrong.header("WWW-Authenticate").empty())
        << "no Basic challenge for body credentials";

    auto unauthenticated = http().post(path, grant + "&client_id=billing", kForm);
    EXPECT_EQ(unauthenticated.status, 401) << "a confidential client must present its secret";
  }
  // A public client must not present a secret.
  Headers public_with_secret = kForm;
  public_with_secret["Authorization"] = basic("authd", "some-secret");
  EXPECT_EQ(
      http().post("/oauth2/token", "grant_type=client_credentials", public_with_secret).status,
      401);
}

// This test verifies that malformed token requests get RFC 6749 §5.2 errors: the form content
// type (parameters allowed), no repeated or malformed parameters, and the grant's own fields.
TEST_F(RoutesTest, TokenEndpointRejectsMalformedRequests) {
  auto expect = [&](const std::string& body, const Headers& h, const std::string& error) {
    auto r = http().post("/oauth2/token", body, h);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(body_of(r)["error"], error) << body;
    EXPECT_EQ(r.header("Cache-Control"), "no-store") << body;
  };
  expect(R"({"grant_type":"password"})", {{"Content-Type", "application/json"}}, "invalid_request");
  expect("grant_type=password", {}, "invalid_request");
  expect("grant_type=password&grant_type=password", kForm, "invalid_request");
  expect("grant_type=bogus", kForm, "unsupported_grant_type");
  expect("username=x", kForm, "invalid_request");
  expect("grant_type=password&username=demo%4", kForm, "invalid_request");
  expect("grant_type=password&username=demo%40example.com", kForm, "invalid_request");
  expect("grant_type=refresh_token", kForm, "invalid_request");
  auto with_charset = http().post(
      "/oauth2/token", "grant_type=password&username=demo%40example.com&password=demo-password",
      {{"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"}});
  EXPECT_EQ(with_charset.status, 200) << with_charset.body;
}

// This test verifies the per-client limit of the token endpoint: 429 with Retry-After and the
// RateLimit headers once the client's burst is spent.
TEST_F(RoutesTest, TokenEndpointPerClientLimitAnswers429) {
  auto options = InProcessAuthd::Options{};
  options.settings.token_per_client = auth::Limit{60, 2};
  start(std::move(options));
  const std::string grant =
      "grant_type=password&username=demo%40example.com&password=demo-password";
  std::vector<int> statuses;
  Response last;
  for (int i = 0; i < 3; ++i) {
    last = http().post("/oauth2/token", grant, kForm);
    statuses.push_back(last.status);
  }
  EXPECT_EQ(statuses, (std::vector<int>{200, 200, 429}));
  EXPECT_EQ(body_of(last)["error"], "rate_limited");
  EXPECT_EQ(last.header("Retry-After"), "1");
  EXPECT_EQ(last.header("RateLimit-Policy"), "2;w=2");
  EXPECT_EQ(last.header("Cache-Control"), "no-store");
}

// This test verifies that a flood of made-up client ids from one address costs no password
// hash (authd_password_hashes_total, read from /metrics, stays 0) and is cut off by the per-IP
// limit of /oauth2/*, whatever the clients it names; a login afterwards moves the counter.
TEST_F(RoutesTest, AThousandRandomClientsFromOneAddressCostNoPasswordHashAndAreLimited) {
  auto hashes = [&] {
    const std::string text = http().get("/metrics").body;
    const std::string name = "\nauthd_password_hashes_total ";
    const auto at = text.find(name);
    return at == std::string::npos ? -1L : std::stol(text.substr(at + name.size()));
  };
  SystemRandom random;
  std::map<int, int> statuses;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = base64url::encode(random.bytes(12));
    const std::string secret = base64url::encode(random.bytes(32));
    Headers h = kForm;
    std::string body = "grant_type=client_credentials";
    if (i % 2 == 0)
      h["Authorization"] = basic(id, secret);
    else
      body += "&client_id=" + id + "&client_secret=" + secret;
    statuses[http().post("/oauth2/token", body, h).status]++;
  }
  EXPECT_EQ(hashes(), 0);
  EXPECT_EQ(statuses[401] + statuses[429], 1000);
  EXPECT_GE(statuses[401], 300) << "the burst of oauth_per_ip (300) is answered";
  EXPECT_LE(statuses[401], 400) << "the rest is limited per address";
  EXPECT_GE(statuses[429], 600);
  login_ok();
  EXPECT_EQ(hashes(), 1) << "the counter does count password hashes";
}

// This test verifies that a confidential client whose secret is a legacy Argon2id hash still
// gets tokens, and costs one password hash only the first time (the hash is then upgraded).
TEST_F(RoutesTest, LegacyClientSecretCostsOnePasswordHashThenNone) {
  auth::Client old;
  old.id = "old";
  old.grant_types = {"client_credentials"};
  authd_->add_client(old, "old-secret-0123456789", /*legacy_hash=*/true);
  Headers h = kForm;
  h["Authorization"] = basic("old", "old-secret-0123456789");
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(http().post("/oauth2/token", "grant_type=client_credentials", h).status, 200);
  const std::string text = http().get("/metrics").body;
  EXPECT_NE(text.find("\nauthd_password_hashes_total 1\n"), std::string::npos) << text;
}

// This test verifies the per-call policy parameters over HTTP: scope and resource on /login
// (JSON) and at the token endpoint (form: resource or audience, not both), with the RFC 8707
// invalid_target error for an audience the client may not ask for.
TEST_F(RoutesTest, ScopeAndResourceParameters) {
  auth::Client app;
  app.id = "app";
  app.grant_types = {"password", "refresh_token"};
  app.scopes = {"profile"};
  app.audiences = {"https://api.example.com"};
  app.access_ttl_seconds = 90;
  authd_->add_client(app);
  auto r = http().post("/login", json{{"email", "demo@example.com"},
                                      {"password", "demo-password"},
                                      {"client_id", "app"},
                                      {"scope", "openid profile"},
                                      {"resource", "https://api.example.com"}}
                                     .dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r)["scope"], "openid profile");
  EXPECT_EQ(body_of(r)["expires_in"], 90);
  EXPECT_EQ(claims_of(body_of(r)["access_token"])["aud"], "https://api.example.com");
  auto narrowed = http().post("/refresh", json{{"refresh_token", body_of(r)["refresh_token"]},
                                               {"client_id", "app"},
                                               {"scope", "openid"}}
                                              .dump());
  ASSERT_EQ(narrowed.status, 200) << narrowed.body;
  EXPECT_EQ(body_of(narrowed)["scope"], "openid");
  EXPECT_EQ(
      http().post("/login", R"({"email":"demo@example.com","password":"x","scope":7})").status,
      400);

  add_billing_client();
  const std::string cc = "grant_type=client_credentials&scope=invoices.read";
  auto bad =
      http().post("/oauth2/token", cc + "&resource=https%3A%2F%2Fevil.example", billing_basic());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(body_of(bad)["error"], "invalid_target");
  auto both = http().post("/oauth2/token", cc + "&resource=authd&audience=authd", billing_basic());
  EXPECT_EQ(both.status, 400);
  EXPECT_EQ(body_of(both)["error"], "invalid_request");
  auto own = http().post("/oauth2/token", cc + "&audience=authd", billing_basic());
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(claims_of(body_of(own)["access_token"])["aud"], "authd");
  auto pw = http().post("/oauth2/token",
                        "grant_type=password&username=demo%40example.com&password=demo-password"
                        "&client_id=app&scope=openid&resource=https%3A%2F%2Fapi.example.com",
                        kForm);
  ASSERT_EQ(pw.status, 200) << pw.body;
  EXPECT_EQ(body_of(pw)["scope"], "openid");
  EXPECT_EQ(claims_of(body_of(pw)["access_token"])["aud"], "https://api.example.com");
}

// This test verifies private_key_jwt at the token endpoint (RFC 7523 §2.2): a client
// assertion signed by the registered key gets a token, is accepted once only, and may not be
// combined with another authentication method.
TEST_F(RoutesTest, PrivateKeyJwtAtTheTokenEndpoint) {
  auto key = *jose::Key::generate(jose::Alg::ES256);
  auth::Client c;
  c.id = "jwt-svc";
  c.grant_types = {"client_credentials"};
  c.jwk = key->public_jwk().dump();
  authd_->add_client(c);
  const std::int64_t now = SystemClock().now_unix();
  const std::string jwt = *jose::sign(*key,
                                      {{"iss", "jwt-svc"},
                                       {"sub", "jwt-svc"},
                                       {"aud", "https://auth.test/oauth2/token"},
                                       {"iat", now},
                                       {"exp", now + 60},
                                       {"jti", "route-1"}},
                                      "JWT");
  const std::string body =
      "grant_type=client_credentials&client_assertion_type="
      "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=" +
      jwt;
  auto ok = http().post("/oauth2/token", body, kForm);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(claims_of(body_of(ok)["access_token"])["client_id"], "jwt-svc");
  auto replay = http().post("/oauth2/token", body, kForm);
  EXPECT_EQ(replay.status, 401);
  EXPECT_EQ(body_of(replay)["error"], "invalid_client");
  Headers with_basic = kForm;
  with_basic["Authorization"] = basic("jwt-svc", "x");
  auto two = http().post("/oauth2/token", body, with_basic);
  EXPECT_EQ(two.status, 400);
  EXPECT_EQ(body_of(two)["error"], "invalid_request");
}

// ---- /oauth2/introspect and /oauth2/revoke --------------------------------------------------

// This test verifies RFC 7662 introspection for a confidential client and RFC 7009
// revocation: an access token revoked by jti is inactive and refused by authd's own bearer
// routes at once, while its family goes on; a revoked refresh token ends its family; a client
// cannot revoke another client's token; introspection needs a confidential client.
TEST_F(RoutesTest, IntrospectionAndRevocation) {
  auth::Client api;
  api.id = "api";
  api.grant_types = {"client_credentials"};
  api.permissions = {auth::kPermissionIntrospect};
  authd_->add_client(api, "api-secret-0123456789ab");
  Headers api_auth = kForm;
  api_auth["Authorization"] = basic("api", "api-secret-0123456789ab");
  auto introspect = [&](const std::string& token) {
    auto r = http().post("/oauth2/introspect", "token=" + token, api_auth);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("Cache-Control"), "no-store");
    return r.status == 200 ? body_of(r) : json::object();
  };
  auto sessions_status = [&](const std::string& at) {
    return http().get("/sessions", {{"Authorization", "Bearer " + at}}).status;
  };

  auto t = login_ok();
  const std::string at = t["access_token"], rt = t["refresh_token"];
  auto info = introspect(at);
  EXPECT_EQ(info["active"], true);
  EXPECT_EQ(info["client_id"], "authd");
  EXPECT_EQ(info["token_type"], "Bearer");
  EXPECT_TRUE(info.contains("sub") && info.contains("exp") && info.contains("sid"));
  EXPECT_EQ(introspect("not-a-token"), json({{"active", false}}));
  EXPECT_EQ(introspect(rt), json({{"active", false}})) << "refresh tokens are not introspected";
  EXPECT_EQ(http().post("/oauth2/introspect", "token=" + at, kForm).status, 401);

  // Another client may not revoke it; its own (public) client may.
  auto foreign = http().post("/oauth2/revoke", "token=" + at, api_auth);
  EXPECT_EQ(foreign.status, 400);
  EXPECT_EQ(body_of(foreign)["error"], "unauthorized_client");
  EXPECT_EQ(introspect(at)["active"], true);
  auto missing = http().post("/oauth2/revoke", "token_type_hint=access_token", kForm);
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(body_of(missing)["error"], "invalid_request");
  auto revoked =
      http().post("/oauth2/revoke", "token=" + at + "&token_type_hint=access_token", kForm);
  EXPECT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(revoked.body, "");
  EXPECT_EQ(revoked.header("Cache-Control"), "no-store");
  EXPECT_EQ(introspect(at)["active"], false);
  EXPECT_EQ(sessions_status(at), 401) << "authd's own bearer check sees the jti revocation";
  EXPECT_EQ(http().post("/oauth2/revoke", "token=" + at, kForm).status, 200)
      << "revoking twice, or an unknown token, succeeds (RFC 7009 §2.2)";

  // The family lives on: a refresh gives a fresh, usable access token.
  auto r = refresh(rt);
  ASSERT_EQ(r.status, 200);
  auto t2 = body_of(r);
  EXPECT_EQ(sessions_status(t2["access_token"]), 200);

  // Revoking the refresh token ends the family and its access tokens.
  EXPECT_EQ(http()
                .post("/oauth2/revoke", "token=" + t2["refresh_token"].get<std::string>(), kForm)
                .status,
            200);
  EXPECT_EQ(refresh(t2["refresh_token"]).status, 401);
  EXPECT_EQ(introspect(t2["access_token"])["active"], false);

  // A client_credentials token is revoked by jti too.
  auto cc = http().post("/oauth2/token", "grant_type=client_credentials", api_auth);
  ASSERT_EQ(cc.status, 200) << cc.body;
  const std::string cat = body_of(cc)["access_token"];
  EXPECT_EQ(introspect(cat)["active"], true);
  EXPECT_EQ(introspect(cat)["sub"], "api");
  EXPECT_EQ(http().post("/oauth2/revoke", "token=" + cat, api_auth).status, 200);
  EXPECT_EQ(introspect(cat)["active"], false);
  EXPECT_EQ(sessions_status(cat), 401) << "client tokens never open the user routes";
}

// ---- client authentication: route × client type × method ------------------------------------

constexpr const char* kRsSecret = "rs-secret-0123456789abcdef";

class ClientMatrixTest : public RoutesTest {
 protected:
  void SetUp() override {
    RoutesTest::SetUp();
    auth::Client spa;  // public
    spa.id = "spa";
    spa.grant_types = {"password", "refresh_token"};
    authd_->add_client(spa);
    auth::Client web;  // confidential, no introspection
    web.id = "web";
    web.grant_types = {"password", "refresh_token", "client_credentials"};
    authd_->add_client(web, kWebSecret);
    auth::Client rs;  // a resource server: confidential, may introspect
    rs.id = "rs";
    rs.grant_types = {"client_credentials"};
    rs.permissions = {auth::kPermissionIntrospect};
    authd_->add_client(rs, kRsSecret);
    ASSERT_EQ(authd_->error(), "");
  }
  static Headers with_basic(Headers h, const std::string& id, const std::string& secret) {
    h["Authorization"] = basic(id, secret);
    return h;
  }
  static std::string login_body(const std::string& client_id) {
    json j = {{"email", "demo@example.com"}, {"password", "demo-password"}};
    if (!client_id.empty()) j["client_id"] = client_id;
    return j.dump();
  }
  static const Headers& json_headers() {
    static const Headers h{{"Content-Type", "application/json"}};
    return h;
  }
  /// Checks one cell of the matrix: its status and, for errors, its RFC 6749 code; a failed
  /// HTTP Basic authentication (a cell named "... basic ...") must carry the Basic challenge.
  static void expect(const std::string& cell, const Response& r, int status,
                     const std::string& error = "") {
    EXPECT_EQ(r.status, status) << cell << ": " << r.body;
    if (!error.empty()) {
      EXPECT_EQ(body_of(r)["error"], error) << cell;
    }
    if (error == "invalid_client" && cell.find("basic") != std::string::npos) {
      EXPECT_EQ(r.header("WWW-Authenticate"), "Basic realm=\"authd\"") << cell;
    }
  }
  std::string web_refresh_token() {
    auto r =
        http().post("/login", login_body("web"), with_basic(json_headers(), "web", kWebSecret));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? body_of(r)["refresh_token"].get<std::string>() : std::string();
  }
};

// This test verifies /login for every client type and authentication method: the default and
// a public client are named; a confidential client named without (or with a wrong) secret is
// 401 invalid_client, and succeeds with HTTP Basic; a public client may not present a secret.
TEST_F(ClientMatrixTest, LoginByClientTypeAndMethod) {
  const Headers& j = json_headers();
  expect("default, none", http().post("/login", login_body(""), j), 200);
  expect("public, named", http().post("/login", login_body("spa"), j), 200);
  expect("confidential, named only", http().post("/login", login_body("web"), j), 401,
         "invalid_client");
  expect("confidential, basic",
         http().post("/login", login_body(""), with_basic(j, "web", kWebSecret)), 200);
  expect("confidential, basic + same body id",
         http().post("/login", login_body("web"), with_basic(j, "web", kWebSecret)), 200);
  expect("confidential, basic + other body id",
         http().post("/login", login_body("spa"), with_basic(j, "web", kWebSecret)), 400,
         "invalid_request");
  expect("confidential, basic wrong secret",
         http().post("/login", login_body("web"), with_basic(j, "web", "wrong-secret-0123456789")),
         401, "invalid_client");
  expect("public, basic with a secret",
         http().post("/login", login_body("spa"), with_basic(j, "spa", "anything-at-all")), 401,
         "invalid_client");
  expect("unknown, named", http().post("/login", login_body("nobody"), j), 401, "invalid_client");
  auto issued = http().post("/login", login_body(""), with_basic(j, "web", kWebSecret));
  ASSERT_EQ(issued.status, 200);
  EXPECT_EQ(claims_of(body_of(issued)["access_token"])["client_id"], "web");
}

// This test verifies RFC 6749 §2.3.1: the client id and secret inside HTTP Basic are each
// form-encoded before base64, so a secret with '+', '%' and ':' (and an id with a space)
// authenticates when decoded; a client that sends them unencoded (python3-authlib 1.2 does)
// still matches as sent, and anything else is refused.
TEST_F(ClientMatrixTest, BasicCredentialsAreFormDecoded) {
  auth::Client odd;
  odd.id = "odd client";
  odd.grant_types = {"client_credentials"};
  const std::string secret = "s3cr+t%20with:colon+and%percent-0123456789";
  authd_->add_client(odd, secret);
  ASSERT_EQ(authd_->error(), "");
  const std::string encoded_id = "odd+client";
  const std::string encoded_secret = "s3cr%2Bt%2520with%3Acolon%2Band%25percent-0123456789";
  const std::string cc = "grant_type=client_credentials";
  auto ok = http().post("/oauth2/token", cc, with_basic(kForm, encoded_id, encoded_secret));
  expect("form-encoded id and secret", ok, 200);
  EXPECT_EQ(claims_of(body_of(ok)["access_token"])["client_id"], "odd client");
  expect("unencoded secret, as some clients send it",
         http().post("/oauth2/token", cc, with_basic(kForm, encoded_id, secret)), 200);
  expect("unencoded id and secret",
         http().post("/oauth2/token", cc, with_basic(kForm, "odd client", secret)), 200);
  expect("wrong secret, basic",
         http().post("/oauth2/token", cc, with_basic(kForm, encoded_id, secret + "x")), 401,
         "invalid_client");
  expect("malformed escape", http().post("/oauth2/token", cc, with_basic(kForm, "odd%2", "x")), 401,
         "invalid_client");
}

// This test verifies /refresh for every client type and method: a confidential client's refresh
// token does not rotate without the client's secret (and the refusal costs the family nothing),
// and rotates with it; a public client's token rotates when the client is named.
TEST_F(ClientMatrixTest, RefreshByClientTypeAndMethod) {
  const Headers& j = json_headers();
  auto spa = http().post("/login", login_body("spa"), j);
  ASSERT_EQ(spa.status, 200);
  expect(
      "public, named",
      http().post(
          "/refresh",
          json{{"refresh_token", body_of(spa)["refresh_token"]}, {"client_id", "spa"}}.dump(), j),
      200);
  expect("default, none", refresh(login_ok()["refresh_token"]), 200);

  const std::string rt = web_refresh_token();
  const std::string named = json{{"refresh_token", rt}, {"client_id", "web"}}.dump();
  const std::string unnamed = json{{"refresh_token", rt}}.dump();
  expect("confidential, named only", http().post("/refresh", named, j), 401, "invalid_client");
  expect("confidential, basic wrong secret",
         http().post("/refresh", unnamed, with_basic(j, "web", "wrong-secret-0123456789")), 401,
         "invalid_client");
  expect("confidential, basic", http().post("/refresh", unnamed, with_basic(j, "web", kWebSecret)),
         200);
}

// This test verifies the token endpoint's grants for every client type and method
// (client_secret_basic, client_secret_post, none), including those that must fail.
TEST_F(ClientMatrixTest, TokenEndpointByClientTypeAndMethod) {
  const std::string pw = "grant_type=password&username=demo%40example.com&password=demo-password";
  const std::string cc = "grant_type=client_credentials";
  const std::string post_web = std::string("&client_id=web&client_secret=") + kWebSecret;
  expect("password, default", http().post("/oauth2/token", pw, kForm), 200);
  expect("password, public named", http().post("/oauth2/token", pw + "&client_id=spa", kForm), 200);
  expect("password, confidential named only",
         http().post("/oauth2/token", pw + "&client_id=web", kForm), 401, "invalid_client");
  expect("password, confidential post", http().post("/oauth2/token", pw + post_web, kForm), 200);
  expect("password, confidential basic",
         http().post("/oauth2/token", pw, with_basic(kForm, "web", kWebSecret)), 200);
  expect("password, confidential basic wrong",
         http().post("/oauth2/token", pw, with_basic(kForm, "web", "wrong-secret-0123456789")), 401,
         "invalid_client");

  const std::string rt = web_refresh_token();
  expect("refresh, confidential named only",
         http().post("/oauth2/token", "grant_type=refresh_token&client_id=web&refresh_token=" + rt,
                     kForm),
         401, "invalid_client");
  expect("refresh, confidential basic",
         http().post("/oauth2/token", "grant_type=refresh_token&refresh_token=" + rt,
                     with_basic(kForm, "web", kWebSecret)),
         200);

  expect("client_credentials, default", http().post("/oauth2/token", cc, kForm), 400,
         "unauthorized_client");
  expect("client_credentials, public", http().post("/oauth2/token", cc + "&client_id=spa", kForm),
         400, "unauthorized_client");
  expect("client_credentials, confidential named only",
         http().post("/oauth2/token", cc + "&client_id=rs", kForm), 401, "invalid_client");
  expect("client_credentials, confidential post",
         http().post("/oauth2/token", cc + "&client_id=rs&client_secret=" + kRsSecret, kForm), 200);
  expect("client_credentials, confidential basic",
         http().post("/oauth2/token", cc, with_basic(kForm, "rs", kRsSecret)), 200);
}

// This test verifies that only a confidential client with the introspect permission may
// introspect, whatever it authenticates with, and that the others learn nothing of the token.
TEST_F(ClientMatrixTest, IntrospectionNeedsThePermission) {
  const std::string at = login_ok()["access_token"];
  const std::string token = "token=" + at;
  auto denied = [&](const std::string& cell, const Response& r, int status,
                    const std::string& error) {
    expect(cell, r, status, error);
    EXPECT_EQ(r.body.find("active"), std::string::npos) << cell << ": " << r.body;
  };
  denied("default, none", http().post("/oauth2/introspect", token, kForm), 401, "");
  denied("public, named", http().post("/oauth2/introspect", token + "&client_id=spa", kForm), 401,
         "");
  denied("confidential without permission, basic",
         http().post("/oauth2/introspect", token, with_basic(kForm, "web", kWebSecret)), 403,
         "access_denied");
  denied("confidential with permission, named only",
         http().post("/oauth2/introspect", token + "&client_id=rs", kForm), 401, "invalid_client");
  denied(
      "confidential with permission, basic wrong",
      http().post("/oauth2/introspect", token, with_basic(kForm, "rs", "wrong-secret-012345678")),
      401, "invalid_client");
  auto basic_ok = http().post("/oauth2/introspect", token, with_basic(kForm, "rs", kRsSecret));
  expect("confidential with permission, basic", basic_ok, 200);
  EXPECT_EQ(body_of(basic_ok)["active"], true);
  auto post_ok =
      http().post("/oauth2/introspect", token + "&client_id=rs&client_secret=" + kRsSecret, kForm);
  expect("confidential with permission, post", post_ok, 200);
  EXPECT_EQ(body_of(post_ok)["active"], true);
}

// This test verifies revocation by client type and method: a confidential client must
// authenticate to revoke its own token; the default public client names itself.
TEST_F(ClientMatrixTest, RevocationByClientTypeAndMethod) {
  const std::string rt = web_refresh_token();
  expect("confidential, named only",
         http().post("/oauth2/revoke", "client_id=web&token=" + rt, kForm), 401, "invalid_client");
  expect("confidential, basic",
         http().post("/oauth2/revoke", "token=" + rt, with_basic(kForm, "web", kWebSecret)), 200);
  expect("revoked token no longer refreshes",
         http().post("/refresh", json{{"refresh_token", rt}}.dump(),
                     with_basic(json_headers(), "web", kWebSecret)),
         401, "invalid_grant");
  const std::string own = login_ok()["refresh_token"];
  expect("default, none", http().post("/oauth2/revoke", "token=" + own, kForm), 200);
}

// ---- JWKS, admin, routing --------------------------------------------------------------------

TEST_F(RoutesTest, JwksHasETagCacheControlAnd304) {
  auto r = http().get("/.well-known/jwks.json");
  ASSERT_EQ(r.status, 200);
  const std::string etag(r.header("ETag"));
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(etag.front(), '"');
  EXPECT_EQ(r.header("Cache-Control"), "public, max-age=300, stale-while-revalidate=60");
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(body_of(r)["keys"].size(), 1u);

  for (const std::string& match : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    auto again = http().get("/.well-known/jwks.json", {{"If-None-Match", match}});
    EXPECT_EQ(again.status, 304) << match;
    EXPECT_TRUE(again.body.empty());
    EXPECT_EQ(again.header("ETag"), etag) << "a 304 repeats the validators";
    EXPECT_EQ(again.header("Cache-Control"), r.header("Cache-Control"));
  }
  auto other = http().get("/.well-known/jwks.json", {{"If-None-Match", "\"other\""}});
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.body, r.body);
}

// The route keeps each document's headers for the next answers: a new document (a key
// published or retired) is answered with its own validators and caching, not the kept ones.
TEST(JwksRouteTest, ANewDocumentIsAnsweredWithItsOwnValidators) {
  auto document = [](std::string etag, std::string cache_control) {
    return std::make_shared<const JwksDocument>(
        JwksDocument{std::make_shared<const std::string>(R"({"keys":[]})"), etag, cache_control});
  };
  std::shared_ptr<const JwksDocument> current = document("\"1\"", "public, max-age=300");
  Router router;
  add_jwks_route(router, [&current] { return current; });
  auto answer = [&router](std::vector<Header> headers = {}) {
    Request req;
    req.headers = std::move(headers);
    RequestContext ctx;
    return router.match("GET", "/.well-known/jwks.json").route->handler(req, ctx);
  };
  EXPECT_EQ(answer().header("ETag"), "\"1\"");
  current = document("\"2\"", "public, max-age=60");
  const Response changed = answer();
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(changed.header("ETag"), "\"2\"");
  EXPECT_EQ(changed.header("Cache-Control"), "public, max-age=60");
  EXPECT_EQ(answer({{"If-None-Match", "\"1\""}}).status, 200) << "the old ETag is stale";
  EXPECT_EQ(answer({{"If-None-Match", "\"2\""}}).status, 304);
}

TEST(JwksRouteTest, EtagMatchingFollowsRfc9110) {
  EXPECT_TRUE(etag_matches("\"a\"", "\"a\""));
  EXPECT_TRUE(etag_matches("W/\"a\"", "\"a\""));
  EXPECT_TRUE(etag_matches(" \"b\" ,  \"a\" ", "\"a\""));
  EXPECT_TRUE(etag_matches("*", "\"a\""));
  EXPECT_FALSE(etag_matches("\"b\"", "\"a\""));
  EXPECT_FALSE(etag_matches("", "\"a\""));
  EXPECT_FALSE(etag_matches("a", "\"a\""));
}

TEST_F(RoutesTest, HealthzReadyzAndMetrics) {
  auto h = http().get("/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.header("Content-Type"), "application/json");
  EXPECT_EQ(h.body, R"({"status":"ok"})");
  auto ready = http().get("/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, R"({"status":"ready"})");
  auto m = http().get("/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
}

// This test verifies that /readyz answers 503 with the first failing probe's status, in order,
// and 200 once every probe holds.
TEST(AdminRoutesTest, ReadyzReportsTheFirstFailingProbe) {
  std::optional<std::string> first, second = "store_unavailable";
  obs::Registry metrics;
  Router router;
  add_admin_routes(router, metrics, {[&] { return first; }, [&] { return second; }});
  testing::InlineExecutor executor;
  testing::InProcessHttp http(router, executor);
  auto r = http.get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, R"({"status":"store_unavailable"})");
  first = "draining";
  EXPECT_EQ(http.get("/readyz").body, R"({"status":"draining"})");
  first = second = std::nullopt;
  EXPECT_EQ(http.get("/readyz").status, 200);
  EXPECT_EQ(router.match("GET", "/readyz").route->dispatch, Dispatch::kInline)
      << "probes read cached state: the check must not queue behind (or wait with) store work";
}

TEST_F(RoutesTest, UnknownRouteIs404AndWrongMethodIs405WithAllow) {
  auto r = http().get("/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":"not_found","error_description":"No such route."})");
  r = http().post("/healthz", "");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow"), "GET");
  EXPECT_EQ(body_of(r)["error"], "method_not_allowed");
  r = http().get("/login");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow"), "POST");
  auto head = http().request("HEAD", "/healthz");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty()) << "HEAD is GET without the body";
}

}  // namespace
}  // namespace authd::http
