#pragma once
// The PostgreSQL backend (production): a bounded pool of libpq connections, prepared
// statements, SQLSTATEs classified once into store::Errc, and refresh-token rotation in one
// round trip (a plpgsql function installed by the migrations).

#include <cstddef>
#include <memory>
#include <string>

#include "authd/store/database.h"
#include "authd/store/errc.h"

namespace authd::store {

struct PostgresOptions {
  /// libpq connection string, URL ("postgresql://...") or key=value form, passed to libpq as
  /// is. Multi-host strings work: with "host=a,b port=1,2 target_session_attrs=read-write"
  /// every new connection finds the current primary, so a promoted standby is picked up as
  /// soon as the connections to the old primary have been discarded.
  std::string conninfo;
  /// Optional. Passed to libpq as a separate parameter (it overrides one in `conninfo`) so that
  /// it can come from a secret file rather than the config; never logged or put in messages.
  std::string password;
  /// Maximum number of open connections. Calls beyond it wait for a free one.
  std::size_t pool_size = 10;
  /// libpq connect_timeout, per host tried: rounded up to whole seconds, and libpq 15 ends
  /// the wait at a wall-clock second tick, so an attempt may end up to a second early.
  int connect_timeout_ms = 5000;
  /// How long a call waits for a free pooled connection before failing with kUnavailable.
  int acquire_timeout_ms = 2000;
  /// Server-side statement_timeout for every statement; 0 keeps the server's setting.
  /// Migrations run without it.
  int statement_timeout_ms = 5000;
  /// Client-side limit on every statement, from sending it to its answer (a first-use prepare
  /// included). It bounds what statement_timeout cannot: a server that is stopped, frozen or
  /// cut off while its TCP connections stay open, or a commit waiting for a synchronous
  /// standby that is gone. Past it the call fails with kUnavailable, a cancel request goes out
  /// in the background, and the connection is discarded (whether the statement ran, or will
  /// still run once the server resumes, is unknown). Negative (the default): derived,
  /// statement_timeout_ms + kClientDeadlineMarginMs, or none when statement_timeout_ms is 0
  /// (the server's own limit is then unknown). 0: none. Migrations run without it.
  int client_deadline_ms = -1;
  /// What a derived client deadline adds to statement_timeout_ms, so that a server that can
  /// still enforce its own limit always answers first (57014, the connection kept).
  static constexpr int kClientDeadlineMarginMs = 1000;
  /// Shown in pg_stat_activity; "" keeps libpq's default (or the one in `conninfo`).
  std::string application_name = "authd";
};

/// Creates a Postgres-backed Database. Opens no connection yet: the first call (ping() is the
/// cheap one) connects, so authd can start while the database is still coming up.
///
/// Errors are classified once: unique violation, serialization failure and deadlock
/// (23505, 40001, 40P01) -> kConflict; connection, resource and operator-intervention classes
/// (08, 53, 57), read-only transaction (25006: a demoted primary) and a broken connection ->
/// kUnavailable, and that connection is discarded (with every idle one when the server went
/// away) so the next call reconnects through `conninfo`; undefined table, column or function
/// (42P01, 42703, 42883) -> kSchema; everything else -> kInternal. Messages carry the SQLSTATE
/// and the server's primary message only, never DETAIL (which can quote key values).
///
/// Every statement is bounded by the client deadline (client_deadline_ms) and every connect by
/// connect_timeout_ms (per host tried), so a stalled server costs a caller at most one connect
/// plus one deadline, or two of each for a refresh rotation, which is retried once on a new
/// connection (see SessionStore::rotate): no thread waits for the server to come back.
///
/// @return kInternal if `conninfo` is not a valid libpq connection string or pool_size is 0.
/// The Database and its stores are thread-safe; every call blocks (run it on a worker pool).
StoreResult<std::unique_ptr<Database>> open_postgres(const PostgresOptions& options);

}  // namespace authd::store
