#include "store/postgres/pool.h"

#include <algorithm>
#include <string>

namespace authd::store::postgres {

Lease::~Lease() {
  if (conn_) pool_->release(std::move(conn_));
}

Pool::~Pool() {
  // Leases never outlive the Database that owns the pool (calls are synchronous), so only idle
  // connections are left here.
  idle_.clear();
}

StoreResult<Lease> Pool::acquire(bool fresh) {
  const auto deadline = std::chrono::steady_clock::now() + acquire_timeout_;
  std::unique_ptr<Connection> reused;
  std::unique_ptr<Connection> discard;  // closed outside the lock: PQfinish does I/O
  {
    std::unique_lock lock(mutex_);
    while (true) {
      if (!idle_.empty()) {
        std::unique_ptr<Connection> conn = std::move(idle_.back());
        idle_.pop_back();
        if (!fresh && !conn->lost()) {
          reused = std::move(conn);
          break;
        }
        // Give its slot to a new connection instead.
        discard = std::move(conn);
        break;
      }
      if (open_ < size_) {
        ++open_;
        break;
      }
      ++blocked_;
      update_contended_locked();
      const auto waited = freed_.wait_until(lock, deadline);
      --blocked_;
      update_contended_locked();
      if (waited == std::cv_status::timeout && open_ >= size_ && idle_.empty()) {
        return fail(Errc::kUnavailable, "postgres: no free connection within " +
                                            std::to_string(acquire_timeout_.count()) +
                                            " ms (pool size " + std::to_string(size_) + ")");
      }
    }
  }
  if (reused) {
    ready(*reused);
    return Lease(this, std::move(reused), true);
  }
  discard.reset();
  auto conn = Connection::open(settings_);
  if (!conn) {
    give_back_slot();
    return unexpected(std::move(conn).error());
  }
  ready(**conn);
  return Lease(this, std::move(conn).value(), false);
}

std::optional<Lease> Pool::try_acquire_idle() {
  std::vector<std::unique_ptr<Connection>> lost;
  {
    std::lock_guard lock(mutex_);
    while (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      if (!conn->lost()) return Lease(this, std::move(conn), true);
      lost.push_back(std::move(conn));
      --open_;
    }
    if (!lost.empty()) wake_all_locked();
  }
  if (!lost.empty()) freed_.notify_all();  // their slots are free for new connections
  return std::nullopt;
}

std::size_t Pool::fill(const std::function<bool()>& stopped) {
  // The ones opened before the primer was set (the migration's) first: the loops take idle
  // connections as they are.
  while (!stopped()) {
    std::unique_ptr<Connection> conn = take_unprimed_idle();
    if (!conn) break;
    ready(*conn);
    release(std::move(conn));
  }
  std::size_t opened = 0;
  while (!stopped()) {
    {
      std::lock_guard lock(mutex_);
      if (open_ >= size_) break;
      ++open_;  // the slot is this connection's while it opens, as in acquire()
    }
    auto conn = Connection::open(settings_);
    if (!conn) {
      give_back_slot();
      break;
    }
    ready(**conn);
    release(std::move(conn).value());  // idle now, as a connection coming back
    ++opened;
  }
  return opened;
}

void Pool::set_primer(std::function<void(Connection&)> primer) {
  std::call_once(primer_once_, [&] {
    primer_ = std::move(primer);
    primer_set_.store(true, std::memory_order_release);
  });
}

void Pool::ready(Connection& conn) {
  if (conn.primed() || !primer_set_.load(std::memory_order_acquire)) return;
  // Once, whatever the outcome: a primer's failure only costs the first real call its
  // preparation, and a connection it found broken is discarded on release anyway.
  primer_(conn);
  conn.mark_primed();
}

std::unique_ptr<Connection> Pool::take_unprimed_idle() {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(idle_.begin(), idle_.end(), [](const auto& c) { return !c->primed(); });
  if (it == idle_.end()) return nullptr;
  std::unique_ptr<Connection> conn = std::move(*it);
  idle_.erase(it);
  return conn;
}

void Pool::give_back_slot() {
  {
    std::lock_guard lock(mutex_);
    --open_;
    wake_all_locked();
  }
  freed_.notify_one();
}

void Pool::release(std::unique_ptr<Connection> conn) {
  std::vector<std::unique_ptr<Connection>> discard;
  {
    std::lock_guard lock(mutex_);
    if (conn->broken() || conn->lost() || !conn->idle()) {
      // A broken connection means the server went away (crash, failover, network) or was
      // demoted to read-only: every idle connection to it is as useless, so drop them now
      // rather than fail one caller per connection. A connection merely left inside a
      // transaction says nothing about the others.
      if (conn->broken() || conn->lost()) {
        open_ -= idle_.size();
        discard = std::move(idle_);
        idle_.clear();
      }
      discard.push_back(std::move(conn));
      --open_;
      wake_all_locked();
    } else {
      idle_.push_back(std::move(conn));
      wake_first_locked();
    }
  }
  freed_.notify_all();
}

bool Pool::wait_for_release(const void* owner, std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  if (open_ < size_) return false;
  waiters_.push_back({owner, std::move(wake)});
  // One came back between the caller's try_acquire_idle() and now: no release will announce it.
  if (!idle_.empty()) wake_first_locked();
  update_contended_locked();
  return true;
}

void Pool::cancel_wait(const void* owner) {
  std::lock_guard lock(mutex_);
  std::erase_if(waiters_, [owner](const Waiter& w) { return w.owner == owner; });
  update_contended_locked();
}

void Pool::wake_first_locked() {
  if (waiters_.empty()) return;
  Waiter first = std::move(waiters_.front());
  waiters_.pop_front();
  first.wake();
  update_contended_locked();
}

void Pool::wake_all_locked() {
  std::deque<Waiter> all = std::move(waiters_);
  waiters_.clear();
  for (auto& w : all) w.wake();
  update_contended_locked();
}

void Pool::update_contended_locked() {
  contended_.store(blocked_ > 0 || !waiters_.empty(), std::memory_order_relaxed);
}

}  // namespace authd::store::postgres
