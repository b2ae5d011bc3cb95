#include "authd/config/config.h"

#include <arpa/inet.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <utility>

#include "authd/core/cores.h"

extern char** environ;

namespace authd::config {
namespace {

struct Raw {
  std::string value;
  std::string origin;  // "default", "file F", "env AUTHD_X", "flag"
};

using Apply = std::function<std::optional<std::string>(Config&, const std::string&)>;

struct Field {
  KeyInfo info;
  Apply apply;  // returns an error description, or nullopt
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string env_name(const std::string& key) {
  std::string s = "AUTHD_";
  for (char c : key)
    s.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return s;
}

std::optional<bool> parse_bool(const std::string& t) {
  const auto s = lower(t);
  if (s == "true" || s == "yes" || s == "on" || s == "1") return true;
  if (s == "false" || s == "no" || s == "off" || s == "0") return false;
  return std::nullopt;
}

std::optional<long long> parse_int(const std::string& t) {
  long long v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size() || t.empty()) return std::nullopt;
  return v;
}

std::vector<std::string> split_list(const std::string& t) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    auto b = cur.find_first_not_of(" \t");
    auto e = cur.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
    cur.clear();
  };
  for (char c : t) {
    if (c == ',')
      flush();
    else
      cur.push_back(c);
  }
  flush();
  return out;
}

bool valid_cidr(const std::string& s) {
  auto slash = s.find('/');
  std::string addr = s.substr(0, slash);
  unsigned char buf[16];
  int family = addr.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (inet_pton(family, addr.c_str(), buf) != 1) return false;
  if (slash == std::string::npos) return true;
  auto bits = parse_int(s.substr(slash + 1));
  return bits && *bits >= 0 && *bits <= (family == AF_INET ? 32 : 128);
}

// Helpers that build Apply functions for each value type.

template <class Setter>
Apply boolean(Setter set) {
  return [set](Config& c, const std::string& v) -> std::optional<std::string> {
    auto b = parse_bool(v);
    if (!b) return "must be true or false";
    set(c, *b);
    return std::nullopt;
  };
}

template <class Setter>
Apply integer(long long min, long long max, Setter set) {
  return [=](Config& c, const std::string& v) -> std::optional<std::string> {
    auto i = parse_int(v);
    if (!i) return "must be an integer";
    if (*i < min || *i > max)
      return "must be between " + std::to_string(min) + " and " + std::to_string(max);
    set(c, *i);
    return std::nullopt;
  };
}

template <class Setter>
Apply size(std::size_t min, std::size_t max, Setter set) {
  return [=](Config& c, const std::string& v) -> std::optional<std::string> {
    auto s = parse_size(v);
    if (!s) return "must be a size such as 16384, 16KiB or 1MiB";
    if (*s < min || *s > max)
      return "must be between " + std::to_string(min) + " and " + std::to_string(max) + " bytes";
    set(c, *s);
    return std::nullopt;
  };
}

template <class Setter>
Apply duration(Millis min, Millis max, Setter set) {
  return [=](Config& c, const std::string& v) -> std::optional<std::string> {
    auto d = parse_duration(v);
    if (!d) return "must be a duration such as 500ms, 10s, 5m, 2h or 7d";
    if (*d < min || *d > max)
      return "must be between " + std::to_string(min.count()) + "ms and " +
             std::to_string(max.count()) + "ms";
    set(c, *d);
    return std::nullopt;
  };
}

template <class Setter>
Apply text(Setter set) {
  return [=](Config& c, const std::string& v) -> std::optional<std::string> {
    set(c, v);
    return std::nullopt;
  };
}

// A JWS algorithm authd can generate keys for.
template <class Setter>
Apply signing_algorithm(Setter set) {
  return [=](Config& c, const std::string& v) -> std::optional<std::string> {
    if (v != "ES256" && v != "RS256" && v != "EdDSA") return "must be ES256, RS256 or EdDSA";
    set(c, v);
    return std::nullopt;
  };
}

template <class Setter>
Apply endpoint(bool optional, Setter set) {
  return [=](Config& c, const std::string& v) -> std::optional<std::string> {
    if (optional && (v.empty() || v == "shared")) return std::nullopt;
    auto e = parse_endpoint(v);
    if (!e) return "must be HOST:PORT, e.g. 0.0.0.0:8443 or [::1]:8080";
    set(c, *e);
    return std::nullopt;
  };
}

const std::vector<Field>& fields() {
  using M = Millis;
  static const std::vector<Field> kFields = [] {
    std::vector<Field> f;
    auto add = [&](std::string name, std::string def, std::string dev_def, std::string help,
                   Apply a, bool secret = false) {
      KeyInfo k{name, env_name(name), def, dev_def, std::move(help), secret};
      f.push_back(Field{std::move(k), std::move(a)});
    };
    add("general.dev", "false", "true",
        "Embedded dev mode: SQLite store, generated keys, demo user, readable logs.",
        boolean([](Config& c, bool v) { c.general.dev = v; }));
    add("general.data_dir", "/var/lib/authd", "./authd-dev-data",
        "Directory for local files (dev-mode database, generated secrets).",
        text([](Config& c, const std::string& v) { c.general.data_dir = v; }));

    add("server.listen", "0.0.0.0:8443", "127.0.0.1:8080", "Public listener address.",
        endpoint(false, [](Config& c, Endpoint e) { c.server.listen = e; }));
    add("server.admin_listen", "0.0.0.0:9090", "shared",
        "Admin listener (/healthz, /readyz, /metrics), plain HTTP. 'shared': on the public "
        "listener.",
        endpoint(true, [](Config& c, Endpoint e) { c.server.admin_listen = e; }));
    add("server.threads", "0", "", "I/O threads; 0 means one per CPU core.",
        integer(0, 256, [](Config& c, long long v) { c.server.threads = static_cast<int>(v); }));
    add("server.worker_threads", "0", "",
        "Threads for blocking work (password hashing, database); 0 means four per core.",
        integer(0, 1024,
                [](Config& c, long long v) { c.server.worker_threads = static_cast<int>(v); }));
    add("server.tls_cert_file", "", "", "PEM certificate chain; reloaded on SIGHUP.",
        text([](Config& c, const std::string& v) { c.server.tls_cert_file = v; }));
    add("server.tls_key_file", "", "", "PEM private key for the certificate; reloaded on SIGHUP.",
        text([](Config& c, const std::string& v) { c.server.tls_key_file = v; }));
    add("server.behind_tls_proxy", "false", "",
        "Serve plain HTTP on a non-loopback address because a balancer terminates TLS.",
        boolean([](Config& c, bool v) { c.server.behind_tls_proxy = v; }));
    add("server.max_connections", "10000", "",
        "Open connections on the public listener; more are refused at accept.",
        integer(1, 1000000, [](Config& c, long long v) {
          c.server.max_connections = static_cast<std::size_t>(v);
        }));
    add("server.admin_max_connections", "64", "",
        "Open connections on the admin listener, counted apart so probes always get in.",
        integer(1, 100000, [](Config& c, long long v) {
          c.server.admin_max_connections = static_cast<std::size_t>(v);
        }));
    add("server.max_connections_per_address", "256", "",
        "Open public connections per client address (trusted proxies exempt); 0: no cap.",
        integer(0, 1000000, [](Config& c, long long v) {
          c.server.max_connections_per_address = static_cast<std::size_t>(v);
        }));
    add("server.max_header_bytes", "8KiB", "", "Largest request head; larger gets 431.",
        size(1024, 1024 * 1024, [](Config& c, std::size_t v) { c.server.max_header_bytes = v; }));
    add("server.max_body_bytes", "16KiB", "", "Largest request body; larger gets 413.",
        size(0, 16 * 1024 * 1024, [](Config& c, std::size_t v) { c.server.max_body_bytes = v; }));
    add("server.tls_ticket_rotation", "1h", "",
        "How long a TLS session-ticket key encrypts new tickets; it still opens them for as "
        "long again, then it is wiped (forward secrecy for resumed sessions).",
        duration(M(1000), M(7LL * 86400000),
                 [](Config& c, M v) { c.server.tls_ticket_rotation = v; }));
    add("server.first_byte_timeout", "5s", "",
        "Time a new connection has to start its first request; silent sockets are closed.",
        duration(M(100), M(600000), [](Config& c, M v) { c.server.first_byte_timeout = v; }));
    add("server.read_timeout", "10s", "",
        "Time allowed to receive one whole request once it starts (slow clients are cut off).",
        duration(M(100), M(600000), [](Config& c, M v) { c.server.read_timeout = v; }));
    add("server.idle_timeout", "60s", "", "Keep-alive connections idle longer are closed.",
        duration(M(100), M(3600000), [](Config& c, M v) { c.server.idle_timeout = v; }));
    add("server.shutdown_grace", "20s", "",
        "On SIGTERM, how long in-flight requests may take to finish before exit.",
        duration(M(0), M(600000), [](Config& c, M v) { c.server.shutdown_grace = v; }));
    add("server.trusted_proxies", "", "",
        "Comma-separated CIDRs of proxies whose X-Forwarded-For/Forwarded is believed.",
        [](Config& c, const std::string& v) -> std::optional<std::string> {
          c.server.trusted_proxies = split_list(v);
          for (const auto& p : c.server.trusted_proxies)
            if (!valid_cidr(p)) return "'" + p + "' is not an IP address or CIDR";
          return std::nullopt;
        });

    add("log.format", "json", "text", "json (one object per line) or text (for people).",
        [](Config& c, const std::string& v) -> std::optional<std::string> {
          if (v == "json")
            c.log.format = LogFormat::kJson;
          else if (v == "text")
            c.log.format = LogFormat::kText;
          else
            return "must be json or text";
          return std::nullopt;
        });
    add("log.level", "info", "", "trace, debug, info, warn, error or off.",
        [](Config& c, const std::string& v) -> std::optional<std::string> {
          static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
          for (auto* l : kLevels)
            if (v == l) {
              c.log.level = v;
              return std::nullopt;
            }
          return "must be one of trace, debug, info, warn, error, off";
        });
    add("log.access_log", "true", "", "One log line per request.",
        boolean([](Config& c, bool v) { c.log.access_log = v; }));
    add("audit.sink", "stdout", "",
        "Audit trail: stdout (beside the log, lines marked \"log\":\"audit\"), stderr, file "
        "(audit.path) or off.",
        [](Config& c, const std::string& v) -> std::optional<std::string> {
          static const std::pair<const char*, AuditSink> kSinks[] = {{"off", AuditSink::kOff},
                                                                     {"stdout", AuditSink::kStdout},
                                                                     {"stderr", AuditSink::kStderr},
                                                                     {"file", AuditSink::kFile}};
          for (const auto& [name, sink] : kSinks)
            if (v == name) {
              c.audit.sink = sink;
              return std::nullopt;
            }
          return "must be one of off, stdout, stderr, file";
        });
    add("audit.path", "", "",
        "Audit file for audit.sink = file: absolute, appended, one JSON object a line.",
        [](Config& c, const std::string& v) -> std::optional<std::string> {
          if (!v.empty() && v.front() != '/') return "must be an absolute path";
          c.audit.path = v;
          return std::nullopt;
        });

    add("store.driver", "postgres", "sqlite", "postgres (production) or sqlite (embedded, dev).",
        [](Config& c, const std::string& v) -> std::optional<std::string> {
          if (v == "postgres")
            c.store.driver = StoreDriver::kPostgres;
          else if (v == "sqlite")
            c.store.driver = StoreDriver::kSqlite;
          else
            return "must be postgres or sqlite";
          return std::nullopt;
        });
    add("store.url", "", "",
        "libpq connection string or URL, e.g. 'host=db1,db2 dbname=authd user=authd "
        "target_session_attrs=read-write'. Put the password in password_file, not here.",
        text([](Config& c, const std::string& v) { c.store.url = v; }), true);
    add("store.password_file", "", "", "File holding the database password.",
        text([](Config& c, const std::string& v) { c.store.password_file = v; }));
    add("store.password", "", "", "Database password (prefer password_file; env only).",
        text([](Config& c, const std::string& v) { c.store.password = v; }), true);
    add("store.pool_size", "16", "4", "Database connections per replica.",
        integer(1, 1000, [](Config& c, long long v) { c.store.pool_size = static_cast<int>(v); }));
    add("store.connect_timeout", "3s", "",
        "Time allowed to open one database connection, per host (whole seconds, at least 2).",
        duration(M(100), M(60000), [](Config& c, M v) { c.store.connect_timeout = v; }));
    add("store.statement_timeout", "5s", "",
        "Server-side limit on one statement; authd stops waiting 1 s after it.",
        duration(M(100), M(600000), [](Config& c, M v) { c.store.statement_timeout = v; }));
    add("store.failover_wait", "30s", "",
        "How long a request that needs the store waits for a writable primary (a failover, a "
        "stalled database) before it gets 503 with Retry-After; 0 answers 503 at once.",
        duration(M(0), M(600000), [](Config& c, M v) { c.store.failover_wait = v; }));
    add("store.max_waiting", "1000", "",
        "Requests that may wait for the store at once on one replica; beyond, 503 at once.",
        integer(1, 1000000,
                [](Config& c, long long v) { c.store.max_waiting = static_cast<int>(v); }));
    add("store.purge_interval", "5m", "",
        "How often each replica deletes families past their retention.",
        duration(M(1000), M(86400000), [](Config& c, M v) { c.store.purge_interval = v; }));
    add("store.purge_retention", "1d", "",
        "How long a revoked or expired family is kept (audit; a replay is still reuse) before "
        "it is deleted.",
        duration(M(0), M(365LL * 86400000), [](Config& c, M v) { c.store.purge_retention = v; }));
    add("store.sqlite_path", "", "", "SQLite file; empty means <data_dir>/authd.db.",
        text([](Config& c, const std::string& v) { c.store.sqlite_path = v; }));
    add("store.auto_migrate", "false", "true",
        "Apply database migrations at start-up. In production run `authd migrate` instead.",
        boolean([](Config& c, bool v) { c.store.auto_migrate = v; }));

    add("auth.issuer", "", "", "The `iss` of tokens; empty means the public listener's URL.",
        text([](Config& c, const std::string& v) { c.auth.issuer = v; }));
    add("auth.audience", "authd", "", "The `aud` of access tokens.",
        text([](Config& c, const std::string& v) { c.auth.audience = v; }));
    add("auth.access_ttl", "10m", "", "Access-token lifetime.",
        duration(M(10000), M(86400000), [](Config& c, M v) { c.auth.access_ttl = v; }));
    add("auth.session_absolute", "30d", "",
        "A session (refresh-token family) ends this long after login.",
        duration(M(60000), M(366LL * 86400000),
                 [](Config& c, M v) { c.auth.session_absolute = v; }));
    add("auth.session_idle", "7d", "", "A session unused this long ends.",
        duration(M(60000), M(366LL * 86400000), [](Config& c, M v) { c.auth.session_idle = v; }));
    add("auth.leeway", "30s", "", "Clock skew tolerated when checking exp/nbf/iat.",
        duration(M(0), M(300000), [](Config& c, M v) { c.auth.leeway = v; }));
    add("auth.argon2_ops", "2", "", "Argon2id passes (t). OWASP minimum: 2 with 19 MiB.",
        integer(1, 100,
                [](Config& c, long long v) { c.auth.argon2_ops = static_cast<std::uint64_t>(v); }));
    add("auth.argon2_memory", "19MiB", "",
        "Argon2id memory (m). Hashes made with weaker "
        "parameters are upgraded at the next login.",
        size(8 * 1024, 4096ULL * 1024 * 1024,
             [](Config& c, std::size_t v) { c.auth.argon2_memory = v; }));
    add("auth.hash_threads", "0", "",
        "Password hashes (Argon2id) that run at once; 0 means one per usable core. Each holds "
        "argon2_memory; more than the cores only adds context switches.",
        integer(0, 1024,
                [](Config& c, long long v) { c.auth.hash_threads = static_cast<unsigned>(v); }));
    add("auth.hash_queue", "64", "",
        "Password hashes (logins) that may wait for a hash slot, served in order of arrival; "
        "one more is answered 503 with Retry-After.",
        integer(1, 100000,
                [](Config& c, long long v) { c.auth.hash_queue = static_cast<std::size_t>(v); }));
    add("auth.pepper_file", "", "",
        "Secret key for refresh-token hashes (base64, >= 32 bytes, "
        "mode 0600). Dev: generated in data_dir.",
        text([](Config& c, const std::string& v) { c.auth.pepper_file = v; }));
    add("auth.cookie_origins", "", "",
        "Origins allowed to use refresh-token cookies, "
        "e.g. https://app.example.com.",
        [](Config& c, const std::string& v) -> std::optional<std::string> {
          c.auth.cookie_origins = split_list(v);
          return std::nullopt;
        });
    add("auth.legacy_typ_audiences", "", "",
        "Comma-separated audiences whose verifiers refuse typ at+jwt (libjwt 1.10, cpp-jwt "
        "1.4): their access tokens get typ JWT. Empty: all tokens are at+jwt (RFC 9068).",
        [](Config& c, const std::string& v) -> std::optional<std::string> {
          c.auth.legacy_typ_audiences = split_list(v);
          return std::nullopt;
        });
    add("auth.login_css_file", "", "",
        "Stylesheet of the hosted login page (served as /oauth2/assets/login.css); "
        "empty = built in.",
        text([](Config& c, const std::string& v) { c.auth.login_css_file = v; }));
    add("auth.logo_file", "", "", "Logo of the hosted login page (.svg or .png); empty = none.",
        text([](Config& c, const std::string& v) { c.auth.logo_file = v; }));
    add("auth.browser_session", "12h", "",
        "How long a sign-in on the hosted login page lasts (the authd_session cookie).",
        duration(M(60000), M(366LL * 86400000),
                 [](Config& c, M v) { c.auth.browser_session = v; }));
    add("auth.client_jwks_timeout", "2s", "",
        "private_key_jwt clients registered with a jwks_uri: the whole fetch of their JWK Set "
        "(connect, TLS, response) must finish within this; it runs on a worker thread.",
        duration(M(100), M(10000), [](Config& c, M v) { c.auth.client_jwks_timeout = v; }));
    add("auth.client_jwks_allow_loopback_http", "false", "",
        "Fetch a client's jwks_uri over plain http when its host is loopback (tests, "
        "development). Otherwise only https is fetched.",
        boolean([](Config& c, bool v) { c.auth.client_jwks_allow_loopback_http = v; }));
    add("auth.demo_user", "false", "true",
        "Create demo@example.com / demo-password on first start.",
        boolean([](Config& c, bool v) { c.auth.demo_user = v; }));

    add("keys.kek_file", "", "",
        "Key-encryption key for signing keys at rest (base64 of 32 "
        "bytes, mode 0600; a Kubernetes Secret mount). Dev: generated in data_dir.",
        text([](Config& c, const std::string& v) { c.keys.kek_file = v; }));
    add("keys.algorithm", "ES256", "", "Signing algorithm of new keys: ES256, RS256 or EdDSA.",
        signing_algorithm([](Config& c, const std::string& v) { c.keys.algorithm = v; }));
    add("keys.id_token_algorithm", "RS256", "",
        "Signing algorithm of OpenID Connect ID tokens. RS256, OpenID Connect's default, is "
        "what relying parties accept without registering an algorithm; when it differs from "
        "keys.algorithm, a second key chain of this algorithm is kept and rotated alike.",
        signing_algorithm([](Config& c, const std::string& v) { c.keys.id_token_algorithm = v; }));
    add("keys.rotation_period", "30d", "", "How long a key signs before the next one takes over.",
        // Seconds are allowed (demos, tests); the cross-check below keeps any period longer
        // than the time a key must be published before it signs.
        duration(M(1000), M(3650LL * 86400000),
                 [](Config& c, M v) { c.keys.rotation_period = v; }));
    add("keys.jwks_max_age", "5m", "",
        "JWKS Cache-Control max-age; new keys are published this "
        "long (plus stale_while_revalidate) before they sign.",
        duration(M(0), M(86400000), [](Config& c, M v) { c.keys.jwks_max_age = v; }));
    add("keys.jwks_stale_while_revalidate", "1m", "", "JWKS Cache-Control stale-while-revalidate.",
        duration(M(0), M(86400000),
                 [](Config& c, M v) { c.keys.jwks_stale_while_revalidate = v; }));
    add("keys.poll_interval", "30s", "", "How often each replica re-reads the key ring.",
        duration(M(50), M(3600000), [](Config& c, M v) { c.keys.poll_interval = v; }));
    add("keys.verifier_cache", "10m", "",
        "Longest JWKS cache of the resource servers' verifiers (Envoy jwt_authn: 10m); new "
        "keys are published at least this long before they sign. Below 10m start-up warns.",
        duration(M(0), M(86400000), [](Config& c, M v) { c.keys.verifier_cache = v; }));
    add("redis.url", "", "",
        "redis://[user:pw@]host:port[/db] or redis-sentinel://h1:26379,h2:26379/master. Empty: "
        "no Redis (in-process rate limits; revocation checked in the store).",
        text([](Config& c, const std::string& v) { c.redis.url = v; }), true);
    add("redis.password_file", "", "", "File holding the Redis password (overrides the URL's).",
        text([](Config& c, const std::string& v) { c.redis.password_file = v; }));
    add("redis.command_timeout", "100ms", "", "Bound on every Redis call; slower means 'down'.",
        duration(M(5), M(10000), [](Config& c, M v) { c.redis.command_timeout = v; }));

    auto rate = [](RateConfig LimitsConfig::*field) -> Apply {
      return [field](Config& c, const std::string& v) -> std::optional<std::string> {
        auto slash = v.find('/');
        auto r = parse_int(v.substr(0, slash));
        auto b = slash == std::string::npos ? std::nullopt : parse_int(v.substr(slash + 1));
        if (!r || !b || *r < 1 || *b < 1 || *r > 1000000 || *b > 1000000)
          return "must be RATE/BURST with positive integers, e.g. 60/20 (per minute / burst)";
        (c.limits.*field) = RateConfig{*r, *b};
        return std::nullopt;
      };
    };
    auto policy = [](RedisDownPolicy LimitsConfig::*field) -> Apply {
      return [field](Config& c, const std::string& v) -> std::optional<std::string> {
        if (v == "local")
          c.limits.*field = RedisDownPolicy::kLocal;
        else if (v == "closed")
          c.limits.*field = RedisDownPolicy::kClosed;
        else
          return "must be local or closed";
        return std::nullopt;
      };
    };
    add("limits.enabled", "true", "", "Rate limits and login back-off.",
        boolean([](Config& c, bool v) { c.limits.enabled = v; }));
    add("limits.login_per_ip", "60/20", "", "POST /login per client IP: per minute / burst.",
        rate(&LimitsConfig::login_per_ip));
    add("limits.login_per_account", "120/60", "",
        "POST /login per email (known or not) from all addresses: the account-wide slowdown.",
        rate(&LimitsConfig::login_per_account));
    add("limits.login_failures", "2/5", "",
        "Failed logins per email and address before back-off sets in for that address.",
        rate(&LimitsConfig::login_failures));
    add("limits.refresh_per_ip", "600/100", "", "POST /refresh per client IP.",
        rate(&LimitsConfig::refresh_per_ip));
    add("limits.refresh_per_family", "30/10", "",
        "Refreshes of one session (refresh-token family), whichever of its tokens is presented.",
        rate(&LimitsConfig::refresh_per_family));
    add("limits.token_per_client", "600/100", "",
        "POST /oauth2/token per authenticated client (per named client for legacy secrets).",
        rate(&LimitsConfig::token_per_client));
    add("limits.oauth_per_ip", "1200/300", "",
        "POST /oauth2/* and client authentication per client IP, before any lookup or hash.",
        rate(&LimitsConfig::oauth_per_ip));
    add("limits.login_when_redis_down", "local", "",
        "local: a stricter per-replica limit (fallback_factor); closed: refuse with 429.",
        policy(&LimitsConfig::login_when_redis_down));
    add("limits.refresh_when_redis_down", "local", "", "As login_when_redis_down, for /refresh.",
        policy(&LimitsConfig::refresh_when_redis_down));
    add("limits.fallback_factor", "0.5", "",
        "While Redis is down each replica allows this share of every limit (about 1/replicas).",
        [](Config& c, const std::string& v) -> std::optional<std::string> {
          char* end = nullptr;
          const double d = std::strtod(v.c_str(), &end);
          if (end == v.c_str() || *end != '\0' || d <= 0 || d > 1)
            return "must be a number in (0, 1]";
          c.limits.fallback_factor = d;
          return std::nullopt;
        });
    return f;
  }();
  return kFields;
}

const Field* find_field(const std::string& name) {
  for (const auto& f : fields())
    if (f.info.name == name) return &f;
  return nullptr;
}

Error key_error(const std::string& key, const Raw& raw, const std::string& what, bool secret) {
  std::string msg = "invalid configuration: " + key + " (from " + raw.origin + ")";
  if (!secret) msg += " = '" + raw.value + "'";
  msg += ": " + what;
  return Error{key, msg};
}

std::optional<Error> read_file(const std::string& path, std::map<std::string, Raw>& raw) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Error{"", "cannot read configuration file " + path};
  } catch (const YAML::Exception& e) {
    return Error{"", "configuration file " + path + ": line " + std::to_string(e.mark.line + 1) +
                         ": " + e.msg};
  }
  if (root.IsNull()) return std::nullopt;
  if (!root.IsMap())
    return Error{"", "configuration file " + path + ": top level must be a mapping of sections"};
  const std::string origin = "file " + path;
  const std::string where = "configuration file " + path + ": ";
  for (const auto& section : root) {
    // Only scalars convert to text: as<std::string>() throws on anything else (a null key
    // "?", a list as a key or as a list item), and load() must not throw.
    if (!section.first.IsScalar()) return Error{"", where + "a section name must be a plain word"};
    const auto sname = section.first.Scalar();
    if (!section.second.IsMap())
      return Error{sname,
                   "configuration file " + path + ": section '" + sname + "' must be a mapping"};
    for (const auto& kv : section.second) {
      if (!kv.first.IsScalar())
        return Error{sname, where + "a key of section '" + sname + "' must be a plain word"};
      const auto key = sname + "." + kv.first.Scalar();
      if (!find_field(key))
        return Error{key, "configuration file " + path + ": unknown key " + key};
      std::string value;
      if (kv.second.IsSequence()) {
        for (const auto& item : kv.second) {
          if (!item.IsScalar())
            return Error{key, where + key + " must be a scalar or a list of scalars"};
          if (!value.empty()) value += ",";
          value += item.Scalar();
        }
      } else if (kv.second.IsScalar()) {
        value = kv.second.Scalar();
      } else if (!kv.second.IsNull()) {
        return Error{key,
                     "configuration file " + path + ": " + key + " must be a scalar or a list"};
      }
      raw[key] = Raw{value, origin};
    }
  }
  return std::nullopt;
}

}  // namespace

std::string Endpoint::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

bool Endpoint::is_loopback() const {
  if (host == "localhost" || host == "::1") return true;
  in_addr a{};
  if (inet_pton(AF_INET, host.c_str(), &a) == 1) return (ntohl(a.s_addr) >> 24) == 127;
  return false;
}

std::optional<Millis> parse_duration(const std::string& t) {
  std::size_t i = 0;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
  if (i == 0) return std::nullopt;
  auto n = parse_int(t.substr(0, i));
  if (!n) return std::nullopt;
  const auto unit = t.substr(i);
  long long mult = 0;
  if (unit == "ms")
    mult = 1;
  else if (unit == "s")
    mult = 1000;
  else if (unit == "m")
    mult = 60'000;
  else if (unit == "h")
    mult = 3'600'000;
  else if (unit == "d")
    mult = 86'400'000;
  else
    return std::nullopt;
  if (*n > (1LL << 40)) return std::nullopt;
  return Millis(*n * mult);
}

std::optional<std::size_t> parse_size(const std::string& t) {
  std::size_t i = 0;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
  if (i == 0) return std::nullopt;
  auto n = parse_int(t.substr(0, i));
  if (!n || *n > (1LL << 40)) return std::nullopt;
  const auto unit = t.substr(i);
  std::size_t mult = 0;
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "KiB")
    mult = 1024;
  else if (unit == "MiB")
    mult = 1024 * 1024;
  else
    return std::nullopt;
  return static_cast<std::size_t>(*n) * mult;
}

std::optional<Endpoint> parse_endpoint(const std::string& t) {
  Endpoint e;
  std::string port;
  if (!t.empty() && t[0] == '[') {
    auto close = t.find(']');
    if (close == std::string::npos || close + 1 >= t.size() || t[close + 1] != ':')
      return std::nullopt;
    e.host = t.substr(1, close - 1);
    port = t.substr(close + 2);
    in6_addr a{};
    if (inet_pton(AF_INET6, e.host.c_str(), &a) != 1) return std::nullopt;
  } else {
    auto colon = t.rfind(':');
    if (colon == std::string::npos || colon == 0) return std::nullopt;
    e.host = t.substr(0, colon);
    port = t.substr(colon + 1);
    if (e.host.find(':') != std::string::npos) return std::nullopt;  // IPv6 needs brackets
    in_addr a{};
    if (e.host != "localhost" && inet_pton(AF_INET, e.host.c_str(), &a) != 1) return std::nullopt;
  }
  auto p = parse_int(port);
  if (!p || *p < 0 || *p > 65535) return std::nullopt;
  e.port = static_cast<std::uint16_t>(*p);
  return e;
}

const std::vector<KeyInfo>& keys() {
  static const std::vector<KeyInfo> kKeys = [] {
    std::vector<KeyInfo> k;
    for (const auto& f : fields()) k.push_back(f.info);
    return k;
  }();
  return kKeys;
}

std::map<std::string, std::string> process_env() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    if (kv.rfind("AUTHD_", 0) != 0) continue;
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

Result<Config, Error> load(const Sources& sources) {
  std::map<std::string, Raw> raw;
  if (sources.file) {
    if (auto err = read_file(*sources.file, raw)) return unexpected(*err);
  }
  for (const auto& f : fields()) {
    auto it = sources.env.find(f.info.env);
    if (it != sources.env.end()) raw[f.info.name] = Raw{it->second, "env " + f.info.env};
  }
  for (const auto& [key, value] : sources.overrides) {
    if (!find_field(key)) return unexpected(Error{key, "unknown configuration key " + key});
    raw[key] = Raw{value, "command line"};
  }

  // Dev mode changes other keys' defaults, so settle it first.
  bool dev = false;
  if (auto it = raw.find("general.dev"); it != raw.end()) {
    auto b = parse_bool(it->second.value);
    if (!b) return unexpected(key_error("general.dev", it->second, "must be true or false", false));
    dev = *b;
  }

  Config cfg;
  for (const auto& f : fields()) {
    Raw value;
    if (auto it = raw.find(f.info.name); it != raw.end()) {
      value = it->second;
    } else {
      value = Raw{dev && !f.info.dev_default.empty() ? f.info.dev_default : f.info.default_value,
                  "default"};
    }
    if (auto err = f.apply(cfg, value.value))
      return unexpected(key_error(f.info.name, value, *err, f.info.secret));
  }
  cfg.general.dev = dev;

  // Cross-key rules.
  auto& s = cfg.server;
  if (s.tls_cert_file.empty() != s.tls_key_file.empty()) {
    const char* missing = s.tls_cert_file.empty() ? "server.tls_cert_file" : "server.tls_key_file";
    return unexpected(Error{missing, std::string("invalid configuration: ") + missing +
                                         " must be set together with its pair"});
  }
  for (const auto* file : {&s.tls_cert_file, &s.tls_key_file}) {
    if (!file->empty() && ::access(file->c_str(), R_OK) != 0) {
      const char* key = file == &s.tls_cert_file ? "server.tls_cert_file" : "server.tls_key_file";
      return unexpected(Error{key, std::string("invalid configuration: ") + key + " = '" + *file +
                                       "': file is not readable"});
    }
  }
  const bool tls = !s.tls_cert_file.empty();
  if (!tls && !s.behind_tls_proxy && !s.listen.is_loopback()) {
    return unexpected(
        Error{"server.listen",
              "invalid configuration: server.listen = '" + s.listen.to_string() +
                  "' is not a loopback address, so TLS is required: set server.tls_cert_file and "
                  "server.tls_key_file, or server.behind_tls_proxy = true when a balancer "
                  "terminates TLS"});
  }
  if (s.admin_listen && s.admin_listen->port != 0 && s.admin_listen->port == s.listen.port &&
      s.admin_listen->host == s.listen.host)
    s.admin_listen.reset();  // same address: one listener serves both
  if (cfg.audit.sink == AuditSink::kFile && cfg.audit.path.empty())
    return unexpected(Error{
        "audit.path", "invalid configuration: audit.path is required when audit.sink = file"});
  auto& st = cfg.store;
  if (st.driver == StoreDriver::kPostgres && st.url.empty())
    return unexpected(Error{"store.url",
                            "invalid configuration: store.url is required when "
                            "store.driver = postgres (or use --dev)"});
  if (st.sqlite_path.empty()) st.sqlite_path = cfg.general.data_dir + "/authd.db";
  if (dev) {
    if (cfg.auth.pepper_file.empty()) cfg.auth.pepper_file = cfg.general.data_dir + "/pepper";
    if (cfg.keys.kek_file.empty()) cfg.keys.kek_file = cfg.general.data_dir + "/kek";
  } else {
    if (cfg.auth.pepper_file.empty())
      return unexpected(
          Error{"auth.pepper_file", "invalid configuration: auth.pepper_file is required"});
    if (cfg.keys.kek_file.empty())
      return unexpected(Error{"keys.kek_file", "invalid configuration: keys.kek_file is required"});
  }
  if (cfg.auth.session_idle > cfg.auth.session_absolute)
    cfg.auth.session_idle = cfg.auth.session_absolute;
  // A key must be published for a whole JWKS cache lifetime (plus a poll, for replicas that
  // miss the pub/sub event) before it signs; a shorter period could never honour that.
  const auto& k = cfg.keys;
  // (+1 s: key timestamps are whole seconds; see app::key_settings.)
  const auto publish_ahead =
      std::max(k.jwks_max_age + k.jwks_stale_while_revalidate, k.verifier_cache) + k.poll_interval +
      std::chrono::milliseconds(1000);
  if (k.rotation_period < publish_ahead) {
    return unexpected(
        Error{"keys.rotation_period",
              "invalid configuration: keys.rotation_period = " +
                  std::to_string(k.rotation_period.count()) +
                  " ms is shorter than max(keys.jwks_max_age + keys.jwks_stale_while_revalidate, "
                  "keys.verifier_cache) + keys.poll_interval + 1 s = " +
                  std::to_string(publish_ahead.count()) +
                  " ms: a new key could not be published "
                  "for a whole JWKS cache lifetime before it signs"});
  }
  if (s.threads == 0) s.threads = static_cast<int>(core::usable_cores());
  if (s.worker_threads == 0)
    // Four per core: a login holds its worker through two database round trips around its
    // hash, so with fewer the hash slots (one per core) sit idle while workers wait.
    s.worker_threads = static_cast<int>(4 * core::usable_cores());
  return cfg;
}

}  // namespace authd::config
