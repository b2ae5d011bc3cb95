#include "app/daemon.h"

#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "app/client_jwks.h"
#include "app/components.h"
#include "app/janitor.h"
#include "app/key_bootstrap.h"
#include "app/metrics_events.h"
#include "app/redis_wiring.h"
#include "app/ring_keys.h"
#include "app/signals.h"
#include "app/store_watch.h"
#include "authd/auth/service.h"
#include "authd/core/clock.h"
#include "authd/core/wait_gate.h"
#include "authd/crypto/password.h"
#include "authd/http/admin_routes.h"
#include "authd/http/auth_routes.h"
#include "authd/http/jwks_route.h"
#include "authd/http/server.h"
#include "authd/keys/key_ring.h"
#include "authd/keys/key_ring_service.h"
#include "authd/obs/log.h"
#include "authd/obs/metrics.h"

// run_daemon is the composition root: it builds every component in dependency order, binds
// the listeners, serves until a signal, and takes things down in the reverse order. Each step
// that can fail logs its reason and returns the process exit code.

namespace authd::app {
namespace {

constexpr const char* kDemoEmail = "demo@example.com";
constexpr const char* kDemoPassword = "demo-password";

/// Logs `event` with the failure's reason; returns its exit code.
int stop_with(const char* event, const Failure& f) {
  log::error(event, {{"reason", f.message}});
  return f.exit_code;
}

int listen_failed(const char* listener, const std::string& reason) {
  log::error("server.listen_failed", {{"listener", listener}, {"reason", reason}});
  return 1;
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

void print_dev_banner(const config::Config& cfg, const std::string& base,
                      const std::string& admin_base) {
  std::cerr << "\nauthd dev mode — data in " << cfg.general.data_dir << "\n"
            << "  demo user  " << kDemoEmail << " / " << kDemoPassword << "\n"
            << "  log in     curl -s " << base << "/login -H 'Content-Type: application/json' \\\n"
            << "               -d '{\"email\":\"" << kDemoEmail << "\",\"password\":\""
            << kDemoPassword << "\"}'\n"
            << "  JWKS       " << base << "/.well-known/jwks.json\n"
            << "  health     " << admin_base << "/healthz   metrics " << admin_base << "/metrics\n"
            << "  stop with Ctrl-C\n\n";
}

/// The open store with its schema checked; or, in `done`, the exit code when the process ends
/// here (an error, or `authd migrate` having done its job).
struct StoreStep {
  std::unique_ptr<store::Database> db;
  int schema_version = 0;
  std::optional<int> done;
};

// Verifiers with a fixed JWKS cache (Envoy jwt_authn: 600 s) reject every token of a new key
// until their cache expires unless the key was published at least that long before.
void warn_if_publish_ahead_short(const keys::Settings& key_cfg) {
  if (keys::publish_ahead(key_cfg) - key_cfg.replica_lag_s >= keys::kMainstreamVerifierCacheS)
    return;
  log::warn("keys.publish_ahead_short",
            {{"publish_ahead_s", std::to_string(keys::publish_ahead(key_cfg))},
             {"needed_s", std::to_string(keys::kMainstreamVerifierCacheS)},
             {"fix", "raise keys.verifier_cache (or jwks_max_age) to at least 10m"}});
}

// The options of the auth routes: cookie origins and flags, the ID-token algorithm for
// discovery, and the login page's stylesheet and logo read from the files the configuration
// names. std::nullopt (logged) when one of those files cannot be read.
std::optional<http::AuthRoutesOptions> auth_route_options(const config::Config& cfg,
                                                          const std::string& issuer,
                                                          const std::string& base) {
  http::AuthRoutesOptions options;
  options.allowed_origins = cfg.auth.cookie_origins;
  // Browsers keep __Host- and Secure cookies only from https origins: an http issuer is a
  // development setup on loopback, whose cookies go without both.
  options.secure_cookies = issuer.rfind("https://", 0) == 0;
  options.id_token_signing_alg = cfg.keys.id_token_algorithm;
  for (auto [path, into] : {std::pair{&cfg.auth.login_css_file, &options.login_css},
                            std::pair{&cfg.auth.logo_file, &options.logo}}) {
    if (path->empty()) continue;
    std::ifstream f(*path, std::ios::binary);
    std::ostringstream content;
    content << f.rdbuf();
    if (!f) {
      log::error("config.file_unreadable", {{"path", *path}});
      return std::nullopt;
    }
    *into = content.str();
  }
  if (cfg.auth.logo_file.ends_with(".png")) options.logo_content_type = "image/png";
  if (cfg.general.dev) options.allowed_origins.push_back(base);
  return options;
}

StoreStep open_store(const config::Config& cfg, const std::string& command) {
  StoreStep step;
  auto db = open_database(cfg);
  if (!db) return {nullptr, 0, stop_with("authd.store", db.error())};
  if (command == "migrate") {
    auto v = (*db)->migrate();
    if (!v) {
      log::error("authd.migrate_failed", {{"reason", v.error().message}});
      return {nullptr, 0, 1};
    }
    log::info("authd.migrated", {{"schema_version", *v}});
    return {nullptr, 0, 0};
  }
  auto version = prepare_schema(**db, cfg);
  if (!version) return {nullptr, 0, stop_with("authd.schema", version.error())};
  step.db = std::move(*db);
  step.schema_version = *version;
  return step;
}

}  // namespace

int run_daemon(const config::Config& cfg, const std::string& command) {
  // 1. Store and secrets.
  auto store = open_store(cfg, command);
  if (store.done) return *store.done;
  store::Database& db = *store.db;
  auto pepper = load_pepper(cfg);
  if (!pepper) return stop_with("authd.secrets", pepper.error());
  auto kek = load_kek(cfg);
  if (!kek) return stop_with("authd.secrets", kek.error());

  // 2. Signing keys: loaded (or created on a first start) before anything can sign.
  SystemClock clock;
  SystemRandom random;
  obs::Registry metrics;
  // Which build answers, for dashboards and alerts that span a rolling upgrade.
  metrics.gauge("authd_build_info", "Always 1; the labels name the running build.", {"version"})
      .with({AUTHD_VERSION})
      .set(1);
  const keys::Settings key_cfg = key_settings(cfg);
  warn_if_publish_ahead_short(key_cfg);
  // The audit trail, before the first event it records (a key rotation).
  std::string audit_error;
  auto audit_sink = StreamAuditSink::open(cfg.audit, audit_error);
  if (!audit_sink) {
    log::error("audit.sink_failed", {{"error", audit_error}});
    return 1;
  }
  MetricsEvents events(metrics, audit_sink.get());
  keys::KeyRing ring(db.keys(), std::move(*kek), clock, key_cfg);
  if (auto ready = bootstrap_key_ring(ring); !ready) return ready.error().exit_code;

  // 3. State shared with the other replicas (Redis, or in-process without it).
  auto shared = make_shared_state(cfg, clock);
  if (!shared) return stop_with("authd.redis", shared.error());
  SharedState& st = **shared;
  std::function<void()> announce_rotation;
  if (st.revocations)
    announce_rotation = [&st] {
      (void)st.revocations->publish_event(R"({"type":"keys_changed"})");
    };
  keys::KeyRingService key_service(
      ring, clock, key_service_options(cfg, metrics, std::move(announce_rotation), &events));
  key_service.start();

  const auto params = password_params(cfg);
  if (cfg.auth.demo_user) ensure_demo_user(db.users(), params, clock, random);
  // So that the first unknown-email login does not pay for it; beside the rest of start-up
  // rather than before it (a login that comes first waits for it inside dummy_hash()).
  std::jthread dummy_hash_warm_up([params] { (void)crypto::dummy_hash(params); });

  // 4. The server and its public listener: the issuer defaults to the public URL, which needs
  // the bound port. Routes are added before run(), so no request sees a half-built router.
  // Requests that need the store wait here through a failover (StoreWatch opens the gate).
  WaitGate store_gate(static_cast<std::size_t>(cfg.store.max_waiting));
  StoreWatch store_watch(store_gate, [&db] { return bool(db.ping()); }, store_peers(st), {});
  http::ServerOptions server_options;
  server_options.config = cfg.server;
  server_options.access_log = cfg.log.access_log;
  if (cfg.store.failover_wait.count() > 0) {
    server_options.store_gate = &store_gate;
    server_options.store_wait = cfg.store.failover_wait;
    server_options.store_served_elsewhere = [&store_watch] {
      return store_watch.served_elsewhere();
    };
  }
  http::Server server(server_options, metrics);
  // Before any listener: from the moment authd is reachable, a SIGHUP (reload) or SIGTERM
  // (drain) is handled, never the default action, which ends the process. Signals that come
  // before run() wait for the loop.
  SignalHandler signals(server, [&audit_sink, &cfg] {
    if (cfg.audit.sink != config::AuditSink::kFile) return;
    std::string error;
    if (audit_sink->reopen(error))
      log::info("audit.reopened", {});
    else
      log::error("audit.reopen_failed", {{"error", error}});
  });
  const bool tls = !cfg.server.tls_cert_file.empty();
  // /refresh rotates from the I/O threads without blocking them where the store can.
  auto offload = [&server](std::function<void()> task) { server.offload(std::move(task)); };
  db.attach_event_loops(server.event_loops(), offload);
  auto public_router = std::make_shared<http::Router>();
  auto admin_router = cfg.server.admin_listen ? std::make_shared<http::Router>() : public_router;
  auto pub = server.listen("public", cfg.server.listen, public_router, tls);
  if (!pub) return listen_failed("public", pub.error());
  const std::string base = std::string(tls ? "https://" : "http://") + pub->to_string();

  // 5. The auth service and its routes.
  auth::Settings settings = auth_settings(cfg);
  if (settings.issuer.empty()) settings.issuer = base;
  settings.client_cache_s =
      cfg.redis.url.empty() ? kClientCacheWithoutEvents : kClientCacheWithEvents;
  RingKeys ring_keys(ring);
  auth::AuthService::Deps deps{db.users(), db.sessions(), db.clients(), ring_keys,
                               clock,      random,        *pepper,      &events};
  if (cfg.limits.enabled) {
    deps.limiter = st.login();
    deps.refresh_limiter = st.refresh();
  }
  deps.revocations = st.revocations.get();
  deps.offload = offload;
  deps.codes = &db.codes();
  deps.used_assertions = st.used_assertions.get();
  ClientJwksOptions jwks_options;
  jwks_options.timeout = cfg.auth.client_jwks_timeout;
  jwks_options.allow_loopback_http = cfg.auth.client_jwks_allow_loopback_http;
  jwks_options.leeway = std::chrono::seconds(settings.leeway_s);
  auto& client_jwks_events =
      metrics.counter("authd_client_jwks_events_total",
                      "What the caches of private_key_jwt clients' jwks_uri key sets did: fetched, "
                      "not_modified, fetch_failed, unknown_kid_refetch, refetch_suppressed, stale.",
                      {"event"});
  jwks_options.on_event = [&client_jwks_events](const std::string& client_id,
                                                const verify::CacheEventInfo& e) {
    client_jwks_events.with({std::string(verify::to_string(e.event))}).inc();
    if (e.event == verify::CacheEvent::kFetchFailed || e.event == verify::CacheEvent::kStale)
      log::warn(
          "client_jwks." + std::string(verify::to_string(e.event)),
          {{"client_id", client_id}, {"url", e.url}, {"status", e.status}, {"detail", e.detail}});
  };
  ClientJwks client_jwks(jwks_options);
  deps.client_keys = &client_jwks;
  auth::AuthService service(deps, settings);
  auto route_options = auth_route_options(cfg, settings.issuer, base);
  if (!route_options) return 1;
  http::add_auth_routes(*public_router, service, std::move(*route_options));
  // Kept per I/O thread and rebuilt only when the ring publishes or the document's time is up:
  // asking the ring on every request took its snapshot lock and bumped reference counts that
  // every loop shares. Each thread's document and copy of the body have their own counts, on
  // their own core; the route builds its headers once per kept document.
  http::add_jwks_route(*public_router, [&ring, &clock] {
    struct Kept {
      std::uint64_t published = 0;
      std::int64_t from = 0, until = std::numeric_limits<std::int64_t>::min();
      std::shared_ptr<const http::JwksDocument> doc;
    };
    thread_local Kept kept;
    const std::int64_t now = clock.now_unix();
    if (kept.published != ring.published() || now < kept.from || now >= kept.until) {
      const keys::KeyRing::CurrentJwks current = ring.current_jwks(now);
      kept = {current.published, current.from, current.until,
              std::make_shared<const http::JwksDocument>(
                  http::JwksDocument{std::make_shared<const std::string>(*current.doc->body),
                                     current.doc->etag, current.doc->cache_control})};
    }
    return kept.doc;
  });
  auto failing = [](bool ok, const char* status) {
    return ok ? std::nullopt : std::optional<std::string>(status);
  };
  http::add_admin_routes(
      *admin_router, metrics,
      {[&server, failing] { return failing(!server.draining(), "draining"); },
       [&ring, failing] { return failing(ring.ready(), "no_signing_key"); },
       [&store_watch, failing] { return failing(store_watch.ready(), "store_unavailable"); }});
  std::string admin_base = base;
  if (cfg.server.admin_listen) {
    auto admin = server.listen("admin", *cfg.server.admin_listen, admin_router, false);
    if (!admin) return listen_failed("admin", admin.error());
    admin_base = "http://" + admin->to_string();
  }

  // 6. Background work: session purge, reactions to Redis.
  Janitor janitor(db.sessions(), db.codes(), db.clients(), clock, cfg.store.purge_interval,
                  cfg.store.purge_retention);
  watch_redis(st, metrics, key_service, service, janitor, db.sessions(), clock,
              settings.access_ttl_s + settings.leeway_s);

  // 7. Serve until a signal; then stop in reverse order.
  log::info("authd.started", {{"version", AUTHD_VERSION},
                              {"dev", cfg.general.dev},
                              {"public", base},
                              {"admin", admin_base},
                              {"schema_version", store.schema_version},
                              {"io_threads", cfg.server.threads},
                              {"worker_threads", cfg.server.worker_threads}});
  if (cfg.general.dev) print_dev_banner(cfg, base, admin_base);
  // After a pause: the handshakes (and the server's forks) would otherwise slow the first
  // readiness checks, while the first burst of traffic comes only after a balancer's checks
  // have passed.
  db.warm_up(std::chrono::milliseconds(500));
  server.run();
  // Work still queued for the workers uses the service and the stores: finish it while they
  // live; then nothing may touch the stopped loops.
  server.join_workers();
  db.detach_event_loops();
  key_service.stop();
  st.handles.clear();
  log::info("authd.stopped");
  return 0;
}

}  // namespace authd::app
