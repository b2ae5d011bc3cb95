#include "app/key_bootstrap.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>
#include <utility>

#include "authd/keys/rotation.h"
#include "authd/obs/log.h"

namespace authd::app {

AppResult<void> bootstrap_key_ring(keys::KeyRing& ring) {
  auto load_failed = [](const keys::Error& e) {
    log::error("keys.load_failed", {{"reason", e.message}});
    return unexpected(Failure{1, "cannot load the key ring"});
  };
  if (auto loaded = ring.load(); !loaded) return load_failed(loaded.error());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int attempt = 0; !ring.ready(); ++attempt) {
    // Try to create the key at first, then only once a second: a replica that lost the race
    // waits for the winner's commit, and must not itself rotate a ring that now has a key.
    if (attempt % 10 == 0) {
      if (auto r = ring.rotate(false); !r) {
        log::error("keys.bootstrap_failed", {{"reason", r.error().message}});
        return unexpected(Failure{1, "cannot create the first signing key"});
      }
    }
    if (auto loaded = ring.load(); !loaded) return load_failed(loaded.error());
    if (ring.ready()) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      log::error("keys.bootstrap_failed", {{"reason", "no signing key appeared within 30s"}});
      return unexpected(Failure{1, "no signing key"});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return {};
}

keys::ServiceOptions key_service_options(const config::Config& cfg, obs::Registry& metrics,
                                         std::function<void()> announce_rotation,
                                         auth::Events* events) {
  auto& errors =
      metrics.counter("authd_key_ring_errors_total", "Failed key-ring reloads or rotation checks.")
          .get();
  auto& rotations =
      metrics.counter("authd_key_rotations_total", "Key rotations performed by this replica.")
          .get();
  keys::ServiceOptions options;
  options.poll_interval = cfg.keys.poll_interval;
  // Rotation is due days apart in production, where a check a minute bounds the drift; a
  // short poll interval (tests, demos with short periods) checks as often as it polls.
  options.check_interval = std::min<std::chrono::milliseconds>(
      std::chrono::seconds(60),
      std::max<std::chrono::milliseconds>(cfg.keys.poll_interval, std::chrono::seconds(1)));
  options.on_error = [&errors](const keys::Error& e) {
    errors.inc();
    log::warn("keys.refresh_failed", {{"reason", e.message}});
  };
  options.on_rotated = [&rotations, events,
                        announce = std::move(announce_rotation)](const keys::RotateResult& r) {
    rotations.inc();
    log::info("keys.rotated",
              {{"kid", r.kid}, {"id_token_kid", r.id_token_kid}, {"deleted", r.deleted}});
    // One record per key made: the access-token chain's and the ID-token chain's.
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    for (const auto& [kid, outcome] : r.keys_made()) {
      if (events)
        events->audit({.time = now,
                       .type = "key.rotated",
                       .outcome = "success",
                       .reason = std::string(keys::to_string(outcome)),
                       .key_id = kid});
    }
    if (announce) announce();
  };
  return options;
}

}  // namespace authd::app
