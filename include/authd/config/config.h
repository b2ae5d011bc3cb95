#pragma once
// authd's configuration: one typed, validated, immutable value built once at start-up from
// defaults < file (YAML) < environment (AUTHD_<SECTION>_<KEY>) < command-line flags.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "authd/core/result.h"

namespace authd::config {

using Millis = std::chrono::milliseconds;

/// A host and port to listen on. IPv6 addresses are written "[::1]:8080".
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  std::string to_string() const;
  /// True for 127.0.0.0/8, ::1 and "localhost".
  bool is_loopback() const;
};

enum class LogFormat { kJson, kText };

struct GeneralConfig {
  bool dev = false;      ///< embedded dev mode: SQLite store, generated keys, demo user
  std::string data_dir;  ///< where dev mode keeps its files
};

struct ServerConfig {
  Endpoint listen;
  std::optional<Endpoint> admin_listen;  ///< unset: admin routes share the public listener (dev)
  int threads = 0;                       ///< io_context threads; 0 = one per core
  int worker_threads = 0;                ///< blocking work (hashing, database); 0 = 4 per core
  std::string tls_cert_file;
  std::string tls_key_file;
  Millis tls_ticket_rotation{3600000};  ///< session-ticket key life: encrypts 1×, opens 2×
  bool behind_tls_proxy = false;        ///< allow plain HTTP on a non-loopback address
  std::size_t max_connections = 10000;  ///< on the public listener
  std::size_t admin_max_connections = 64;
  std::size_t max_connections_per_address = 256;  ///< 0: no cap; trusted proxies are exempt
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_body_bytes = 16 * 1024;
  Millis first_byte_timeout{5000};  ///< a new connection's first request must start by then
  Millis read_timeout{10000};
  Millis idle_timeout{60000};
  Millis shutdown_grace{20000};
  std::vector<std::string> trusted_proxies;  ///< CIDRs whose X-Forwarded-For is believed
};

struct LogConfig {
  LogFormat format = LogFormat::kJson;
  std::string level = "info";
  bool access_log = true;
};

/// Where the audit trail goes (README: Audit trail). stdout: beside the log (authd's log
/// stream), each line marked "log":"audit", as Keycloak's and Hydra's audit events share their
/// server's log; stderr: a stream of its own without a file; file: appended to `path`.
enum class AuditSink { kOff, kStdout, kStderr, kFile };

struct AuditConfig {
  AuditSink sink = AuditSink::kStdout;
  std::string path;  ///< for kFile: an absolute path, opened for appending
};

enum class StoreDriver { kPostgres, kSqlite };

struct StoreConfig {
  StoreDriver driver = StoreDriver::kPostgres;
  std::string url;            ///< libpq conninfo or URL; may list several hosts
  std::string password_file;  ///< database password, read at start-up (secret)
  std::string password;       ///< from AUTHD_STORE_PASSWORD (secret; never logged)
  int pool_size = 16;
  Millis connect_timeout{3000};
  Millis statement_timeout{5000};
  Millis failover_wait{30000};       ///< how long a request waits for a writable primary
  int max_waiting = 1000;            ///< requests that may wait for it at once
  Millis purge_interval{300000};     ///< how often dead families are deleted
  Millis purge_retention{86400000};  ///< how long a dead family is kept (audit, reuse answers)
  std::string sqlite_path;           ///< dev store file; default <data_dir>/authd.db
  bool auto_migrate = false;         ///< apply migrations at start-up (dev); else `authd migrate`
};

struct AuthConfig {
  std::string issuer;  ///< "" = derived from the public listener
  std::string audience = "authd";
  Millis access_ttl{600000};
  Millis session_absolute{30LL * 86400 * 1000};
  Millis session_idle{7LL * 86400 * 1000};
  Millis leeway{30000};
  std::uint64_t argon2_ops = 2;
  std::size_t argon2_memory = 19 * 1024 * 1024;
  /// Password hashes that run at once; 0 = one per usable core.
  unsigned hash_threads = 0;
  /// Password hashes that may wait for a hash slot, in order of arrival; more get 503.
  std::size_t hash_queue = 64;
  std::string pepper_file;  ///< keyed-hash pepper for refresh tokens (secret); dev: generated
  std::vector<std::string> cookie_origins;
  /// Audiences whose access tokens carry `typ: JWT` instead of `at+jwt` (legacy verifiers).
  std::vector<std::string> legacy_typ_audiences;
  bool demo_user = false;      ///< create demo@example.com on first start (dev)
  std::string login_css_file;  ///< the hosted login page's stylesheet; "" = built in
  std::string logo_file;       ///< its logo (.svg or .png); "" = none
  Millis browser_session{12LL * 3600 * 1000};  ///< an authd sign-in in a browser lasts this
  /// private_key_jwt clients with a jwks_uri: the bound of one fetch of their JWK Set.
  Millis client_jwks_timeout{2000};
  /// Allow http:// jwks_uri on loopback hosts (tests, development); else https only.
  bool client_jwks_allow_loopback_http = false;
};

struct KeysConfig {
  std::string kek_file;  ///< key-encryption key (secret); dev: generated in data_dir
  std::string algorithm = "ES256";
  std::string id_token_algorithm = "RS256";
  Millis rotation_period{30LL * 86400 * 1000};
  Millis jwks_max_age{300000};
  Millis jwks_stale_while_revalidate{60000};
  Millis poll_interval{30000};
  /// The longest JWKS cache among the resource servers' verifiers that ignore Cache-Control
  /// or never refetch on an unknown kid (Envoy jwt_authn: 600 s); new keys are published at
  /// least this long (plus a poll) before they sign.
  Millis verifier_cache{600000};
};

struct RedisConfig {
  std::string url;  ///< "" = no Redis: in-process limits, revocation checks in the store
  std::string password_file;
  Millis command_timeout{100};
};

/// A rate: `per_minute` requests refilling a bucket of `burst`. Written "RATE/BURST".
struct RateConfig {
  std::int64_t per_minute = 60;
  std::int64_t burst = 10;
};

enum class RedisDownPolicy { kLocal, kClosed };

struct LimitsConfig {
  bool enabled = true;
  RateConfig login_per_ip{60, 20};
  RateConfig login_per_account{120, 60};
  RateConfig login_failures{2, 5};
  RateConfig refresh_per_ip{600, 100};
  RateConfig refresh_per_family{30, 10};
  RateConfig token_per_client{600, 100};
  RateConfig oauth_per_ip{1200, 300};
  RedisDownPolicy login_when_redis_down = RedisDownPolicy::kLocal;
  RedisDownPolicy refresh_when_redis_down = RedisDownPolicy::kLocal;
  double fallback_factor = 0.5;
};

/// The whole configuration. Components receive only their own section.
struct Config {
  GeneralConfig general;
  ServerConfig server;
  LogConfig log;
  AuditConfig audit;
  StoreConfig store;
  AuthConfig auth;
  KeysConfig keys;
  RedisConfig redis;
  LimitsConfig limits;
};

/// A configuration error: which key, and a message safe to print (never a secret value).
struct Error {
  std::string key;      ///< "server.listen", or "" when the error is not about one key
  std::string message;  ///< names the key and what is wrong
};

/// Where raw settings come from. Keys are "section.key".
struct Sources {
  std::optional<std::string> file;               ///< path of a YAML file
  std::map<std::string, std::string> env;        ///< the process environment (AUTHD_* used)
  std::map<std::string, std::string> overrides;  ///< from flags, highest precedence
};

/// Loads, merges and validates. Never throws.
Result<Config, Error> load(const Sources& sources);

/// Documentation of one key, for `authd config keys` and the example-file test.
struct KeyInfo {
  std::string name;           ///< "server.listen"
  std::string env;            ///< "AUTHD_SERVER_LISTEN"
  std::string default_value;  ///< production default ("" = unset)
  std::string dev_default;    ///< default under --dev when it differs
  std::string help;
  bool secret = false;
};
const std::vector<KeyInfo>& keys();

/// Reads the process environment into a map (only AUTHD_* variables).
std::map<std::string, std::string> process_env();

/// Parses "500ms", "10s", "5m", "2h", "7d". Exposed for tests and other modules.
std::optional<Millis> parse_duration(const std::string& text);
/// Parses "4096", "16KiB", "1MiB".
std::optional<std::size_t> parse_size(const std::string& text);
std::optional<Endpoint> parse_endpoint(const std::string& text);

}  // namespace authd::config
