#pragma once
// The key ring at start-up and its background service: the first signing key (created once
// across replicas started together), and the service options that log, count and tell other
// replicas about rotations.

#include <functional>

#include "app/components.h"
#include "authd/auth/service.h"
#include "authd/config/config.h"
#include "authd/keys/key_ring.h"
#include "authd/keys/key_ring_service.h"
#include "authd/obs/metrics.h"

namespace authd::app {

/// Loads the ring and, on a first start, creates the first key. Replicas started together race
/// for the rotation lock; a loser must not serve without a key, so it waits (30 s at most) for
/// the winner's commit. Exit code 1 when no key appears.
AppResult<void> bootstrap_key_ring(keys::KeyRing& ring);

/// Reload and rotation-check intervals from `cfg`; failures and rotations counted in `metrics`
/// and logged. `announce_rotation`, if set, runs after this replica rotated (it publishes
/// "keys changed" so that the others reload at once rather than at their next poll).
/// `events`, if set, gets a key.rotated audit record per rotation and must outlive the service.
keys::ServiceOptions key_service_options(const config::Config& cfg, obs::Registry& metrics,
                                         std::function<void()> announce_rotation,
                                         auth::Events* events = nullptr);

}  // namespace authd::app
