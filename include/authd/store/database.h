#pragma once
// A storage backend: owns its connections, applies migrations, and hands out one store per
// aggregate. Implementations: store/postgres (production) and store/sqlite (dev mode).

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "authd/auth/client_store.h"
#include "authd/auth/code_store.h"
#include "authd/auth/session_store.h"
#include "authd/auth/user_store.h"
#include "authd/keys/key_store.h"
#include "authd/store/errc.h"

namespace boost::asio {
class io_context;
}

namespace authd::store {

class Database {
 public:
  virtual ~Database() = default;
  /// Applies pending migrations under a cluster-wide lock; idempotent. Returns the version.
  virtual StoreResult<int> migrate() = 0;
  /// The schema version recorded in schema_migrations (0 for an empty database).
  virtual StoreResult<int> schema_version() = 0;
  /// kSchema unless the schema is exactly the version this build was written for.
  virtual StoreResult<void> check_schema() = 0;
  /// Cheap round trip: kUnavailable unless the store can write now (Postgres: a primary, not
  /// a standby). The failover watch and /readyz ask it.
  virtual StoreResult<void> ping() = 0;

  virtual auth::UserStore& users() = 0;
  virtual auth::SessionStore& sessions() = 0;
  virtual auth::ClientStore& clients() = 0;
  virtual auth::CodeStore& codes() = 0;
  virtual keys::KeyStore& keys() = 0;

  /// Lets the stores serve some calls from these event loops without blocking them (Postgres:
  /// SessionStore::rotate_async); `offload` runs blocking work on a worker pool. Attach before
  /// the loops run; detach after they stopped and before they are destroyed. A backend without
  /// non-blocking I/O ignores both.
  virtual void attach_event_loops(const std::vector<boost::asio::io_context*>& /*loops*/,
                                  std::function<void(std::function<void()>)> /*offload*/) {}
  virtual void detach_event_loops() {}
  /// Opens the connections a burst of requests would otherwise open as it arrives, in the
  /// background once `delay` has passed (Postgres: the whole pool, one at a time, stopping at
  /// the first failure), so the first requests after a start do not wait for handshakes.
  /// Call it once the schema is migrated: from then on Postgres readies each connection for
  /// rotations before its first use, including those opened on demand. Returns at once.
  virtual void warm_up(std::chrono::milliseconds /*delay*/) {}
};

}  // namespace authd::store
