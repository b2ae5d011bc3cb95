#include "authd/core/wait_gate.h"

#include <vector>

namespace authd {

bool WaitGate::is_open() const {
  std::lock_guard lock(mu_);
  return open_;
}

std::optional<WaitGate::Ticket> WaitGate::wait(SteadyClock::time_point deadline, Resume resume) {
  std::lock_guard lock(mu_);
  open_ = false;
  if (waiters_.size() >= max_waiting_) return std::nullopt;
  const Ticket ticket = next_ticket_++;
  waiters_.emplace(ticket, Waiter{deadline, std::move(resume)});
  return ticket;
}

void WaitGate::open() {
  std::map<Ticket, Waiter> released;
  {
    std::lock_guard lock(mu_);
    open_ = true;
    released.swap(waiters_);
  }
  for (auto& [ticket, waiter] : released) waiter.resume(Outcome::kOpen);
}

void WaitGate::expire(SteadyClock::time_point now) {
  std::vector<Resume> expired;
  {
    std::lock_guard lock(mu_);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second.deadline <= now) {
        expired.push_back(std::move(it->second.resume));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& resume : expired) resume(Outcome::kTimedOut);
}

void WaitGate::cancel(Ticket ticket) {
  Resume resume;
  {
    std::lock_guard lock(mu_);
    auto it = waiters_.find(ticket);
    if (it == waiters_.end()) return;
    resume = std::move(it->second.resume);
    waiters_.erase(it);
  }
  resume(Outcome::kCancelled);
}

std::size_t WaitGate::waiting() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

std::optional<WaitGate::SteadyClock::time_point> WaitGate::next_deadline() const {
  std::lock_guard lock(mu_);
  std::optional<SteadyClock::time_point> earliest;
  for (const auto& [ticket, waiter] : waiters_)
    if (!earliest || waiter.deadline < *earliest) earliest = waiter.deadline;
  return earliest;
}

}  // namespace authd
