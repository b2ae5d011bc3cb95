// The audit trail of one login → refresh → reuse → revocation sequence through the real routes:
// the events in order, each line valid JSON, and no token, password or secret in any of them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/in_process_http.h"

namespace authd::http {
namespace {

using nlohmann::json;
using testing::InProcessAuthd;

TEST(AuditTrailTest, LoginRefreshReuseRevocationInOrderWithoutSecrets) {
  InProcessAuthd authd;
  ASSERT_EQ(authd.error(), "");
  auto& http = authd.http();
  const std::string login =
      json{{"email", InProcessAuthd::kDemoEmail}, {"password", InProcessAuthd::kDemoPassword}}
          .dump();
  EXPECT_EQ(http.post("/login", json{{"email", InProcessAuthd::kDemoEmail},
                                     {"password", "wrong-password-123"}}
                                    .dump())
                .status,
            401);
  auto r = http.post("/login", login);
  ASSERT_EQ(r.status, 200) << r.body;
  const json t0 = json::parse(r.body);
  auto r1 = http.post("/refresh", json{{"refresh_token", t0["refresh_token"]}}.dump());
  ASSERT_EQ(r1.status, 200) << r1.body;
  const json t1 = json::parse(r1.body);
  auto r2 = http.post("/refresh", json{{"refresh_token", t1["refresh_token"]}}.dump());
  ASSERT_EQ(r2.status, 200) << r2.body;
  const json t2 = json::parse(r2.body);
  // The first token again, outside its successor's grace: reuse, the family is revoked.
  EXPECT_EQ(http.post("/refresh", json{{"refresh_token", t0["refresh_token"]}}.dump()).status, 401);

  const auto lines = authd.audit_lines();
  std::vector<std::string> seen;
  std::string session;
  for (const auto& line : lines) {
    auto j = json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    EXPECT_EQ(j["log"], "audit");
    EXPECT_TRUE(j.contains("time"));
    seen.push_back(j["event"].get<std::string>() + "/" + j["outcome"].get<std::string>() + "/" +
                   j.value("reason", ""));
    if (j["event"] == "login" && j["outcome"] == "success") session = j["session_id"];
    for (const std::string& secret :
         {std::string(InProcessAuthd::kDemoPassword), std::string("wrong-password-123"),
          t0["refresh_token"].get<std::string>(), t1["refresh_token"].get<std::string>(),
          t2["refresh_token"].get<std::string>(), t0["access_token"].get<std::string>(),
          t1["access_token"].get<std::string>(), t2["access_token"].get<std::string>()})
      EXPECT_EQ(line.find(secret), std::string::npos) << line;
  }
  const std::vector<std::string> expected = {"login/failure/invalid_credentials",
                                             "login/success/",
                                             "refresh/success/",
                                             "refresh/success/",
                                             "refresh.reuse_detected/failure/reuse_detected",
                                             "session.revoked/success/refresh_reuse"};
  EXPECT_EQ(seen, expected);
  EXPECT_FALSE(session.empty());
  for (const auto& line : lines) {
    auto j = json::parse(line);
    if (j["event"] != "login" || j["outcome"] != "failure") {
      EXPECT_EQ(j["session_id"], session) << line;
    }
    EXPECT_EQ(j["client_id"], "authd") << line;
  }
}

TEST(AuditTrailTest, ClientAuthenticationFailureIsAuditedWithoutTheSecret) {
  InProcessAuthd authd;
  ASSERT_EQ(authd.error(), "");
  auth::Client c;
  c.id = "billing";
  c.grant_types = {"client_credentials"};
  c.scopes = {"invoices.read"};
  const std::string secret = "billing-secret-0123456789";
  authd.add_client(c, secret);
  ASSERT_EQ(authd.error(), "");
  auth::ClientAuthRequest wrong{.client_id = "billing", .client_secret = "not-the-secret-42"};
  EXPECT_FALSE(authd.service().authenticate_client(wrong));
  auth::ClientAuthRequest right{.client_id = "billing", .client_secret = secret};
  EXPECT_TRUE(authd.service().authenticate_client(right));
  std::vector<std::string> outcomes;
  for (const auto& line : authd.audit_lines()) {
    EXPECT_EQ(line.find(secret), std::string::npos) << line;
    EXPECT_EQ(line.find("not-the-secret-42"), std::string::npos) << line;
    auto j = json::parse(line);
    if (j["event"] == "client.authenticated") outcomes.push_back(j["outcome"]);
  }
  EXPECT_EQ(outcomes, (std::vector<std::string>{"failure", "success"}));
}

}  // namespace
}  // namespace authd::http
