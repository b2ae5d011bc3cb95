#pragma once
// Statements run from Asio event loops without blocking them: the loop that parsed a request
// sends the statement on a pooled connection, waits for the socket with everything else it
// serves, and reads the answer, so the request needs no hand-off to a worker thread and back.
// Private to the Postgres backend.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "store/postgres/pool.h"

namespace authd::store::postgres {

/// Runs blocking work elsewhere (the HTTP server's worker pool).
using Offload = std::function<void(std::function<void()>)>;

/// Calls sent as part of a batch, and batches that rolled back (their calls then ran alone),
/// by this process so far: lets a test prove that batching happened, and how.
std::uint64_t batched_calls();
std::uint64_t batches_rolled_back();

/// How queued calls of one statement go to the server as one: `combine` turns the calls'
/// parameters, in queue order, into those of `statement`, whose result rows each carry in
/// their last column the 1-based position of the call they answer. Atomic as a whole, so a
/// failed batch has done nothing, and its calls are then run alone. At most `connections` of
/// a lane's connections run such calls at once; beyond that they queue, and so leave in
/// batches: a few connections committing big batches cost the server far less than many
/// committing one call each.
struct Batch {
  const Statement* statement;
  Params (*combine)(const std::vector<const Params*>& calls);
  std::size_t max;
  std::size_t connections;
};

/// One event loop's use of the shared pool. Used only from its loop's thread.
class Lane {
 public:
  /// `connection_failed`: the connection rather than the statement failed (Connection::stale:
  /// lost, or no answer within the client deadline), so whether a write committed is unknown
  /// and a retry on a new connection may succeed.
  using Done = std::function<void(StoreResult<ResultPtr> result, bool connection_failed)>;

  Lane(boost::asio::io_context& loop, Pool& pool, std::chrono::milliseconds queue_timeout)
      : loop_(loop), pool_(pool), queue_timeout_(queue_timeout) {}
  ~Lane();
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;

  /// Runs `statement` on an idle pooled connection, or queues it: behind the statements this
  /// lane is running, or, when the pool is full, until the pool hands this lane a connection
  /// (a queued one fails with kUnavailable after the pool's acquire timeout). Lanes take turns:
  /// one that holds connections for its own queue gives one back whenever another caller
  /// waits, so no loop (and no blocking caller) starves behind a busy one.
  /// A running statement ends at its connection's client deadline at the latest: a timer on
  /// this loop gives it up (kUnavailable, connection discarded), so a stalled server never
  /// holds a callback, a connection or the queue behind it for longer.
  /// Returns false, having done nothing, when the pool has room for a new connection and none
  /// is idle: the caller then takes the blocking path, which opens one. `done` runs on this
  /// loop.
  ///
  /// With `batch`, calls that had to queue are sent together: when a connection frees up, it
  /// takes the oldest queued call and up to batch->max - 1 more of the same kind as one
  /// statement (one round trip and, for writes, one commit). A call that finds an idle
  /// connection never waits for company, so batching adds no latency at low load.
  bool exec(const Statement& statement, Params params, Done done, const Batch* batch = nullptr);

  /// For shutdown, once the loop has stopped and before it is destroyed: forgets running and
  /// queued statements (their callbacks are dropped, their connections closed).
  void abandon();

  boost::asio::io_context& loop() { return loop_; }

 private:
  struct Pending {
    const Statement* statement = nullptr;
    Params params;
    Done done;
    std::chrono::steady_clock::time_point queued_at;
    const Batch* batch = nullptr;  // may be combined with others of its kind
    const Batch* kind = nullptr;   // counts against kind->connections while it runs
  };
  struct Slot;
  /// exec() for a built call; false, leaving `op` as it was, when it can neither run nor queue.
  bool submit(Pending& op);
  /// The next call to run from the queue (not empty): the oldest, or a batch it leads.
  Pending take_next();
  /// Hands each call of a batch its rows, or its share of the batch's failure.
  void finish_batch(std::vector<Pending>& calls, StoreResult<ResultPtr> result,
                    bool connection_failed);
  void run(const std::shared_ptr<Slot>& slot, Pending op);
  /// How many of this lane's connections run a call of `kind` now (Batch::connections).
  std::size_t running_of(const Batch* kind) const;
  void wait(const std::shared_ptr<Slot>& slot);
  void arm_deadline(const std::shared_ptr<Slot>& slot, std::chrono::steady_clock::time_point at);
  void complete(const std::shared_ptr<Slot>& slot, StoreResult<ResultPtr> result);
  /// Runs `op` on a new slot for `lease`.
  void start(Lease lease, Pending op);
  /// Asks the pool for the next connection released (true), unless it has room (false).
  bool wait_for_pool();
  /// The pool's wake-up: takes an idle connection for the queue, or waits again.
  void on_pool_released();
  /// Empties the queue, returning its calls (which never ran).
  std::vector<Pending> take_queue();
  /// Removes the calls that waited longer than the queue timeout.
  std::vector<Pending> take_expired();
  /// Fails calls taken off the queue: expired ones, and orphaned ones (in doubt, to retry).
  void fail_queued(std::vector<Pending>& expired, std::vector<Pending>& orphaned);

  static constexpr std::size_t kMaxQueued = 4096;

  boost::asio::io_context& loop_;
  Pool& pool_;
  const std::chrono::milliseconds queue_timeout_;
  std::vector<std::shared_ptr<Slot>> running_;
  std::deque<Pending> queue_;
  bool abandoned_ = false;
  bool waiting_for_pool_ = false;
  // Lets a wake-up posted by the pool find out whether this lane still exists.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

/// The lanes of every attached loop.
class EventLoops {
 public:
  EventLoops(Pool& pool, const std::vector<boost::asio::io_context*>& loops,
             std::chrono::milliseconds queue_timeout, Offload offload);
  /// The lane of the loop running on the calling thread, or nullptr (a worker thread).
  Lane* current();
  /// Runs `task` on a worker.
  void offload(std::function<void()> task) const { offload_(std::move(task)); }
  void abandon();

 private:
  std::vector<std::unique_ptr<Lane>> lanes_;
  Offload offload_;
};

}  // namespace authd::store::postgres
