// The audit trail through the real routes: the events of a login → refresh → reuse → revocation
// sequence in order, each line valid JSON naming the request (the X-Request-Id of its answer),
// the client, the user, the address, and no token, password or client secret in any line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "support/in_process_http.h"
#include "support/oauth.h"

namespace authd::http {
namespace {

using nlohmann::json;
using testing::InProcessAuthd;
using testing::kWebSecret;
using Headers = testing::Headers;

/// One step of a sequence: the request id authd answered with, and the audit events (their
/// "event/outcome/reason") that request caused.
struct Step {
  std::string request_id;
  std::vector<std::string> events;
};

class AuditTrailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(authd_.error(), "");
    auth::Client web;  // confidential: its secret must never reach the trail
    web.id = "web";
    web.grant_types = {"password", "refresh_token"};
    authd_.add_client(web, kWebSecret);
    ASSERT_EQ(authd_.error(), "");
  }

  /// Sends a request, then returns the request id of its answer and the audit lines it added.
  std::pair<Response, Step> step(const std::string& path, const std::string& body,
                                 const Headers& headers = {}) {
    const std::size_t before = authd_.audit_lines().size();
    Response r = authd_.http().post(path, body, headers);
    Step s{std::string(r.header("X-Request-Id")), {}};
    const auto lines = authd_.audit_lines();
    for (std::size_t i = before; i < lines.size(); ++i) {
      all_.push_back(lines[i]);
      auto j = json::parse(lines[i], nullptr, false);
      if (j.is_discarded()) {
        ADD_FAILURE() << "not JSON: " << lines[i];
        continue;
      }
      EXPECT_EQ(j.value("request_id", ""), s.request_id) << lines[i];
      EXPECT_EQ(j.value("address", ""), "127.0.0.1") << lines[i];
      s.events.push_back(j.value("event", "") + "/" + j.value("outcome", "") + "/" +
                         j.value("reason", ""));
    }
    return {std::move(r), std::move(s)};
  }

  /// Every line written so far, checked for every secret of the sequence.
  void expect_no_secret(const std::vector<std::string>& secrets) {
    for (const auto& line : authd_.audit_lines())
      for (const auto& secret : secrets) {
        ASSERT_FALSE(secret.empty());
        EXPECT_EQ(line.find(secret), std::string::npos) << "a secret in: " << line;
      }
  }

  InProcessAuthd authd_;
  std::vector<std::string> all_;
};

// The README's sequence, with the built-in public client.
TEST_F(AuditTrailTest, LoginRefreshReuseRevocationInOrderWithoutSecrets) {
  const Headers j{{"Content-Type", "application/json"}};
  const auto [bad, bad_step] = step(
      "/login",
      json{{"email", InProcessAuthd::kDemoEmail}, {"password", "wrong-password-123"}}.dump(), j);
  EXPECT_EQ(bad.status, 401);
  const auto [r0, login] =
      step("/login",
           json{{"email", InProcessAuthd::kDemoEmail}, {"password", InProcessAuthd::kDemoPassword}}
               .dump(),
           j);
  ASSERT_EQ(r0.status, 200) << r0.body;
  const json t0 = json::parse(r0.body);
  const auto [r1, refresh1] =
      step("/refresh", json{{"refresh_token", t0["refresh_token"]}}.dump(), j);
  ASSERT_EQ(r1.status, 200) << r1.body;
  const json t1 = json::parse(r1.body);
  const auto [r2, refresh2] =
      step("/refresh", json{{"refresh_token", t1["refresh_token"]}}.dump(), j);
  ASSERT_EQ(r2.status, 200) << r2.body;
  const json t2 = json::parse(r2.body);
  // The first token again, after its successor was rotated: reuse, the family is revoked.
  const auto [r3, reuse] = step("/refresh", json{{"refresh_token", t0["refresh_token"]}}.dump(), j);
  EXPECT_EQ(r3.status, 401);

  EXPECT_EQ(bad_step.events, std::vector<std::string>{"login/failure/invalid_credentials"});
  EXPECT_EQ(login.events, std::vector<std::string>{"login/success/"});
  EXPECT_EQ(refresh1.events, std::vector<std::string>{"refresh/success/"});
  EXPECT_EQ(refresh2.events, std::vector<std::string>{"refresh/success/"});
  EXPECT_EQ(reuse.events, (std::vector<std::string>{"refresh.reuse_detected/failure/reuse_detected",
                                                    "session.revoked/success/refresh_reuse"}));
  // Each request has its own id, and every line of the session names its client, user and
  // session.
  const std::set<std::string> ids{bad_step.request_id, login.request_id, refresh1.request_id,
                                  refresh2.request_id, reuse.request_id};
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_FALSE(ids.count(""));
  ASSERT_EQ(all_.size(), 6u);
  const json first = json::parse(all_[1]);  // the login: its session is the family
  ASSERT_TRUE(first.contains("session_id") && first.contains("user_id")) << all_[1];
  for (std::size_t i = 0; i < all_.size(); ++i) {
    const auto e = json::parse(all_[i]);
    EXPECT_EQ(e["client_id"], "authd") << all_[i];
    if (i == 0) continue;  // the failed login names no user: unknown and wrong alike
    EXPECT_EQ(e["session_id"], first["session_id"]) << all_[i];
    EXPECT_EQ(e["user_id"], first["user_id"]) << all_[i];
  }
  std::vector<std::string> secrets{InProcessAuthd::kDemoPassword, "wrong-password-123"};
  for (const json* t : {&t0, &t1, &t2})
    for (const char* k : {"refresh_token", "access_token"})
      secrets.push_back((*t)[k].get<std::string>());
  expect_no_secret(secrets);

  // Counted per event type in /metrics.
  const std::string metrics = authd_.http().get("/metrics").body;
  for (const char* series :
       {R"(authd_audit_events_total{event="login",outcome="failure"} 1)",
        R"(authd_audit_events_total{event="login",outcome="success"} 1)",
        R"(authd_audit_events_total{event="refresh",outcome="success"} 2)",
        R"(authd_audit_events_total{event="refresh.reuse_detected",outcome="failure"} 1)",
        R"(authd_audit_events_total{event="session.revoked",outcome="success"} 1)"})
    EXPECT_NE(metrics.find(series), std::string::npos) << series << "\n" << metrics;
}

// The same sequence by a confidential client at the token endpoint: each request's client
// authentication is audited too, and neither the client secret nor the user's password nor a
// token reaches any line; the user's logout ends it.
TEST_F(AuditTrailTest, ConfidentialClientSequenceKeepsTheClientSecretOut) {
  const Headers form{{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Authorization", testing::basic("web", kWebSecret)}};
  Headers wrong = form;
  wrong["Authorization"] = testing::basic("web", "not-the-secret-42");
  const std::string pw = "grant_type=password&username=demo%40example.com&password=demo-password";
  const auto [bad, bad_client] = step("/oauth2/token", pw, wrong);
  EXPECT_EQ(bad.status, 401);
  const auto [r0, login] = step("/oauth2/token", pw, form);
  ASSERT_EQ(r0.status, 200) << r0.body;
  const json t0 = json::parse(r0.body);
  const std::string rt0 = t0["refresh_token"];
  const auto [r1, refresh] =
      step("/oauth2/token", "grant_type=refresh_token&refresh_token=" + rt0, form);
  ASSERT_EQ(r1.status, 200) << r1.body;
  const json t1 = json::parse(r1.body);
  const auto [r2, logout] =
      step("/logout", "", {{"Authorization", "Bearer " + t1["access_token"].get<std::string>()}});
  EXPECT_EQ(r2.status, 200) << r2.body;

  EXPECT_EQ(bad_client.events,
            std::vector<std::string>{"client.authenticated/failure/invalid_client"});
  EXPECT_EQ(login.events,
            (std::vector<std::string>{"client.authenticated/success/", "login/success/"}));
  EXPECT_EQ(refresh.events,
            (std::vector<std::string>{"client.authenticated/success/", "refresh/success/"}));
  EXPECT_EQ(logout.events, std::vector<std::string>{"logout/success/logout"});
  for (const auto& line : all_) EXPECT_EQ(json::parse(line)["client_id"], "web") << line;
  std::vector<std::string> secrets{kWebSecret, "not-the-secret-42", InProcessAuthd::kDemoPassword};
  for (const json* t : {&t0, &t1})
    for (const char* k : {"refresh_token", "access_token"})
      secrets.push_back((*t)[k].get<std::string>());
  expect_no_secret(secrets);
}

}  // namespace
}  // namespace authd::http
