#include "authd/http/admin_routes.h"

#include "authd/core/json_writer.h"
#include "authd/obs/metrics.h"

namespace authd::http {
namespace {

Response status_response(int status, std::string_view name) {
  return Response::json(status, authd::json::ObjectWriter(0).str("status", name).finish());
}

}  // namespace

void add_admin_routes(Router& router, obs::Registry& metrics, std::vector<ReadinessProbe> probes) {
  // The liveness probe's answer never changes: written out, not built. It fits the body
  // string's inline buffer, so it allocates nothing either.
  router.add("GET", "/healthz", [](const Request&, RequestContext&) {
    return Response::json(200, R"({"status":"ok"})");
  });
  // Inline: the probes read cached state. On the worker pool it would queue behind requests
  // blocked on a dead database, or wait at the store gate, and the balancer's check would time
  // out on every replica at once.
  router.add("GET", "/readyz", [probes = std::move(probes)](const Request&, RequestContext&) {
    for (const auto& probe : probes)
      if (auto failing = probe()) return status_response(503, *failing);
    return status_response(200, "ready");
  });
  router.add("GET", "/metrics", [&metrics](const Request&, RequestContext&) {
    return Response::text(200, metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace authd::http
