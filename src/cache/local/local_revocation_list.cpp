#include "authd/cache/local_revocation_list.h"

#include <algorithm>
#include <functional>
#include <mutex>
#include <queue>
#include <shared_mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace authd::cache {

struct LocalRevocationList::State {
  using Expiry = std::pair<std::int64_t, std::string>;  // (until, sid)

  mutable std::shared_mutex mutex;
  std::unordered_map<std::string, std::int64_t> until;  // sid → until
  // Soonest expiry on top. An entry is stale when the map holds a later until for its sid
  // (the sid was revoked again for longer) or none; stale entries are skipped when popped.
  std::priority_queue<Expiry, std::vector<Expiry>, std::greater<>> expiries;
  // After an overflow dropped unexpired entries, misses are unknown until this time.
  std::int64_t lossy_until = 0;

  bool is_current(const Expiry& e) const {
    auto it = until.find(e.second);
    return it != until.end() && it->second == e.first;
  }

  void sweep_locked(std::int64_t now) {
    while (!expiries.empty() && expiries.top().first <= now) {
      if (is_current(expiries.top())) until.erase(expiries.top().second);
      expiries.pop();
    }
    // Stale entries can pile up when the same sids are revoked again and again: rebuild.
    if (expiries.size() > 2 * until.size() + 1024) {
      std::vector<Expiry> fresh;
      fresh.reserve(until.size());
      for (const auto& [sid, u] : until) fresh.emplace_back(u, sid);
      expiries = decltype(expiries)(std::greater<>(), std::move(fresh));
    }
  }

  void drop_soonest_locked() {
    while (!expiries.empty()) {
      Expiry e = expiries.top();
      expiries.pop();
      if (is_current(e)) {
        until.erase(e.second);
        lossy_until = std::max(lossy_until, e.first);
        return;
      }
    }
  }
};

LocalRevocationList::LocalRevocationList(const Clock& clock, LocalRevocationListOptions options)
    : clock_(clock),
      max_entries_(std::max<std::size_t>(1, options.max_entries)),
      state_(std::make_unique<State>()) {}

LocalRevocationList::~LocalRevocationList() = default;

void LocalRevocationList::revoke_session(const std::string& sid, std::int64_t until) {
  mark_revoked(sid, until);
}

void LocalRevocationList::mark_revoked(const std::string& sid, std::int64_t until) {
  const std::int64_t now = clock_.now_unix();
  if (until <= now) return;
  std::unique_lock lock(state_->mutex);
  state_->sweep_locked(now);
  auto it = state_->until.find(sid);
  if (it != state_->until.end()) {
    if (it->second >= until) return;
    it->second = until;
  } else {
    while (state_->until.size() >= max_entries_ && !state_->expiries.empty()) {
      state_->drop_soonest_locked();
    }
    state_->until.emplace(sid, until);
  }
  state_->expiries.emplace(until, sid);
}

std::optional<bool> LocalRevocationList::is_session_revoked(const std::string& sid) {
  const std::int64_t now = clock_.now_unix();
  std::shared_lock lock(state_->mutex);
  auto it = state_->until.find(sid);
  if (it != state_->until.end() && it->second > now) return true;
  if (state_->lossy_until > now) return std::nullopt;
  return false;
}

bool LocalRevocationList::contains(const std::string& sid) const {
  const std::int64_t now = clock_.now_unix();
  std::shared_lock lock(state_->mutex);
  auto it = state_->until.find(sid);
  return it != state_->until.end() && it->second > now;
}

std::size_t LocalRevocationList::size() const {
  std::shared_lock lock(state_->mutex);
  return state_->until.size();
}

void LocalRevocationList::sweep() {
  const std::int64_t now = clock_.now_unix();
  std::unique_lock lock(state_->mutex);
  state_->sweep_locked(now);
}

}  // namespace authd::cache
