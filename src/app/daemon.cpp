#include "app/daemon.h"

#include <condition_variable>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/components.h"
#include "app/metrics_events.h"
#include "app/ring_keys.h"
#include "app/signals.h"
#include "authd/auth/service.h"
#include "authd/cache/local_rate_limiter.h"
#include "authd/cache/redis_client.h"
#include "authd/cache/redis_rate_limiter.h"
#include "authd/cache/redis_revocation_list.h"
#include "authd/core/clock.h"
#include "authd/crypto/password.h"
#include "authd/http/admin_routes.h"
#include "authd/http/auth_routes.h"
#include "authd/http/jwks_route.h"
#include "authd/http/server.h"
#include "authd/keys/key_ring.h"
#include "authd/keys/key_ring_service.h"
#include "authd/obs/log.h"
#include "authd/obs/metrics.h"

namespace authd::app {
namespace {

constexpr const char* kDemoEmail = "demo@example.com";
constexpr const char* kDemoPassword = "demo-password";
constexpr std::int64_t kClientCacheWithEvents = 30;
constexpr std::int64_t kClientCacheWithoutEvents = 1;

/// Background store work off the I/O and Redis threads: deletes long-dead sessions every
/// `interval` and runs posted tasks (revocation re-sync after a Redis reconnect).
class Janitor {
 public:
  Janitor(auth::SessionStore& sessions, const Clock& clock, std::chrono::milliseconds interval,
          std::chrono::milliseconds retention)
      : sessions_(sessions), clock_(clock), interval_(interval), retention_(retention) {
    thread_ = std::thread([this] { run(); });
  }
  void post(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_all();
  }
  ~Janitor() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  static constexpr std::size_t kPurgeBatch = 1000;

  void run() {
    std::unique_lock lock(mu_);
    auto next_purge = std::chrono::steady_clock::now() + interval_;
    while (!stop_) {
      cv_.wait_until(lock, next_purge, [this] { return stop_ || !tasks_.empty(); });
      if (stop_) break;
      if (!tasks_.empty()) {
        auto task = std::move(tasks_.front());
        tasks_.erase(tasks_.begin());
        lock.unlock();
        task();
        lock.lock();
        continue;
      }
      next_purge = std::chrono::steady_clock::now() + interval_;
      lock.unlock();
      purge();
      lock.lock();
    }
  }

  // Batches until caught up, so a backlog larger than one batch clears in one run; each batch
  // is its own short statement, and a stop request ends the run between batches.
  void purge() {
    const std::int64_t cutoff =
        clock_.now_unix() - std::chrono::duration_cast<std::chrono::seconds>(retention_).count();
    std::size_t total = 0;
    while (true) {
      auto n = sessions_.purge(cutoff, kPurgeBatch);
      if (!n) {
        log::warn("sessions.purge_failed", {{"reason", n.error().message}});
        break;
      }
      total += *n;
      std::lock_guard lock(mu_);
      if (*n < kPurgeBatch || stop_) break;
    }
    if (total > 0) log::info("sessions.purged", {{"count", total}});
  }

  auth::SessionStore& sessions_;
  const Clock& clock_;
  const std::chrono::milliseconds interval_, retention_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<std::function<void()>> tasks_;
  std::thread thread_;
};

auth::Limit to_limit(const config::RateConfig& r) { return auth::Limit{r.per_minute, r.burst}; }

/// Rate limiting and revocation, shared through Redis when configured, else in-process.
struct SharedState {
  std::unique_ptr<cache::LocalRateLimiter> local;
  std::unique_ptr<cache::RedisClient> redis;
  std::unique_ptr<cache::RedisRateLimiter> login_limiter, refresh_limiter;
  std::unique_ptr<cache::RedisRevocationList> revocations;
  std::vector<cache::CallbackHandle> handles;

  auth::RateLimiter* login() {
    return login_limiter ? static_cast<auth::RateLimiter*>(login_limiter.get()) : local.get();
  }
  auth::RateLimiter* refresh() {
    return refresh_limiter ? static_cast<auth::RateLimiter*>(refresh_limiter.get()) : local.get();
  }
};

AppResult<std::unique_ptr<SharedState>> make_shared_state(const config::Config& cfg,
                                                          const Clock& clock) {
  auto st = std::make_unique<SharedState>();
  st->local = std::make_unique<cache::LocalRateLimiter>(clock);
  if (cfg.redis.url.empty()) return st;
  auto opts = cache::parse_redis_url(cfg.redis.url);
  if (!opts)
    return unexpected(Failure{2, "invalid configuration: redis.url: " + opts.error().message});
  opts->command_timeout = cfg.redis.command_timeout;
  if (!cfg.redis.password_file.empty()) {
    std::ifstream f(cfg.redis.password_file);
    if (!f)
      return unexpected(Failure{1, "cannot read redis.password_file " + cfg.redis.password_file});
    std::getline(f, opts->password);
  }
  auto client = cache::RedisClient::create(*opts);
  if (!client)
    return unexpected(Failure{1, "cannot start the Redis client: " + client.error().message});
  st->redis = std::move(*client);
  auto policy = [](config::RedisDownPolicy p) {
    return p == config::RedisDownPolicy::kClosed ? cache::RedisDownPolicy::kFailClosed
                                                 : cache::RedisDownPolicy::kLocalFallback;
  };
  cache::RedisRateLimiterOptions lo;
  lo.fallback_factor = cfg.limits.fallback_factor;
  lo.down_policy = policy(cfg.limits.login_when_redis_down);
  st->login_limiter = std::make_unique<cache::RedisRateLimiter>(*st->redis, *st->local, lo);
  lo.down_policy = policy(cfg.limits.refresh_when_redis_down);
  st->refresh_limiter = std::make_unique<cache::RedisRateLimiter>(*st->redis, *st->local, lo);
  st->revocations = std::make_unique<cache::RedisRevocationList>(*st->redis, clock);
  return st;
}

void ensure_demo_user(auth::UserStore& users, const crypto::PasswordParams& params,
                      const Clock& clock, Random& random) {
  auto existing = users.find_by_email(kDemoEmail);
  if (!existing || existing->has_value()) return;
  auto hash = crypto::hash_password(kDemoPassword, params);
  if (!hash) return;
  auth::User u;
  u.id = make_uuid_v4(random);
  u.email = kDemoEmail;
  u.password_hash = *hash;
  u.roles = {"user"};
  u.created_at = u.updated_at = clock.now_unix();
  if (users.create(u)) log::info("dev.demo_user_created", {{"email", kDemoEmail}});
}

}  // namespace

int run_daemon(const config::Config& cfg, const std::string& command) {
  auto db = open_database(cfg);
  if (!db) {
    log::error("authd.store", {{"reason", db.error().message}});
    return db.error().exit_code;
  }
  if (command == "migrate") {
    auto v = (*db)->migrate();
    if (!v) {
      log::error("authd.migrate_failed", {{"reason", v.error().message}});
      return 1;
    }
    log::info("authd.migrated", {{"schema_version", *v}});
    return 0;
  }
  auto version = prepare_schema(**db, cfg);
  if (!version) {
    log::error("authd.schema", {{"reason", version.error().message}});
    return version.error().exit_code;
  }
  auto pepper = load_pepper(cfg);
  if (!pepper) {
    log::error("authd.secrets", {{"reason", pepper.error().message}});
    return pepper.error().exit_code;
  }
  auto kek = load_kek(cfg);
  if (!kek) {
    log::error("authd.secrets", {{"reason", kek.error().message}});
    return kek.error().exit_code;
  }

  SystemClock clock;
  SystemRandom random;
  obs::Registry metrics;
  keys::KeyRing ring((*db)->keys(), std::move(*kek), clock, key_settings(cfg));
  if (auto loaded = ring.load(); !loaded) {
    log::error("keys.load_failed", {{"reason", loaded.error().message}});
    return 1;
  }
  // First start: create the first key. Replicas started together race for the rotation lock;
  // a loser must not serve without a key, so it waits (bounded) for the winner's commit.
  const auto bootstrap_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int attempt = 0; !ring.ready(); ++attempt) {
    // Try to create the key at first, then only once a second: a replica that lost the race
    // waits for the winner's commit, and must not itself rotate a ring that now has a key.
    if (attempt % 10 == 0) {
      if (auto r = ring.rotate(false); !r) {
        log::error("keys.bootstrap_failed", {{"reason", r.error().message}});
        return 1;
      }
    }
    if (auto loaded = ring.load(); !loaded) {
      log::error("keys.load_failed", {{"reason", loaded.error().message}});
      return 1;
    }
    if (ring.ready()) break;
    if (std::chrono::steady_clock::now() >= bootstrap_deadline) {
      log::error("keys.bootstrap_failed", {{"reason", "no signing key appeared within 30s"}});
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto& key_reloads =
      metrics.counter("authd_key_ring_errors_total", "Failed key-ring reloads or rotation checks.")
          .get();
  auto& key_rotations =
      metrics.counter("authd_key_rotations_total", "Key rotations performed by this replica.")
          .get();
  keys::ServiceOptions kopt;
  kopt.poll_interval = cfg.keys.poll_interval;
  // Rotation is due days apart in production, where a check a minute bounds the drift; a
  // short poll interval (tests, demos with short periods) checks as often as it polls.
  kopt.check_interval = std::min<std::chrono::milliseconds>(
      std::chrono::seconds(60),
      std::max<std::chrono::milliseconds>(cfg.keys.poll_interval, std::chrono::seconds(1)));
  kopt.on_error = [&key_reloads](const keys::Error& e) {
    key_reloads.inc();
    log::warn("keys.refresh_failed", {{"reason", e.message}});
  };
  kopt.on_rotated = [&key_rotations](const keys::RotateResult& r) {
    key_rotations.inc();
    log::info("keys.rotated", {{"kid", r.kid}, {"deleted", r.deleted}});
  };
  auto shared = make_shared_state(cfg, clock);
  if (!shared) {
    log::error("authd.redis", {{"reason", shared.error().message}});
    return shared.error().exit_code;
  }
  auto& st = **shared;
  if (st.revocations) {
    // Another replica rotated: reload now instead of at the next poll.
    kopt.on_rotated = [&key_rotations, &st](const keys::RotateResult& r) {
      key_rotations.inc();
      log::info("keys.rotated", {{"kid", r.kid}, {"deleted", r.deleted}});
      (void)st.revocations->publish_event(R"({"type":"keys_changed"})");
    };
  }
  keys::KeyRingService key_service(ring, clock, kopt);
  key_service.start();

  const auto params = password_params(cfg);
  if (cfg.auth.demo_user) ensure_demo_user((*db)->users(), params, clock, random);
  (void)crypto::dummy_hash(params);  // the first unknown-email login must not pay for it

  http::Server server(http::ServerOptions{cfg.server, cfg.log.access_log}, metrics);
  const bool tls = !cfg.server.tls_cert_file.empty();
  // /refresh rotates from the I/O threads without blocking them where the store can.
  auto offload = [&server](std::function<void()> task) { server.offload(std::move(task)); };
  (*db)->attach_event_loops(server.event_loops(), offload);

  auth::Settings as;
  as.issuer = cfg.auth.issuer;
  as.audience = cfg.auth.audience;
  as.access_ttl_s = cfg.auth.access_ttl.count() / 1000;
  as.session_absolute_s = cfg.auth.session_absolute.count() / 1000;
  as.session_idle_s = cfg.auth.session_idle.count() / 1000;
  as.leeway_s = cfg.auth.leeway.count() / 1000;
  as.password = params;
  // Without change events (no Redis) a client is re-read from the store every second, so an
  // authctl change reaches this replica within one second either way.
  as.client_cache_s = cfg.redis.url.empty() ? kClientCacheWithoutEvents : kClientCacheWithEvents;
  RingKeys ring_keys(ring);
  MetricsEvents events(metrics);
  auth::AuthService::Deps deps{
      (*db)->users(), (*db)->sessions(), (*db)->clients(), ring_keys, clock,
      random,         *pepper,           &events};
  if (cfg.limits.enabled) {
    deps.limiter = st.login();
    deps.refresh_limiter = st.refresh();
  }
  deps.revocations = st.revocations.get();
  deps.offload = offload;
  as.login_per_ip = to_limit(cfg.limits.login_per_ip);
  as.login_per_account = to_limit(cfg.limits.login_per_account);
  as.login_failures = to_limit(cfg.limits.login_failures);
  as.refresh_per_ip = to_limit(cfg.limits.refresh_per_ip);
  as.refresh_per_family = to_limit(cfg.limits.refresh_per_family);
  as.token_per_client = to_limit(cfg.limits.token_per_client);
  as.oauth_per_ip = to_limit(cfg.limits.oauth_per_ip);

  auto public_router = std::make_shared<http::Router>();
  std::shared_ptr<http::Router> admin_router;
  if (cfg.server.admin_listen) admin_router = std::make_shared<http::Router>();

  // Bind first: the issuer defaults to the public URL, which needs the bound port.
  // Routes are added before run(), so no request sees a half-built router.
  auto pub = server.listen("public", cfg.server.listen, public_router, tls);
  if (!pub) {
    log::error("server.listen_failed", {{"listener", "public"}, {"reason", pub.error()}});
    return 1;
  }
  const std::string base = std::string(tls ? "https://" : "http://") + pub->to_string();
  if (as.issuer.empty()) as.issuer = base;
  auth::AuthService service(deps, as);
  http::AuthRoutesOptions ro;
  ro.allowed_origins = cfg.auth.cookie_origins;
  if (cfg.general.dev) ro.allowed_origins.push_back(base);
  http::add_auth_routes(*public_router, service, ro);
  http::add_jwks_route(*public_router, [&ring] {
    auto doc = ring.jwks();
    return http::JwksDocument{doc->body, doc->etag, doc->cache_control};
  });
  auto failing = [](bool ok, const char* status) {
    return ok ? std::nullopt : std::optional<std::string>(status);
  };
  http::add_admin_routes(
      admin_router ? *admin_router : *public_router, metrics,
      {[&server, failing] { return failing(!server.draining(), "draining"); },
       [&ring, failing] { return failing(ring.ready(), "no_signing_key"); },
       [&db, failing] { return failing(bool((*db)->ping()), "store_unavailable"); }});

  std::optional<config::Endpoint> admin;
  if (admin_router) {
    auto a = server.listen("admin", *cfg.server.admin_listen, admin_router, false);
    if (!a) {
      log::error("server.listen_failed", {{"listener", "admin"}, {"reason", a.error()}});
      return 1;
    }
    admin = *a;
  }
  SignalHandler signals(server);
  Janitor janitor((*db)->sessions(), clock, cfg.store.purge_interval, cfg.store.purge_retention);
  auto& redis_up =
      metrics.gauge("authd_redis_up", "1 while Redis answers; 0 while authd runs on its fallbacks.")
          .get();
  if (st.redis) {
    redis_up.set(st.redis->available() ? 1 : 0);
    if (!st.redis->available()) service.set_client_cache_seconds(kClientCacheWithoutEvents);
    st.handles.push_back(st.redis->on_state_change([&redis_up, &st, &service](bool up) {
      redis_up.set(up ? 1 : 0);
      // Client change events cannot arrive while Redis is down: fall back to the store.
      service.set_client_cache_seconds(up ? kClientCacheWithEvents : kClientCacheWithoutEvents);
      if (up) service.forget_client("");  // events may have been missed
      if (up)
        log::info("cache.redis_up", {{"endpoint", st.redis->endpoint()}});
      else
        log::warn("cache.redis_down", {{"reason", st.redis->last_error()},
                                       {"fallback", "local limits, store revocation checks"}});
    }));
    st.handles.push_back(st.revocations->on_event(
        [&key_service, &service](const std::string& type, const std::string& payload) {
          if (type == "keys_changed") key_service.notify();
          if (type == "client_changed") {
            // authctl changed or deleted a client: drop this replica's copy now.
            auto j = nlohmann::json::parse(payload, nullptr, false);
            auto it = j.is_object() ? j.find("client_id") : j.end();
            service.forget_client(it != j.end() && it->is_string() ? it->get<std::string>()
                                                                   : std::string());
          }
        }));
    // Revocations published while this replica was cut off were lost: re-read them.
    const std::int64_t window = as.access_ttl_s + as.leeway_s;
    // So were key-ring events: reload the ring now rather than at the next poll.
    st.handles.push_back(
        st.revocations->on_reconnect([&janitor, &db, &clock, &st, &key_service, window] {
          key_service.notify();
          janitor.post([&db, &clock, &st, window] {
            const auto now = clock.now_unix();
            auto ids = (*db)->sessions().revoked_since(now - window);
            if (!ids) {
              log::warn("cache.revocation_resync_failed", {{"reason", ids.error().message}});
              return;
            }
            for (const auto& id : *ids) st.revocations->mark_revoked_local(id, now + window);
            // Revoked access tokens are few (explicit RFC 7009 calls): write them back to
            // Redis too, which also heals a Redis that restarted empty.
            auto tokens = (*db)->sessions().revoked_tokens(now, 100000);
            if (tokens)
              for (const auto& [jti, until] : *tokens) st.revocations->revoke_token(jti, until);
            log::info("cache.revocation_resync",
                      {{"sessions", ids->size()}, {"tokens", tokens ? tokens->size() : 0}});
          });
        }));
  }

  const std::string admin_base = admin ? "http://" + admin->to_string() : base;
  log::info("authd.started", {{"version", AUTHD_VERSION},
                              {"dev", cfg.general.dev},
                              {"public", base},
                              {"admin", admin_base},
                              {"schema_version", *version},
                              {"io_threads", cfg.server.threads},
                              {"worker_threads", cfg.server.worker_threads}});
  if (cfg.general.dev) {
    std::cerr << "\nauthd dev mode — data in " << cfg.general.data_dir << "\n"
              << "  demo user  " << kDemoEmail << " / " << kDemoPassword << "\n"
              << "  log in     curl -s " << base
              << "/login -H 'Content-Type: application/json' \\\n"
              << "               -d '{\"email\":\"" << kDemoEmail << "\",\"password\":\""
              << kDemoPassword << "\"}'\n"
              << "  JWKS       " << base << "/.well-known/jwks.json\n"
              << "  health     " << admin_base << "/healthz   metrics " << admin_base
              << "/metrics\n"
              << "  stop with Ctrl-C\n\n";
  }
  server.run();
  // Work still queued for the workers uses the service and the stores: finish it while they
  // live; then nothing may touch the stopped loops.
  server.join_workers();
  (*db)->detach_event_loops();
  key_service.stop();
  st.handles.clear();
  log::info("authd.stopped");
  return 0;
}

}  // namespace authd::app
