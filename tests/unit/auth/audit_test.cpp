// The audit line format: one valid JSON object per event, fields as documented, whatever bytes
// the identifiers carry.
#include "authd/auth/audit.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace authd::auth {
namespace {

TEST(AuditJsonTest, CarriesEveryDocumentedField) {
  AuditEvent e{.time = 1700000000,
               .type = "login",
               .outcome = "failure",
               .reason = "invalid_credentials",
               .request_id = "r-1",
               .client_id = "authd",
               .user_id = "u-1",
               .session_id = "s-1",
               .address = "192.0.2.7",
               .actor = "authctl",
               .key_id = "k-1"};
  const std::string line = audit_json(e);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["log"], "audit");
  EXPECT_EQ(j["time"], 1700000000);
  EXPECT_EQ(j["event"], "login");
  EXPECT_EQ(j["outcome"], "failure");
  EXPECT_EQ(j["reason"], "invalid_credentials");
  EXPECT_EQ(j["request_id"], "r-1");
  EXPECT_EQ(j["client_id"], "authd");
  EXPECT_EQ(j["user_id"], "u-1");
  EXPECT_EQ(j["session_id"], "s-1");
  EXPECT_EQ(j["address"], "192.0.2.7");
  EXPECT_EQ(j["actor"], "authctl");
  EXPECT_EQ(j["key_id"], "k-1");
}

TEST(AuditJsonTest, LeavesEmptyFieldsOutButNeverTypeOrOutcome) {
  auto j = nlohmann::json::parse(audit_json(AuditEvent{}));
  EXPECT_TRUE(j.contains("event"));
  EXPECT_TRUE(j.contains("outcome"));
  EXPECT_FALSE(j.contains("reason"));
  EXPECT_FALSE(j.contains("user_id"));
}

TEST(AuditJsonTest, IllFormedUtf8AndControlCharactersStillGiveValidJson) {
  AuditEvent e{.type = "client.authenticated", .outcome = "failure"};
  e.client_id = std::string("bad\xC3", 4) + "\"\n\x01}";
  const std::string line = audit_json(e);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = nlohmann::json::parse(line, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << line;
  EXPECT_EQ(j["client_id"], "bad\xEF\xBF\xBD\"\n\x01}");
}

}  // namespace
}  // namespace authd::auth
