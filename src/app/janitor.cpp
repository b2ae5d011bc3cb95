#include "app/janitor.h"

#include "authd/obs/log.h"

namespace authd::app {
namespace {
constexpr std::size_t kPurgeBatch = 1000;
}  // namespace

Janitor::Janitor(auth::SessionStore& sessions, auth::CodeStore& codes, auth::ClientStore& clients,
                 const Clock& clock, std::chrono::milliseconds interval,
                 std::chrono::milliseconds retention)
    : sessions_(sessions),
      codes_(codes),
      clients_(clients),
      clock_(clock),
      interval_(interval),
      retention_(retention) {
  thread_ = std::thread([this] { run(); });
}

Janitor::~Janitor() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Janitor::post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_all();
}

void Janitor::run() {
  std::unique_lock lock(mu_);
  auto next_purge = std::chrono::steady_clock::now() + interval_;
  while (!stop_) {
    cv_.wait_until(lock, next_purge, [this] { return stop_ || !tasks_.empty(); });
    if (stop_) break;
    if (!tasks_.empty()) {
      auto task = std::move(tasks_.front());
      tasks_.erase(tasks_.begin());
      lock.unlock();
      task();
      lock.lock();
      continue;
    }
    next_purge = std::chrono::steady_clock::now() + interval_;
    lock.unlock();
    purge();
    lock.lock();
  }
}

// Batches until caught up, so a backlog larger than one batch clears in one run; each batch
// is its own short statement, and a stop request ends the run between batches.
void Janitor::purge() {
  const std::int64_t cutoff =
      clock_.now_unix() - std::chrono::duration_cast<std::chrono::seconds>(retention_).count();
  std::size_t total = 0;
  while (true) {
    auto n = sessions_.purge(cutoff, kPurgeBatch);
    if (!n) {
      log::warn("sessions.purge_failed", {{"reason", n.error().message}});
      break;
    }
    total += *n;
    std::lock_guard lock(mu_);
    if (*n < kPurgeBatch || stop_) break;
  }
  if (total > 0) log::info("sessions.purged", {{"count", total}});
  purge_codes(cutoff);
  purge_assertions(clock_.now_unix());
}

// Codes expired longer than the retention, batched like the families. A code whose family
// still exists is kept (the store's rule), so a late replay can still revoke that family.
void Janitor::purge_codes(std::int64_t cutoff) {
  std::size_t total = 0;
  while (true) {
    auto n = codes_.purge(cutoff, kPurgeBatch);
    if (!n) {
      log::warn("codes.purge_failed", {{"reason", n.error().message}});
      break;
    }
    total += *n;
    std::lock_guard lock(mu_);
    if (*n < kPurgeBatch || stop_) break;
  }
  if (total > 0) log::info("codes.purged", {{"count", total}});
}

// Used client assertions, once expired: their jti need not be remembered (an expired
// assertion is refused anyway), so no retention applies.
void Janitor::purge_assertions(std::int64_t now) {
  std::size_t total = 0;
  while (true) {
    auto n = clients_.purge_assertions(now, kPurgeBatch);
    if (!n) {
      log::warn("client_assertions.purge_failed", {{"reason", n.error().message}});
      break;
    }
    total += *n;
    std::lock_guard lock(mu_);
    if (*n < kPurgeBatch || stop_) break;
  }
  if (total > 0) log::info("client_assertions.purged", {{"count", total}});
}

}  // namespace authd::app
