#pragma once
// The admin surface: liveness, readiness and Prometheus metrics. Kept off the public port when
// an admin listener is configured.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "authd/http/router.h"

namespace authd::obs {
class Registry;
}

namespace authd::http {

/// One readiness condition: nullopt while it holds, else the status /readyz reports
/// ("draining", "store_unavailable"). Runs on an I/O thread: it must not block (read state
/// kept by a background watch, such as app::StoreWatch).
using ReadinessProbe = std::function<std::optional<std::string>()>;

/// Adds GET /healthz (always 200), GET /readyz (503 with the first failing probe's status,
/// probes asked in order; else 200 "ready") and GET /metrics (`metrics` must outlive the
/// router).
void add_admin_routes(Router& router, obs::Registry& metrics, std::vector<ReadinessProbe> probes);

}  // namespace authd::http
