// Configuration as the daemon sees it: precedence across file, env and flags, and exit code 2
// with a message naming the key for every kind of bad configuration.

#include <gtest/gtest.h>

#include "support/http_client.h"
#include "support/process.h"

namespace authd {
namespace {

using namespace std::chrono_literals;
using testing::Process;
using testing::TempDir;

TEST(DaemonConfigTest, FileEnvAndFlagPrecedence) {
  TempDir dir;
  // The file asks for text logs and a port that would fail; env wins on format, flag on listen.
  dir.write("authd.yaml", "server:\n  listen: 127.0.0.1:1\nlog:\n  format: text\n  level: info\n");
  Process p(testing::authd_binary(),
            {"--dev", "--config", dir.file("authd.yaml"), "--listen", "127.0.0.1:0", "--data",
             dir.path()},
            {{"AUTHD_LOG_FORMAT", "json"}, {"AUTHD_SERVER_LISTEN", "127.0.0.1:2"}});
  auto port = p.wait_for_port("public");
  ASSERT_TRUE(port) << p.stdout_text() << p.stderr_text();
  EXPECT_NE(*port, 1);
  EXPECT_NE(*port, 2);
  EXPECT_EQ(p.stdout_text().rfind("{\"ts\":", 0), 0u) << "env should have switched logs to JSON";
  EXPECT_EQ(testing::http_get(*port, "/healthz")->status, 200);
}

struct BadStart {
  const char* name;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  std::string file;
  std::string expect;
};

void PrintTo(const BadStart& c, std::ostream* os) { *os << c.name; }

class DaemonBadConfigTest : public ::testing::TestWithParam<BadStart> {};

TEST_P(DaemonBadConfigTest, ExitsTwoNamingTheProblem) {
  const auto& c = GetParam();
  TempDir dir;
  std::vector<std::string> args = c.args;
  if (!c.file.empty()) {
    dir.write("authd.yaml", c.file);
    args.push_back("--config");
    args.push_back(dir.file("authd.yaml"));
  }
  args.push_back("--data");
  args.push_back(dir.path());
  Process p(testing::authd_binary(), args, c.env);
  EXPECT_EQ(p.wait(5s), 2);
  // Configuration errors go to stderr; errors found later at start-up are log lines.
  const std::string out = p.stderr_text() + p.stdout_text();
  EXPECT_NE(out.find(c.expect), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, DaemonBadConfigTest,
    ::testing::Values(
        BadStart{"BadEnvDuration",
                 {"--dev"},
                 {{"AUTHD_SERVER_READ_TIMEOUT", "soon"}},
                 "",
                 "server.read_timeout (from env AUTHD_SERVER_READ_TIMEOUT) = 'soon': must be a "
                 "duration"},
        BadStart{"BadFlagAddress",
                 {"--dev", "--listen", "nowhere"},
                 {},
                 "",
                 "server.listen (from command line)"},
        BadStart{"UnknownFlag", {"--dev", "--frobnicate"}, {}, "", "unknown option '--frobnicate'"},
        BadStart{
            "UnknownFileKey", {"--dev"}, {}, "server:\n  lisen: 1\n", "unknown key server.lisen"},
        BadStart{"MalformedFile", {"--dev"}, {}, "server: [\n", "line"},
        BadStart{"PlainHttpOnPublicAddress",
                 {"--dev", "--listen", "0.0.0.0:0"},
                 {},
                 "",
                 "TLS is required"},
        BadStart{"UnknownAuditSink",
                 {"--dev"},
                 {{"AUTHD_AUDIT_SINK", "syslog"}},
                 "",
                 "audit.sink (from env AUTHD_AUDIT_SINK) = 'syslog': must be one of off, stdout, "
                 "stderr, file"},
        BadStart{"AuditFileWithoutPath",
                 {"--dev"},
                 {},
                 "audit:\n  sink: file\n",
                 "audit.path is required when audit.sink = file"},
        BadStart{
            "RelativeAuditPath",
            {"--dev"},
            {{"AUTHD_AUDIT_SINK", "file"}, {"AUTHD_AUDIT_PATH", "audit.jsonl"}},
            "",
            "audit.path (from env AUTHD_AUDIT_PATH) = 'audit.jsonl': must be an absolute path"},
        BadStart{"MissingTlsKey",
                 {"--dev"},
                 {{"AUTHD_SERVER_TLS_CERT_FILE", "/etc/hostname"}},
                 "",
                 "server.tls_key_file"},
        BadStart{"RotationPeriodTooShort",
                 {"--dev"},
                 {{"AUTHD_KEYS_ROTATION_PERIOD", "1m"}},
                 "",
                 "keys.rotation_period"},
        BadStart{"UnreachablePepperFile",
                 {"--dev"},
                 {{"AUTHD_AUTH_PEPPER_FILE", "/nonexistent-authd-dir/pepper"}},
                 "",
                 "auth.pepper_file"},
        // /etc/hostname is world-readable: every secret file gets the key files' checks.
        BadStart{"WorldReadableStorePasswordFile",
                 {"--dev"},
                 {{"AUTHD_STORE_DRIVER", "postgres"},
                  {"AUTHD_STORE_URL", "postgresql://127.0.0.1:1/authd"},
                  {"AUTHD_STORE_PASSWORD_FILE", "/etc/hostname"}},
                 "",
                 "store.password_file /etc/hostname: permissions_too_open"},
        BadStart{"WorldReadableRedisPasswordFile",
                 {"--dev"},
                 {{"AUTHD_REDIS_URL", "redis://127.0.0.1:1"},
                  {"AUTHD_REDIS_PASSWORD_FILE", "/etc/hostname"}},
                 "",
                 "redis.password_file /etc/hostname: permissions_too_open"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(DaemonConfigTest, ListenFailureExitsOneWithReason) {
  TempDir dir;
  Process first(testing::authd_binary(), {"--dev", "--listen", "127.0.0.1:0", "--data", dir.path()},
                {{"AUTHD_LOG_FORMAT", "json"}});
  auto port = first.wait_for_port("public");
  ASSERT_TRUE(port);
  Process second(testing::authd_binary(),
                 {"--dev", "--listen", "127.0.0.1:" + std::to_string(*port), "--data", dir.path()},
                 {{"AUTHD_LOG_FORMAT", "json"}});
  EXPECT_EQ(second.wait(5s), 1);
  EXPECT_NE(second.stdout_text().find("server.listen_failed"), std::string::npos);
}

// The hosted login page is themed by one stylesheet and a logo that the daemon reads from the
// files the configuration names; a file it cannot read stops start-up, naming the path.
TEST(DaemonConfigTest, LoginPageStyleAndLogoComeFromTheConfiguredFiles) {
  TempDir dir;
  dir.write("brand.css", "body{background:#123456}");
  dir.write("logo.png", "\x89PNG-not-really");
  Process p(testing::authd_binary(), {"--dev", "--listen", "127.0.0.1:0", "--data", dir.path()},
            {{"AUTHD_LOG_FORMAT", "json"},
             {"AUTHD_AUTH_LOGIN_CSS_FILE", dir.file("brand.css")},
             {"AUTHD_AUTH_LOGO_FILE", dir.file("logo.png")}});
  auto port = p.wait_for_port("public");
  ASSERT_TRUE(port) << p.stdout_text() << p.stderr_text();
  auto css = testing::http_get(*port, "/oauth2/assets/login.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->status, 200);
  EXPECT_EQ(css->body, "body{background:#123456}");
  auto logo = testing::http_get(*port, "/oauth2/assets/logo");
  ASSERT_TRUE(logo);
  EXPECT_EQ(logo->status, 200);
  EXPECT_EQ(logo->header("content-type"), "image/png");
}

TEST(DaemonConfigTest, UnreadableLoginStyleStopsStartUpNamingTheFile) {
  TempDir dir;
  const std::string missing = dir.file("no-such.css");
  Process p(testing::authd_binary(), {"--dev", "--listen", "127.0.0.1:0", "--data", dir.path()},
            {{"AUTHD_LOG_FORMAT", "json"}, {"AUTHD_AUTH_LOGIN_CSS_FILE", missing}});
  EXPECT_EQ(p.wait(10s), 1);
  const std::string out = p.stdout_text() + p.stderr_text();
  EXPECT_NE(out.find("config.file_unreadable"), std::string::npos) << out;
  EXPECT_NE(out.find(missing), std::string::npos) << out;
}

}  // namespace
}  // namespace authd
