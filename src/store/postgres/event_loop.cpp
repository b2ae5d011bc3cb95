#include "store/postgres/event_loop.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>

namespace authd::store::postgres {

namespace asio = boost::asio;

// A leased connection and its socket as registered with the loop. The socket belongs to libpq:
// the descriptor object only watches it and is released, never closed. `deadline` ends a
// statement the server does not answer in time (Connection::expire); `op` numbers the
// statements run on the slot, so that a wake-up or a timer already queued for one statement
// never acts on the next.
struct Lane::Slot {
  Slot(asio::io_context& loop, Lease l) : lease(std::move(l)), socket(loop), deadline(loop) {}
  ~Slot() { release_socket(); }
  void release_socket() {
    deadline.cancel();
    if (socket.is_open()) socket.release();
  }
  Lease lease;
  asio::posix::stream_descriptor socket;
  asio::steady_timer deadline;
  std::uint64_t op = 0;
  Done done;
  const Batch* kind = nullptr;  // of the call running now, if it has one
};

namespace {
std::atomic<std::uint64_t> g_batched_calls{0};
std::atomic<std::uint64_t> g_batches_rolled_back{0};

// Appends row `row` of `from` to `to` (same columns); false when out of memory.
bool append_row(const PGresult* from, int row, PGresult* to) {
  const int at = PQntuples(to);
  for (int column = 0; column < PQnfields(from); ++column) {
    const bool null = PQgetisnull(from, row, column) != 0;
    if (PQsetvalue(to, at, column, null ? nullptr : PQgetvalue(from, row, column),
                   null ? -1 : PQgetlength(from, row, column)) == 0) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::uint64_t batched_calls() { return g_batched_calls.load(std::memory_order_relaxed); }
std::uint64_t batches_rolled_back() {
  return g_batches_rolled_back.load(std::memory_order_relaxed);
}

Lane::~Lane() { abandon(); }

bool Lane::exec(const Statement& statement, Params params, Done done, const Batch* batch) {
  Pending op{&statement, std::move(params), std::move(done), {}, batch, batch};
  return submit(op);
}

bool Lane::submit(Pending& op) {
  if (abandoned_) return false;
  // A call of a kind already running on kind->connections connections waits for them (and so
  // leaves in a batch); they are running, so the queue is not stranded.
  const bool waits_for_its_kind = op.kind != nullptr && queue_.size() < kMaxQueued &&
                                  running_of(op.kind) >= op.kind->connections;
  if (!waits_for_its_kind) {
    if (auto lease = pool_.try_acquire_idle()) {
      start(std::move(*lease), std::move(op));
      return true;
    }
    if (queue_.size() >= kMaxQueued) return false;
    if (running_.empty() && !wait_for_pool()) return false;
  }
  op.queued_at = std::chrono::steady_clock::now();
  queue_.push_back(std::move(op));
  return true;
}

void Lane::start(Lease lease, Pending op) {
  auto slot = std::make_shared<Slot>(loop_, std::move(lease));
  running_.push_back(slot);
  run(slot, std::move(op));
}

bool Lane::wait_for_pool() {
  if (waiting_for_pool_) return true;
  std::weak_ptr<char> alive = alive_;
  waiting_for_pool_ = pool_.wait_for_release(this, [this, alive] {
    asio::post(loop_, [this, alive] {
      if (alive.lock()) on_pool_released();
    });
  });
  return waiting_for_pool_;
}

void Lane::on_pool_released() {
  waiting_for_pool_ = false;
  if (abandoned_) return;
  std::vector<Pending> expired = take_expired();
  std::vector<Pending> orphaned;
  if (!queue_.empty()) {
    if (auto lease = pool_.try_acquire_idle()) {
      start(std::move(*lease), take_next());
    } else if (running_.empty() && !wait_for_pool()) {
      // Connections were discarded (the server went away) and the pool has room again.
      orphaned = take_queue();
    }
  }
  fail_queued(expired, orphaned);
}

std::vector<Lane::Pending> Lane::take_expired() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<Pending> expired;
  while (!queue_.empty() && now - queue_.front().queued_at > queue_timeout_) {
    expired.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return expired;
}

std::vector<Lane::Pending> Lane::take_queue() {
  std::vector<Pending> all(std::make_move_iterator(queue_.begin()),
                           std::make_move_iterator(queue_.end()));
  queue_.clear();
  return all;
}

void Lane::fail_queued(std::vector<Pending>& expired, std::vector<Pending>& orphaned) {
  for (auto& op : expired) {
    op.done(fail(Errc::kUnavailable, "postgres: no free connection within " +
                                         std::to_string(queue_timeout_.count()) + " ms"),
            false);
  }
  // They never ran: their callers may retry them on a connection of their own.
  for (auto& op : orphaned) {
    op.done(fail(Errc::kUnavailable, "postgres: connection lost before the statement was sent"),
            true);
  }
}

Lane::Pending Lane::take_next() {
  Pending first = std::move(queue_.front());
  queue_.pop_front();
  const Batch* batch = first.batch;
  if (batch == nullptr) return first;
  auto calls = std::make_shared<std::vector<Pending>>();
  calls->push_back(std::move(first));
  for (auto it = queue_.begin(); it != queue_.end() && calls->size() < batch->max;) {
    if (it->batch != batch) {
      ++it;
      continue;
    }
    calls->push_back(std::move(*it));
    it = queue_.erase(it);
  }
  if (calls->size() == 1) return std::move(calls->front());
  g_batched_calls.fetch_add(calls->size(), std::memory_order_relaxed);
  std::vector<const Params*> params;
  params.reserve(calls->size());
  for (const auto& call : *calls) params.push_back(&call.params);
  Pending combined{batch->statement, batch->combine(params), {}, {}, nullptr, batch};
  combined.done = [this, calls](StoreResult<ResultPtr> result, bool connection_failed) {
    finish_batch(*calls, std::move(result), connection_failed);
  };
  return combined;
}

void Lane::finish_batch(std::vector<Pending>& calls, StoreResult<ResultPtr> result,
                        bool connection_failed) {
  if (!result) {
    if (connection_failed) {
      // In doubt as a whole, like a single call: each caller makes its own retry decision.
      for (auto& call : calls) call.done(unexpected(result.error()), true);
      return;
    }
    // The batch rolled back as a whole (one bad call, a deadlock, a conflict): nothing of it
    // happened, so each call runs again alone and fails, if at all, only for itself.
    g_batches_rolled_back.fetch_add(1, std::memory_order_relaxed);
    for (auto& call : calls) {
      call.batch = nullptr;
      call.kind = nullptr;
      if (!submit(call)) {
        call.done(fail(Errc::kUnavailable, "postgres: no connection to run the call alone"), true);
      }
    }
    return;
  }
  const PGresult* all = result->get();
  const int columns = PQnfields(all);
  std::vector<ResultPtr> answers(calls.size());
  std::vector<bool> failed(calls.size(), false);  // out of memory copying its rows
  for (int row = 0; row < PQntuples(all); ++row) {
    const char* index_text = PQgetvalue(all, row, columns - 1);
    std::size_t index = 0;
    auto [end, ec] = std::from_chars(index_text, index_text + std::strlen(index_text), index);
    if (ec != std::errc{} || index < 1 || index > calls.size()) continue;
    ResultPtr& answer = answers[index - 1];
    if (!answer) answer.reset(PQcopyResult(all, PG_COPYRES_ATTRS));
    if (!answer || !append_row(all, row, answer.get())) failed[index - 1] = true;
  }
  for (std::size_t i = 0; i < calls.size(); ++i) {
    // A call without rows gets the empty result it would have had alone.
    if (!answers[i] && !failed[i]) answers[i].reset(PQcopyResult(all, PG_COPYRES_ATTRS));
    if (!answers[i] || failed[i]) {
      calls[i].done(fail(Errc::kInternal, "postgres: out of memory splitting a batch"), false);
      continue;
    }
    calls[i].done(std::move(answers[i]), false);
  }
}

void Lane::run(const std::shared_ptr<Slot>& slot, Pending op) {
  slot->kind = op.kind;
  slot->done = std::move(op.done);
  ++slot->op;
  Connection& conn = *slot->lease;
  if (!conn.start(*op.statement, std::move(op.params))) {
    complete(slot, std::move(*conn.advance()));
    return;
  }
  if (!slot->socket.is_open()) {
    boost::system::error_code ec;
    slot->socket.assign(conn.socket(), ec);
    if (ec) {
      // Cannot watch the socket: give the statement up with the connection.
      complete(slot, fail(Errc::kUnavailable, "postgres: cannot watch socket: " + ec.message()));
      return;
    }
  }
  if (auto at = conn.deadline_at()) arm_deadline(slot, *at);
  wait(slot);
}

void Lane::wait(const std::shared_ptr<Slot>& slot) {
  const auto what = slot->lease->wants_write() ? asio::posix::stream_descriptor::wait_write
                                               : asio::posix::stream_descriptor::wait_read;
  // Edge-triggered readiness cannot be missed here: the loop is single-threaded, so an answer
  // that arrives before this wait is queued is reported by the next epoll_wait, after it.
  slot->socket.async_wait(what, [this, slot, op = slot->op](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted || abandoned_ || slot->op != op) return;
    auto result = slot->lease->advance();
    if (!result) return wait(slot);
    complete(slot, std::move(*result));
  });
}

void Lane::arm_deadline(const std::shared_ptr<Slot>& slot,
                        std::chrono::steady_clock::time_point at) {
  slot->deadline.expires_at(at);
  // A weak reference: the timer must not keep a finished slot (and its lease) alive, and a
  // handler left queued by a cancelled timer must touch nothing once its slot is gone.
  std::weak_ptr<Slot> weak = slot;
  slot->deadline.async_wait([this, weak, op = slot->op](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    auto slot = weak.lock();
    if (!slot || abandoned_ || slot->op != op) return;
    // The server has not answered in time (stopped, frozen, cut off): stop watching the
    // socket (its queued wait now ends as aborted) and give the statement up with the
    // connection, which is discarded, never reused.
    boost::system::error_code ignored;
    slot->socket.cancel(ignored);
    complete(slot, slot->lease->expire());
  });
}

void Lane::complete(const std::shared_ptr<Slot>& slot, StoreResult<ResultPtr> result) {
  Connection& conn = *slot->lease;
  // As in the blocking path: only a failure of the connection itself (not a statement timeout
  // or a resource error) makes a retry on a new connection worth it.
  const bool connection_failed = !result && conn.stale();
  Done done = std::move(slot->done);
  ++slot->op;  // whatever is still queued for this statement is stale from now on
  slot->deadline.cancel();
  std::vector<Pending> expired = take_expired();
  std::vector<Pending> orphaned;
  if (!conn.broken() && !queue_.empty() && !pool_.contended()) {
    // Keep the connection for the next queued statement: no trip through the pool.
    run(slot, take_next());
  } else {
    // Broken, idle here, or wanted by another caller: back to the pool (once the last
    // reference to the slot goes, after this call).
    slot->release_socket();
    running_.erase(std::find(running_.begin(), running_.end(), slot));
    if (running_.empty() && !queue_.empty() && (conn.broken() || !wait_for_pool())) {
      // Nothing else runs here to take the queue, and no connection will be handed over (the
      // connection broke, so the pool's others are as suspect): those statements never ran.
      orphaned = take_queue();
    }
  }
  done(std::move(result), connection_failed);
  fail_queued(expired, orphaned);
}

std::size_t Lane::running_of(const Batch* kind) const {
  return static_cast<std::size_t>(std::count_if(
      running_.begin(), running_.end(), [kind](const auto& slot) { return slot->kind == kind; }));
}

void Lane::abandon() {
  abandoned_ = true;
  pool_.cancel_wait(this);
  waiting_for_pool_ = false;
  queue_.clear();
  // Releasing a socket drops the wait queued on it, and with it a handler that may hold the
  // last other reference to its slot: keep the slots alive until every socket is released.
  std::vector<std::shared_ptr<Slot>> slots = std::move(running_);
  running_.clear();
  for (auto& s : slots) s->release_socket();
}

EventLoops::EventLoops(Pool& pool, const std::vector<asio::io_context*>& loops,
                       std::chrono::milliseconds queue_timeout, Offload offload)
    : offload_(std::move(offload)) {
  for (auto* loop : loops) lanes_.push_back(std::make_unique<Lane>(*loop, pool, queue_timeout));
}

Lane* EventLoops::current() {
  for (auto& lane : lanes_) {
    if (lane->loop().get_executor().running_in_this_thread()) return lane.get();
  }
  return nullptr;
}

void EventLoops::abandon() {
  for (auto& lane : lanes_) lane->abandon();
}

}  // namespace authd::store::postgres
