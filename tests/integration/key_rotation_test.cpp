// Key rotation across replicas: two authd processes on one Postgres, rotations by authctl,
// and a resource-server verifier that caches the JWKS exactly as Cache-Control allows.

#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "authd/core/base64url.h"
#include "authd/crypto/password.h"
#include "authd/jose/jwks.h"
#include "authd/jose/jws.h"
#include "support/backends.h"
#include "support/http_client.h"
#include "support/process.h"

namespace authd {
namespace {

using namespace std::chrono_literals;
using testing::Process;
using testing::TempDir;

using testing::authctl_binary;

class KeyRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<testing::TestDatabase>(testing::Backend::kPostgres);
    ASSERT_TRUE(db_->ok()) << db_->error();
    ASSERT_EQ(
        std::system(("head -c32 /dev/urandom | base64 > " + dir_.file("kek") + " && chmod 600 " +
                     dir_.file("kek") + " && head -c32 /dev/urandom | base64 > " +
                     dir_.file("pepper") + " && chmod 600 " + dir_.file("pepper"))
                        .c_str()),
        0);
    auth::User u;
    u.id = "00000000-0000-4000-8000-000000000001";
    u.email = "rot@example.com";
    u.password_hash = *crypto::hash_password("rotation-pw", crypto::PasswordParams{1, 8 * 1024});
    ASSERT_TRUE(db_->db().users().create(u));
  }

  std::map<std::string, std::string> env(const std::string& kek = "") const {
    return {{"AUTHD_STORE_URL", db_->location()},
            {"AUTHD_AUTH_PEPPER_FILE", dir_.file("pepper")},
            {"AUTHD_KEYS_KEK_FILE", kek.empty() ? dir_.file("kek") : kek},
            {"AUTHD_KEYS_JWKS_MAX_AGE", "1s"},
            {"AUTHD_KEYS_JWKS_STALE_WHILE_REVALIDATE", "0s"},
            {"AUTHD_KEYS_POLL_INTERVAL", "200ms"},
            {"AUTHD_KEYS_VERIFIER_CACHE", "0s"},
            {"AUTHD_AUTH_ISSUER", "https://auth.test"},
            {"AUTHD_LOG_FORMAT", "json"},
            {"AUTHD_LOG_ACCESS_LOG", "false"},
            {"AUTHD_LIMITS_ENABLED", "false"}};
  }

  std::unique_ptr<Process> start_replica() {
    auto p = std::make_unique<Process>(
        testing::authd_binary(),
        std::vector<std::string>{"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"},
        env());
    return p;
  }

  // An operator's rotation. A replica's own rotation check may hold the lock at that moment;
  // authctl then says "try again", and the test does, as an operator would (seen under load).
  int rotate() {
    std::string out;
    for (int attempt = 0; attempt < 50; ++attempt) {
      Process ctl(authctl_binary(), {"keys", "rotate"}, env());
      auto rc = ctl.wait(20s);
      if (rc == 0) return 0;
      out = ctl.stdout_text() + ctl.stderr_text();
      if (out.find("holds the rotation lock") == std::string::npos) break;
      std::this_thread::sleep_for(100ms);  // pacing of the retry, not a wait for anything
    }
    ADD_FAILURE() << "authctl keys rotate failed: " << out;
    return -1;
  }

  std::string login(int port) {
    testing::Connection c(port);
    auto r = c.request("POST", "/login", R"({"email":"rot@example.com","password":"rotation-pw"})",
                       {{"Content-Type", "application/json"}});
    if (!r || r->status != 200) return "";
    return nlohmann::json::parse(r->body)["access_token"].get<std::string>();
  }

  static std::string kid_of(const std::string& token) {
    auto dot = token.find('.');
    auto header = nlohmann::json::parse(*base64url::decode(token.substr(0, dot)));
    return header["kid"].get<std::string>();
  }

  TempDir dir_;
  std::unique_ptr<testing::TestDatabase> db_;
};

TEST_F(KeyRotationTest, ReplicasConvergeAndCachingVerifierNeverMeetsUnknownKid) {
  auto a = start_replica();
  auto b = start_replica();
  auto pa = a->wait_for_port("public"), pb = b->wait_for_port("public");
  ASSERT_TRUE(pa && pb) << a->stdout_text() << b->stdout_text();
  const std::string first_kid = kid_of(login(*pa));
  EXPECT_EQ(kid_of(login(*pb)), first_kid) << "both replicas sign with the one bootstrapped key";

  // The verifier: fetches the JWKS from alternating replicas, keeps it for max-age seconds.
  std::optional<jose::Jwks> cached;
  auto cached_at = std::chrono::steady_clock::now();
  int max_age = 0, fetches = 0, verified = 0, unknown_kid = 0, other_failures = 0;
  std::set<std::string> kids_seen;
  auto verify = [&](const std::string& token, int jwks_port) {
    const auto now = std::chrono::steady_clock::now();
    if (!cached || now - cached_at >= std::chrono::seconds(max_age)) {
      auto r = testing::http_get(jwks_port, "/.well-known/jwks.json");
      ASSERT_TRUE(r && r->status == 200);
      std::smatch m;
      const auto cc = r->header("cache-control");
      ASSERT_TRUE(std::regex_search(cc, m, std::regex("max-age=([0-9]+)"))) << cc;
      max_age = std::stoi(m[1]);
      cached = *jose::Jwks::parse(r->body);
      cached_at = now;
      ++fetches;
    }
    jose::VerifyOptions opts;
    opts.issuer = "https://auth.test";
    auto v = jose::verify(token, *cached, std::time(nullptr), opts);
    if (v)
      ++verified;
    else if (v.error() == jose::Errc::UnknownKid)
      ++unknown_kid;
    else
      ++other_failures;
  };

  const auto t0 = std::chrono::steady_clock::now();
  int rotations = 0, i = 0;
  auto next_rotation = t0 + 1s;
  // Rotations 3.5 s apart: each new key signs 3 s after it is created (max-age 1 s + a poll
  // rounded up to 1 s + 1 s for whole-second timestamps), so none is still pending.
  while (rotations < 3 || std::chrono::steady_clock::now() < next_rotation + 3500ms) {
    const int issuer_port = (i % 2) ? *pa : *pb;
    const int jwks_port = (i % 2) ? *pb : *pa;
    ++i;
    auto token = login(issuer_port);
    ASSERT_FALSE(token.empty());
    kids_seen.insert(kid_of(token));
    verify(token, jwks_port);
    if (rotations < 3 && std::chrono::steady_clock::now() >= next_rotation) {
      ASSERT_EQ(rotate(), 0);
      ++rotations;
      next_rotation = std::chrono::steady_clock::now() + 3500ms;
    }
    std::this_thread::sleep_for(20ms);  // pacing of the client's logins, not a wait
    ASSERT_LT(std::chrono::steady_clock::now() - t0, 60s);
  }
  EXPECT_EQ(unknown_kid, 0);
  EXPECT_EQ(other_failures, 0);
  EXPECT_GT(verified, 50);
  EXPECT_GT(fetches, 3);
  EXPECT_EQ(kids_seen.size(), 4u) << "three rotations: four signing keys in turn";
  // Both replicas now sign with the same, newest key.
  EXPECT_EQ(kid_of(login(*pa)), kid_of(login(*pb)));
  EXPECT_NE(kid_of(login(*pa)), first_kid);
}

// This test verifies the schedule: with a short rotation period, the replicas rotate by
// themselves, each rotation is done by exactly one of them (the advisory lock), and both start
// signing with each new key within a poll interval of each other.
TEST_F(KeyRotationTest, ScheduledRotationRunsOnOneReplicaAndBothFollow) {
  auto e = env();
  e["AUTHD_KEYS_ROTATION_PERIOD"] = "3s";
  e["AUTHD_KEYS_POLL_INTERVAL"] = "1s";
  const std::vector<std::string> args{"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"};
  Process a(testing::authd_binary(), args, e), b(testing::authd_binary(), args, e);
  auto pa = a.wait_for_port("public"), pb = b.wait_for_port("public");
  auto aa = a.wait_for_port("admin"), ab = b.wait_for_port("admin");
  ASSERT_TRUE(pa && pb && aa && ab) << a.stdout_text() << a.stderr_text() << b.stderr_text();
  using Clock = std::chrono::steady_clock;
  std::map<std::string, std::map<int, Clock::time_point>> first_use;  // kid → port → time
  const auto t0 = Clock::now();
  while (Clock::now() - t0 < 11s) {
    for (int port : {*pa, *pb}) {
      auto token = login(port);
      ASSERT_FALSE(token.empty());
      first_use[kid_of(token)].emplace(port, Clock::now());
    }
    std::this_thread::sleep_for(20ms);  // pacing: the schedule runs in real time, we sample it
  }
  // Bootstrap key plus at least two scheduled rotations in 11 s with a 3 s period.
  ASSERT_GE(first_use.size(), 3u);
  auto rotations = [](int admin) {
    auto m = testing::http_get(admin, "/metrics");
    std::smatch match;
    if (!m || !std::regex_search(m->body, match, std::regex("authd_key_rotations_total ([0-9]+)")))
      return -1;
    return std::stoi(match[1]);
  };
  const int ra = rotations(*aa), rb = rotations(*ab);
  ASSERT_GE(ra, 0);
  ASSERT_GE(rb, 0);
  // Every key but the bootstrap one was created by exactly one replica (the bootstrap one by
  // the first to start, which counts it too); the keys still pending when we stopped add one.
  std::string seen;
  for (const auto& [kid, by_port] : first_use) {
    seen += "\n  " + kid.substr(0, 8) + ":";
    for (const auto& [port, at] : by_port)
      seen +=
          " " + std::to_string(port) + "@+" +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(at - t0).count());
  }
  SCOPED_TRACE("rotations " + std::to_string(ra) + "+" + std::to_string(rb) + seen);
  EXPECT_GE(ra + rb, static_cast<int>(first_use.size()) - 1);
  EXPECT_LE(ra + rb, static_cast<int>(first_use.size()) + 1) << "a rotation ran twice";
  for (const auto& [kid, by_port] : first_use) {
    if (by_port.size() < 2) continue;  // the last key may have reached only one replica yet
    const auto gap = std::chrono::abs(by_port.at(*pa) - by_port.at(*pb));
    EXPECT_LT(gap, 1200ms) << "replicas switched to " << kid << " "
                           << std::chrono::duration_cast<std::chrono::milliseconds>(gap).count()
                           << " ms apart";
  }
}

TEST_F(KeyRotationTest, WrongKekRefusesToStart) {
  auto a = start_replica();
  ASSERT_TRUE(a->wait_for_port("public")) << a->stdout_text();  // the first key now exists
  ASSERT_EQ(std::system(("head -c32 /dev/urandom | base64 > " + dir_.file("kek2") +
                         " && chmod 600 " + dir_.file("kek2"))
                            .c_str()),
            0);
  Process wrong(testing::authd_binary(),
                {"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"},
                env(dir_.file("kek2")));
  EXPECT_EQ(wrong.wait(15s), 1);
  EXPECT_NE(wrong.stdout_text().find("wrong KEK"), std::string::npos) << wrong.stdout_text();
}

TEST(SchemaTest, ReplicaRefusesUnmigratedSchemaUntilAuthdMigrate) {
  testing::TestDatabase fresh(testing::Backend::kPostgres, /*migrate=*/false);
  ASSERT_TRUE(fresh.ok()) << fresh.error();
  TempDir dir;
  ASSERT_EQ(std::system(("head -c32 /dev/urandom | base64 > " + dir.file("kek") + " && chmod 600 " +
                         dir.file("kek") + " && head -c32 /dev/urandom | base64 > " +
                         dir.file("pepper") + " && chmod 600 " + dir.file("pepper"))
                            .c_str()),
            0);
  const std::map<std::string, std::string> env{{"AUTHD_STORE_URL", fresh.location()},
                                               {"AUTHD_AUTH_PEPPER_FILE", dir.file("pepper")},
                                               {"AUTHD_KEYS_KEK_FILE", dir.file("kek")},
                                               {"AUTHD_LOG_FORMAT", "json"}};
  const std::vector<std::string> args{"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"};
  Process refused(testing::authd_binary(), args, env);
  EXPECT_EQ(refused.wait(15s), 1);
  EXPECT_NE(refused.stdout_text().find("authd migrate"), std::string::npos)
      << refused.stdout_text();

  Process migrate(testing::authd_binary(), {"migrate"}, env);
  EXPECT_EQ(migrate.wait(30s), 0) << migrate.stdout_text();
  Process again(testing::authd_binary(), {"migrate"}, env);
  EXPECT_EQ(again.wait(30s), 0) << "migrate is idempotent";

  Process ok(testing::authd_binary(), args, env);
  EXPECT_TRUE(ok.wait_for_port("public")) << ok.stdout_text();
}

}  // namespace
}  // namespace authd
