#include "app/components.h"

#include <sys/stat.h>

#include <filesystem>

#include "authd/crypto/init.h"
#include "authd/crypto/secret_file.h"
#include "authd/jose/alg.h"
#include "authd/keys/kek.h"
#include "authd/store/postgres.h"
#include "authd/store/sqlite.h"

namespace authd::app {
namespace {

constexpr std::size_t kPepperBytes = 32;

Unexpected<Failure> failure(int code, std::string message) {
  return {Failure{code, std::move(message)}};
}

}  // namespace

AppResult<std::string> read_password_file(std::string_view setting, const std::string& path) {
  auto pw = crypto::load_password_file(path);
  if (!pw) {
    return failure(2, "cannot read " + std::string(setting) + " " + path + ": " +
                          std::string(crypto::to_string(pw.error())));
  }
  return std::string(pw->view());
}

AppResult<std::unique_ptr<store::Database>> open_database(const config::Config& cfg) {
  if (!crypto::init()) return failure(1, "libsodium failed to initialise");
  if (cfg.general.dev) {
    std::error_code ec;
    std::filesystem::create_directories(cfg.general.data_dir, ec);
    if (ec)
      return failure(1, "cannot create data dir " + cfg.general.data_dir + ": " + ec.message());
    ::chmod(cfg.general.data_dir.c_str(), 0700);
  }
  if (cfg.store.driver == config::StoreDriver::kSqlite) {
    store::SqliteOptions o;
    o.path = cfg.store.sqlite_path;
    auto db = store::open_sqlite(o);
    if (!db) return failure(1, "cannot open SQLite store " + o.path + ": " + db.error().message);
    return std::move(*db);
  }
  store::PostgresOptions o;
  o.conninfo = cfg.store.url;
  o.password = cfg.store.password;
  if (!cfg.store.password_file.empty()) {
    auto pw = read_password_file("store.password_file", cfg.store.password_file);
    if (!pw) return unexpected(pw.error());
    o.password = *pw;
  }
  o.pool_size = static_cast<std::size_t>(cfg.store.pool_size);
  o.connect_timeout_ms = static_cast<int>(cfg.store.connect_timeout.count());
  o.statement_timeout_ms = static_cast<int>(cfg.store.statement_timeout.count());
  auto db = store::open_postgres(o);
  if (!db) return failure(1, "cannot open Postgres store: " + db.error().message);
  return std::move(*db);
}

AppResult<int> prepare_schema(store::Database& db, const config::Config& cfg) {
  if (cfg.store.auto_migrate) {
    auto v = db.migrate();
    if (!v) return failure(1, "migration failed: " + v.error().message);
    return *v;
  }
  if (auto ok = db.check_schema(); !ok) return failure(1, ok.error().message);
  auto v = db.schema_version();
  if (!v) return failure(1, v.error().message);
  return *v;
}

AppResult<crypto::KeyedHasher> load_pepper(const config::Config& cfg) {
  const auto& path = cfg.auth.pepper_file;
  auto secret = cfg.general.dev ? crypto::load_or_create_secret_file(path, kPepperBytes)
                                : crypto::load_secret_file(path, kPepperBytes);
  if (!secret)
    return failure(2, "cannot load auth.pepper_file " + path + ": " +
                          std::string(crypto::to_string(secret.error())));
  auto hasher = crypto::KeyedHasher::create(std::move(*secret));
  if (!hasher) return failure(2, "auth.pepper_file " + path + " holds an unusable key");
  return std::move(*hasher);
}

AppResult<crypto::Secret> load_kek(const config::Config& cfg) {
  auto kek = cfg.general.dev ? keys::load_or_create_kek(cfg.keys.kek_file)
                             : keys::load_kek(cfg.keys.kek_file);
  if (!kek) return failure(2, "cannot load keys.kek_file: " + kek.error().message);
  return std::move(*kek);
}

keys::Settings key_settings(const config::Config& cfg) {
  keys::Settings s;
  s.alg = jose::alg_from_string(cfg.keys.algorithm).value_or(jose::Alg::ES256);
  s.id_token_alg = jose::alg_from_string(cfg.keys.id_token_algorithm).value_or(jose::Alg::RS256);
  s.access_ttl_s = cfg.auth.access_ttl.count() / 1000;
  s.jwks_max_age_s = cfg.keys.jwks_max_age.count() / 1000;
  s.jwks_stale_while_revalidate_s = cfg.keys.jwks_stale_while_revalidate.count() / 1000;
  s.rotation_period_s = cfg.keys.rotation_period.count() / 1000;
  s.leeway_s = cfg.auth.leeway.count() / 1000;
  // Until Redis pub/sub tells replicas at once, a replica may learn of a new key only at its
  // next poll: publish that much earlier too. One more second because key timestamps are
  // whole seconds taken from a truncated `now`: without it the real lead can fall almost a
  // second short of the JWKS max-age (seen as a rare unknown kid with max-age 1 s).
  s.replica_lag_s = (cfg.keys.poll_interval.count() + 999) / 1000 + 1;
  s.verifier_cache_s = (cfg.keys.verifier_cache.count() + 999) / 1000;
  return s;
}

crypto::PasswordParams password_params(const config::Config& cfg) {
  crypto::PasswordParams p;
  p.ops_limit = cfg.auth.argon2_ops;
  p.mem_limit_bytes = cfg.auth.argon2_memory;
  return p;
}

auth::Settings auth_settings(const config::Config& cfg) {
  auto limit = [](const config::RateConfig& r) { return auth::Limit{r.per_minute, r.burst}; };
  auth::Settings s;
  s.issuer = cfg.auth.issuer;
  s.audience = cfg.auth.audience;
  s.access_ttl_s = cfg.auth.access_ttl.count() / 1000;
  s.session_absolute_s = cfg.auth.session_absolute.count() / 1000;
  s.session_idle_s = cfg.auth.session_idle.count() / 1000;
  s.leeway_s = cfg.auth.leeway.count() / 1000;
  s.legacy_typ_audiences = cfg.auth.legacy_typ_audiences;
  s.browser_session_s = cfg.auth.browser_session.count() / 1000;
  s.password = password_params(cfg);
  s.max_concurrent_hashes = cfg.auth.hash_threads;
  s.max_queued_hashes = cfg.auth.hash_queue;
  s.login_per_ip = limit(cfg.limits.login_per_ip);
  s.login_per_account = limit(cfg.limits.login_per_account);
  s.login_failures = limit(cfg.limits.login_failures);
  s.refresh_per_ip = limit(cfg.limits.refresh_per_ip);
  s.refresh_per_family = limit(cfg.limits.refresh_per_family);
  s.token_per_client = limit(cfg.limits.token_per_client);
  s.oauth_per_ip = limit(cfg.limits.oauth_per_ip);
  return s;
}

}  // namespace authd::app
