#include "app/daemon.h"

#include <sys/stat.h>

#include <filesystem>
#include <iostream>

#include "authd/http/server.h"
#include "authd/obs/log.h"
#include "authd/obs/metrics.h"

namespace authd::app {
namespace {

/// Admin routes: liveness, readiness and metrics. Transport-free so tests can call them.
void add_admin_routes(http::Router& router, http::Server& server, obs::Registry& metrics) {
  router.add("GET", "/healthz", [](const http::Request&, http::RequestContext&) {
    return http::Response::json(200, R"({"status":"ok"})");
  });
  router.add("GET", "/readyz", [&server](const http::Request&, http::RequestContext&) {
    if (server.draining())
      return http::Response::json(503, R"({"status":"draining"})");
    return http::Response::json(200, R"({"status":"ready"})");
  });
  router.add("GET", "/metrics", [&metrics](const http::Request&, http::RequestContext&) {
    return http::Response::text(200, metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

void add_public_routes(http::Router& router) {
  router.add("GET", "/.well-known/jwks.json", [](const http::Request&, http::RequestContext&) {
    auto r = http::Response::json(200, R"({"keys":[]})");
    r.set_header("Cache-Control", "public, max-age=300, stale-while-revalidate=60");
    return r;
  });
}

int prepare_data_dir(const config::Config& cfg) {
  std::error_code ec;
  std::filesystem::create_directories(cfg.general.data_dir, ec);
  if (ec) {
    log::error("authd.data_dir", {{"path", cfg.general.data_dir}, {"reason", ec.message()}});
    return 1;
  }
  ::chmod(cfg.general.data_dir.c_str(), 0700);
  return 0;
}

}  // namespace

int run_daemon(const config::Config& cfg, const std::string& command) {
  if (command == "migrate") {
    log::error("authd.migrate", {{"reason", "no database store is configured in this build yet"}});
    return 1;
  }
  if (cfg.general.dev && prepare_data_dir(cfg) != 0) return 1;

  obs::Registry metrics;
  http::Server server(http::ServerOptions{cfg.server, cfg.log.access_log}, metrics);

  auto public_router = std::make_shared<http::Router>();
  add_public_routes(*public_router);
  const bool tls = !cfg.server.tls_cert_file.empty();
  std::shared_ptr<http::Router> admin_router;
  if (cfg.server.admin_listen) {
    admin_router = std::make_shared<http::Router>();
    add_admin_routes(*admin_router, server, metrics);
  } else {
    add_admin_routes(*public_router, server, metrics);
  }

  auto pub = server.listen("public", cfg.server.listen, public_router, tls);
  if (!pub) {
    log::error("server.listen_failed", {{"listener", "public"}, {"reason", pub.error()}});
    return 1;
  }
  std::optional<config::Endpoint> admin;
  if (admin_router) {
    auto a = server.listen("admin", *cfg.server.admin_listen, admin_router, false);
    if (!a) {
      log::error("server.listen_failed", {{"listener", "admin"}, {"reason", a.error()}});
      return 1;
    }
    admin = *a;
  }
  server.handle_signals();

  const std::string scheme = tls ? "https://" : "http://";
  const std::string base = scheme + pub->to_string();
  log::info("authd.started", {{"version", AUTHD_VERSION}, {"dev", cfg.general.dev},
                              {"public", base}, {"admin", admin ? "http://" + admin->to_string() : base},
                              {"io_threads", cfg.server.threads}, {"worker_threads", cfg.server.worker_threads}});
  if (cfg.general.dev) {
    std::cerr << "\nauthd dev mode — data in " << cfg.general.data_dir << "\n"
              << "  JWKS     " << base << "/.well-known/jwks.json\n"
              << "  health   " << (admin ? "http://" + admin->to_string() : base) << "/healthz\n"
              << "  metrics  " << (admin ? "http://" + admin->to_string() : base) << "/metrics\n"
              << "  stop with Ctrl-C\n\n";
  }
  server.run();
  log::info("authd.stopped");
  return 0;
}

}  // namespace authd::app
