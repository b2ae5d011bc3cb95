#include "authd/config/config.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <set>

#include "support/process.h"

namespace authd::config {
namespace {

using testing::TempDir;

Sources dev_sources() {
  Sources s;
  s.overrides["general.dev"] = "true";
  return s;
}

TEST(ConfigTest, DevDefaultsServeOnLoopbackWithSharedAdmin) {
  auto cfg = load(dev_sources());
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_TRUE(cfg->general.dev);
  EXPECT_EQ(cfg->server.listen.to_string(), "127.0.0.1:8080");
  EXPECT_FALSE(cfg->server.admin_listen.has_value());
  EXPECT_EQ(cfg->general.data_dir, "./authd-dev-data");
  EXPECT_EQ(cfg->log.format, LogFormat::kText);
  EXPECT_GT(cfg->server.threads, 0);
}

// Hash slots: one per usable core unless set; a bench or a small container sets them.
TEST(ConfigTest, HashThreadsDefaultToTheCoresAndCanBeSet) {
  auto cfg = load(dev_sources());
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->auth.hash_threads, 0u);
  Sources s = dev_sources();
  s.overrides["auth.hash_threads"] = "1";
  cfg = load(s);
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->auth.hash_threads, 1u);
  s.overrides["auth.hash_threads"] = "-1";
  EXPECT_FALSE(load(s));
}

TEST(ConfigTest, ProductionDefaultsRequireTls) {
  auto cfg = load(Sources{});
  ASSERT_FALSE(cfg);
  EXPECT_EQ(cfg.error().key, "server.listen");
  EXPECT_NE(cfg.error().message.find("TLS is required"), std::string::npos);
}

Sources production_sources() {
  Sources s;
  s.overrides["server.behind_tls_proxy"] = "true";
  s.overrides["store.url"] = "host=db dbname=authd";
  s.overrides["auth.pepper_file"] = "/run/secrets/pepper";
  s.overrides["keys.kek_file"] = "/run/secrets/kek";
  return s;
}

TEST(ConfigTest, ProductionNeedsStoreUrlPepperAndKek) {
  for (const char* key : {"store.url", "auth.pepper_file", "keys.kek_file"}) {
    Sources s = production_sources();
    s.overrides.erase(key);
    auto cfg = load(s);
    ASSERT_FALSE(cfg) << key;
    EXPECT_EQ(cfg.error().key, key);
  }
}

TEST(ConfigTest, DevPutsSecretsAndDatabaseInDataDir) {
  Sources s = dev_sources();
  s.overrides["general.data_dir"] = "/tmp/x";
  auto cfg = load(s);
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->store.driver, StoreDriver::kSqlite);
  EXPECT_EQ(cfg->store.sqlite_path, "/tmp/x/authd.db");
  EXPECT_EQ(cfg->auth.pepper_file, "/tmp/x/pepper");
  EXPECT_EQ(cfg->keys.kek_file, "/tmp/x/kek");
  EXPECT_TRUE(cfg->store.auto_migrate);
  EXPECT_TRUE(cfg->auth.demo_user);
}

TEST(ConfigTest, SecretValuesNeverAppearInErrors) {
  Sources s = production_sources();
  s.env["AUTHD_STORE_POOL_SIZE"] = "many";
  s.env["AUTHD_STORE_PASSWORD"] = "hunter2-secret";
  auto cfg = load(s);
  ASSERT_FALSE(cfg);
  EXPECT_EQ(cfg.error().message.find("hunter2"), std::string::npos);
}

TEST(ConfigTest, BehindTlsProxyAllowsPlainHttp) {
  Sources s = production_sources();
  auto cfg = load(s);
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->server.listen.to_string(), "0.0.0.0:8443");
  ASSERT_TRUE(cfg->server.admin_listen);
  EXPECT_EQ(cfg->server.admin_listen->to_string(), "0.0.0.0:9090");
  EXPECT_EQ(cfg->log.format, LogFormat::kJson);
}

TEST(ConfigTest, FlagBeatsEnvBeatsFileBeatsDefault) {
  TempDir dir;
  dir.write("authd.yaml",
            "general:\n  dev: true\n"
            "server:\n  max_body_bytes: 1KiB\n  idle_timeout: 5s\n  read_timeout: 3s\n"
            "log:\n  level: debug\n");
  Sources s;
  s.file = dir.file("authd.yaml");
  s.env["AUTHD_SERVER_IDLE_TIMEOUT"] = "7s";
  s.env["AUTHD_LOG_LEVEL"] = "warn";
  s.overrides["log.level"] = "error";
  auto cfg = load(s);
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->server.max_body_bytes, 1024u);       // file
  EXPECT_EQ(cfg->server.read_timeout, Millis(3000));  // file
  EXPECT_EQ(cfg->server.idle_timeout, Millis(7000));  // env over file
  EXPECT_EQ(cfg->log.level, "error");                 // flag over env and file
  EXPECT_EQ(cfg->server.max_header_bytes, 8192u);     // default
}

TEST(ConfigTest, ListsAcceptYamlSequencesAndCommaStrings) {
  TempDir dir;
  dir.write("a.yaml", "server:\n  trusted_proxies: [10.0.0.0/8, \"::1\"]\n");
  Sources s = dev_sources();
  s.file = dir.file("a.yaml");
  auto cfg = load(s);
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->server.trusted_proxies, (std::vector<std::string>{"10.0.0.0/8", "::1"}));
  s.env["AUTHD_SERVER_TRUSTED_PROXIES"] = "192.168.0.0/16, 127.0.0.1";
  cfg = load(s);
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->server.trusted_proxies, (std::vector<std::string>{"192.168.0.0/16", "127.0.0.1"}));
}

TEST(ConfigTest, LegacyTypAudiencesAreOffByDefaultAndListedByEnvOrFile) {
  TempDir dir;
  Sources s = dev_sources();
  auto cfg = load(s);
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_TRUE(cfg->auth.legacy_typ_audiences.empty()) << "every token is an at+jwt by default";
  s.env["AUTHD_AUTH_LEGACY_TYP_AUDIENCES"] = "https://legacy.example.com, billing";
  cfg = load(s);
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->auth.legacy_typ_audiences,
            (std::vector<std::string>{"https://legacy.example.com", "billing"}));
  s.env.clear();
  dir.write("a.yaml", "auth:\n  legacy_typ_audiences: [billing]\n");
  s.file = dir.file("a.yaml");
  cfg = load(s);
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->auth.legacy_typ_audiences, (std::vector<std::string>{"billing"}));
}

struct BadCase {
  const char* name;
  const char* key;
  const char* value;
  const char* expect_in_message;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name << "=" << c.value; }

class ConfigBadValueTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigBadValueTest, NamesKeyAndProblem) {
  const auto& c = GetParam();
  Sources s = std::string(c.key) == "general.dev" ? Sources{} : dev_sources();
  s.env[std::string("AUTHD_") + c.name] = c.value;
  auto cfg = load(s);
  ASSERT_FALSE(cfg) << c.key;
  EXPECT_EQ(cfg.error().key, c.key);
  EXPECT_NE(cfg.error().message.find(c.key), std::string::npos) << cfg.error().message;
  EXPECT_NE(cfg.error().message.find(std::string("AUTHD_") + c.name), std::string::npos)
      << cfg.error().message;
  EXPECT_NE(cfg.error().message.find(c.expect_in_message), std::string::npos)
      << cfg.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, ConfigBadValueTest,
    ::testing::Values(
        BadCase{"SERVER_LISTEN", "server.listen", "localhost", "HOST:PORT"},
        BadCase{"SERVER_LISTEN", "server.listen", "127.0.0.1:70000", "HOST:PORT"},
        BadCase{"SERVER_LISTEN", "server.listen", "::1:80", "HOST:PORT"},
        BadCase{"SERVER_READ_TIMEOUT", "server.read_timeout", "soon", "duration"},
        BadCase{"SERVER_READ_TIMEOUT", "server.read_timeout", "10", "duration"},
        BadCase{"SERVER_READ_TIMEOUT", "server.read_timeout", "20m", "between"},
        BadCase{"SERVER_MAX_BODY_BYTES", "server.max_body_bytes", "lots", "size"},
        BadCase{"SERVER_MAX_BODY_BYTES", "server.max_body_bytes", "1024MiB", "between"},
        BadCase{"SERVER_THREADS", "server.threads", "-1", "between"},
        BadCase{"SERVER_THREADS", "server.threads", "two", "integer"},
        BadCase{"SERVER_BEHIND_TLS_PROXY", "server.behind_tls_proxy", "maybe", "true or false"},
        BadCase{"LOG_FORMAT", "log.format", "xml", "json or text"},
        BadCase{"LOG_LEVEL", "log.level", "loud", "one of"},
        BadCase{"SERVER_TRUSTED_PROXIES", "server.trusted_proxies", "10.0.0.0/33", "CIDR"},
        BadCase{"LIMITS_LOGIN_PER_IP", "limits.login_per_ip", "60", "RATE/BURST"},
        BadCase{"LIMITS_LOGIN_PER_IP", "limits.login_per_ip", "0/5", "RATE/BURST"},
        BadCase{"LIMITS_LOGIN_WHEN_REDIS_DOWN", "limits.login_when_redis_down", "maybe",
                "local or closed"},
        BadCase{"LIMITS_FALLBACK_FACTOR", "limits.fallback_factor", "2", "(0, 1]"},
        BadCase{"KEYS_ALGORITHM", "keys.algorithm", "HS256", "ES256, RS256 or EdDSA"},
        BadCase{"AUTH_ACCESS_TTL", "auth.access_ttl", "1s", "between"},
        BadCase{"STORE_DRIVER", "store.driver", "mysql", "postgres or sqlite"},
        BadCase{"GENERAL_DEV", "general.dev", "perhaps", "true or false"}),
    [](const auto& info) {
      return std::string(info.param.name) + "_" + std::to_string(info.index);
    });

// This test verifies that a rotation period too short to publish a key for a whole JWKS
// cache lifetime before it signs stops start-up and names the key.
TEST(ConfigTest, RotationPeriodShorterThanPublishAheadIsRefused) {
  Sources s = dev_sources();
  s.env["AUTHD_KEYS_ROTATION_PERIOD"] = "5m";
  s.env["AUTHD_KEYS_JWKS_MAX_AGE"] = "5m";
  auto cfg = load(s);
  ASSERT_FALSE(cfg);
  EXPECT_EQ(cfg.error().key, "keys.rotation_period");
  EXPECT_NE(cfg.error().message.find("keys.jwks_max_age"), std::string::npos)
      << cfg.error().message;
  s.env["AUTHD_KEYS_ROTATION_PERIOD"] = "7m";  // 5m + 1m < the 10m verifier cache
  EXPECT_FALSE(load(s)) << "the default keys.verifier_cache (10m) sets the lead";
  s.env["AUTHD_KEYS_ROTATION_PERIOD"] = "11m";  // 10m + 30s + 1s fits
  EXPECT_TRUE(load(s)) << "a period just above the publish-ahead time is fine";
  s.env["AUTHD_KEYS_ROTATION_PERIOD"] = "7m";
  s.env["AUTHD_KEYS_VERIFIER_CACHE"] = "0s";  // 5m + 1m + 30s + 1s fits
  EXPECT_TRUE(load(s));
}

TEST(ConfigTest, UnknownFileKeyIsAnError) {
  TempDir dir;
  dir.write("a.yaml", "server:\n  listen_port: 8080\n");
  Sources s = dev_sources();
  s.file = dir.file("a.yaml");
  auto cfg = load(s);
  ASSERT_FALSE(cfg);
  EXPECT_EQ(cfg.error().key, "server.listen_port");
  EXPECT_NE(cfg.error().message.find("unknown key server.listen_port"), std::string::npos);
}

TEST(ConfigTest, MalformedYamlReportsLine) {
  TempDir dir;
  dir.write("a.yaml", "server:\n  listen: [unclosed\n  x: 1\n");
  Sources s = dev_sources();
  s.file = dir.file("a.yaml");
  auto cfg = load(s);
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.error().message.find("line "), std::string::npos) << cfg.error().message;
}

// Found by tests/fuzz/config_fuzz (its input is kept in corpus/config/): a mapping key that
// is not plain text made load(), which promises never to throw, throw from yaml-cpp.
TEST(ConfigTest, NonScalarYamlKeysAndListItemsAreErrorsNotExceptions) {
  TempDir dir;
  const std::pair<const char*, const char*> cases[] = {
      {"?\n:", ""},                                  // a null section name (the fuzzer's input)
      {"[a, b]: {}\n", ""},                          // a list as a section name
      {"server:\n  ? [listen]\n  : x\n", "server"},  // a list as a key
      {"server:\n  trusted_proxies: [[10.0.0.0/8]]\n", "server.trusted_proxies"},
      {"server:\n  trusted_proxies:\n    -\n", "server.trusted_proxies"},  // a null item
  };
  for (const auto& [yaml, key] : cases) {
    dir.write("a.yaml", yaml);
    Sources s = dev_sources();
    s.file = dir.file("a.yaml");
    Result<Config, Error> cfg = Config{};
    ASSERT_NO_THROW(cfg = load(s)) << yaml;
    ASSERT_FALSE(cfg) << yaml;
    EXPECT_EQ(cfg.error().key, key) << yaml;
    EXPECT_NE(cfg.error().message.find("configuration file"), std::string::npos) << yaml;
  }
}

TEST(ConfigTest, MissingFileIsAnError) {
  Sources s = dev_sources();
  s.file = "/nonexistent/authd.yaml";
  auto cfg = load(s);
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.error().message.find("cannot read configuration file /nonexistent/authd.yaml"),
            std::string::npos);
}

TEST(ConfigTest, UnknownOverrideKeyIsAnError) {
  Sources s = dev_sources();
  s.overrides["server.colour"] = "blue";
  auto cfg = load(s);
  ASSERT_FALSE(cfg);
  EXPECT_EQ(cfg.error().key, "server.colour");
}

TEST(ConfigTest, TlsCertNeedsKey) {
  TempDir dir;
  dir.write("cert.pem", "x");
  Sources s = dev_sources();
  s.overrides["server.tls_cert_file"] = dir.file("cert.pem");
  auto cfg = load(s);
  ASSERT_FALSE(cfg);
  EXPECT_EQ(cfg.error().key, "server.tls_key_file");
}

TEST(ConfigTest, UnreadableTlsFileIsAnError) {
  Sources s = dev_sources();
  s.overrides["server.tls_cert_file"] = "/nonexistent/cert.pem";
  s.overrides["server.tls_key_file"] = "/nonexistent/key.pem";
  auto cfg = load(s);
  ASSERT_FALSE(cfg);
  EXPECT_EQ(cfg.error().key, "server.tls_cert_file");
  EXPECT_NE(cfg.error().message.find("not readable"), std::string::npos);
}

TEST(ConfigTest, SharedAdminListenerWhenSameAddress) {
  Sources s = dev_sources();
  s.overrides["server.admin_listen"] = "127.0.0.1:8080";
  auto cfg = load(s);
  ASSERT_TRUE(cfg);
  EXPECT_FALSE(cfg->server.admin_listen);
  s.overrides["server.admin_listen"] = "127.0.0.1:9091";
  cfg = load(s);
  ASSERT_TRUE(cfg);
  ASSERT_TRUE(cfg->server.admin_listen);
  EXPECT_EQ(cfg->server.admin_listen->port, 9091);
}

TEST(ConfigTest, ParsesDurationsSizesEndpoints) {
  EXPECT_EQ(parse_duration("500ms"), Millis(500));
  EXPECT_EQ(parse_duration("2h"), Millis(7'200'000));
  EXPECT_FALSE(parse_duration("1.5s"));
  EXPECT_EQ(parse_size("16KiB"), 16384u);
  EXPECT_FALSE(parse_size("16kb"));
  auto e = parse_endpoint("[::1]:8080");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "::1");
  EXPECT_TRUE(e->is_loopback());
  EXPECT_EQ(e->to_string(), "[::1]:8080");
  EXPECT_FALSE(parse_endpoint("[::1]8080"));
  EXPECT_TRUE(parse_endpoint("127.9.9.9:1")->is_loopback());
  EXPECT_FALSE(parse_endpoint("10.0.0.1:1")->is_loopback());
}

// The documented example must list every key, with the real default, and load cleanly.
TEST(ConfigExampleTest, DocumentsEveryKeyWithItsDefault) {
  const std::string path = std::string(AUTHD_SOURCE_DIR) + "/config/authd.example.yaml";
  YAML::Node root = YAML::LoadFile(path);
  std::set<std::string> documented;
  for (const auto& section : root)
    for (const auto& kv : section.second) {
      const auto name = section.first.as<std::string>() + "." + kv.first.as<std::string>();
      documented.insert(name);
      for (const auto& k : keys()) {
        if (k.name != name) continue;
        std::string value;
        if (kv.second.IsSequence()) {
          for (const auto& i : kv.second) value += (value.empty() ? "" : ",") + i.as<std::string>();
        } else if (!kv.second.IsNull()) {
          value = kv.second.as<std::string>();
        }
        EXPECT_EQ(value, k.default_value) << name << " in the example differs from its default";
      }
    }
  std::set<std::string> known;
  for (const auto& k : keys()) known.insert(k.name);
  EXPECT_EQ(documented, known);

  Sources s = production_sources();
  s.file = path;
  auto cfg = load(s);
  EXPECT_TRUE(cfg) << cfg.error().message;
}

}  // namespace
}  // namespace authd::config
