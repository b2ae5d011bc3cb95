// authd::verify against a running authd: the default fetcher (real HTTP, discovery or the
// well-known path) fetches the daemon's real JWKS, tokens from /login verify, a tampered one
// does not, and a key rotated by authctl is picked up with no restart.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "authd/core/base64url.h"
#include "authd/verify/jwks_cache.h"
#include "authd/verify/verifier.h"
#include "support/eventually.h"
#include "support/http_client.h"
#include "support/process.h"

namespace authd {
namespace {

using namespace std::chrono_literals;
using testing::Process;
using testing::TempDir;

using testing::authctl_binary;

nlohmann::json segment(const std::string& token, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) start = token.find('.', start) + 1;
  const auto end = token.find('.', start);
  return nlohmann::json::parse(*base64url::decode(token.substr(start, end - start)));
}

class VerifyDaemonTest : public ::testing::Test {
 protected:
  std::map<std::string, std::string> env() const {
    return {{"AUTHD_KEYS_JWKS_MAX_AGE", "1s"},     {"AUTHD_KEYS_JWKS_STALE_WHILE_REVALIDATE", "0s"},
            {"AUTHD_KEYS_POLL_INTERVAL", "200ms"}, {"AUTHD_KEYS_VERIFIER_CACHE", "0s"},
            {"AUTHD_LOG_FORMAT", "json"},          {"AUTHD_LIMITS_ENABLED", "false"}};
  }
  void SetUp() override {
    authd_ = std::make_unique<Process>(
        testing::authd_binary(),
        std::vector<std::string>{"--dev", "--data", dir_.path(), "--listen", "127.0.0.1:0",
                                 "--admin-listen", "127.0.0.1:0"},
        env());
    auto p = authd_->wait_for_port("public");
    ASSERT_TRUE(p) << authd_->stdout_text() << authd_->stderr_text();
    port_ = *p;
  }
  std::string login() {
    testing::Connection c(port_);
    auto r =
        c.request("POST", "/login", R"({"email":"demo@example.com","password":"demo-password"})",
                  {{"Content-Type", "application/json"}});
    if (!r || r->status != 200) return "";
    return nlohmann::json::parse(r->body)["access_token"].get<std::string>();
  }

  TempDir dir_;
  std::unique_ptr<Process> authd_;
  int port_ = 0;
};

TEST_F(VerifyDaemonTest, RealFetcherVerifiesTokensAndFollowsARotation) {
  const std::string token = login();
  ASSERT_FALSE(token.empty());
  const std::string issuer = segment(token, 1)["iss"].get<std::string>();
  ASSERT_EQ(issuer, "http://127.0.0.1:" + std::to_string(port_));

  std::mutex mu;
  std::vector<std::string> events;
  verify::CacheOptions co;
  co.issuer = issuer;  // discovered, or the well-known JWKS path
  co.unknown_kid_cooldown = 1s;
  co.on_event = [&](const verify::CacheEventInfo& e) {
    std::lock_guard lock(mu);
    events.push_back(std::string(verify::to_string(e.event)) + " " + e.url + " " + e.detail);
  };
  auto keys = std::make_shared<verify::JwksCache>(co);
  verify::Options vo;
  vo.issuer = issuer;
  vo.audiences = {"authd"};
  verify::Verifier v(vo, keys);

  auto r = v.verify(token);
  ASSERT_TRUE(r) << verify::to_string(r.error()) << " " << ::testing::PrintToString(events);
  EXPECT_FALSE(r->sub.empty());
  EXPECT_FALSE(r->jti.empty());
  EXPECT_EQ(r->kid, segment(token, 0)["kid"].get<std::string>());
  EXPECT_EQ(keys->stats().fetched, 1u);

  std::string tampered = token;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(v.verify(tampered).error(), verify::Error::kBadSignature);

  // After max-age (1 s) the cache revalidates with the ETag: 304, same keys.
  std::this_thread::sleep_for(1100ms);
  EXPECT_TRUE(v.verify(token));
  EXPECT_EQ(keys->stats().not_modified, 1u) << ::testing::PrintToString(events);

  Process ctl(authctl_binary(), {"--dev", "--data", dir_.path(), "keys", "rotate"}, env());
  ASSERT_EQ(ctl.wait(20s), 0) << ctl.stdout_text() << ctl.stderr_text();
  const std::string first_kid = r->kid;
  std::string rotated;
  ASSERT_TRUE(testing::eventually(
      [&] {
        rotated = login();
        return !rotated.empty() && segment(rotated, 0)["kid"] != first_kid;
      },
      20s));
  auto r2 = v.verify(rotated);
  EXPECT_TRUE(r2) << verify::to_string(r2.error()) << " " << ::testing::PrintToString(events);
  EXPECT_NE(r2->kid, first_kid);
  EXPECT_TRUE(v.verify(token)) << "the old key stays published while its tokens live";
  EXPECT_EQ(keys->stats().failures, 0u) << ::testing::PrintToString(events);
}

TEST_F(VerifyDaemonTest, UnreachableIssuerGivesKeysUnavailable) {
  verify::CacheOptions co;
  co.jwks_uri = "http://127.0.0.1:1/.well-known/jwks.json";
  auto keys = std::make_shared<verify::JwksCache>(co);
  verify::Options vo;
  vo.issuer = "http://127.0.0.1:" + std::to_string(port_);
  verify::Verifier v(vo, keys);
  EXPECT_EQ(v.verify(login()).error(), verify::Error::kKeysUnavailable);
  EXPECT_EQ(keys->stats().failures, 1u);
}

TEST_F(VerifyDaemonTest, RealFetcherRefusesPlainHttpToANonLoopbackHost) {
  auto fetch = verify::https_fetcher();
  auto r = fetch("http://192.0.2.1/.well-known/jwks.json", {});
  EXPECT_NE(r.error.find("loopback"), std::string::npos) << r.error;
  EXPECT_FALSE(fetch("ftp://example.com/x", {}).error.empty());
}

}  // namespace
}  // namespace authd
