#include "authd/cache/local_rate_limiter.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache/local/gcra.h"

namespace authd::cache {
namespace {

// Heterogeneous lookup, so that a check does not allocate a std::string for its key.
struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
struct KeyEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
};

constexpr std::int64_t kSweepEveryUs = 1'000'000;

}  // namespace

struct LocalRateLimiter::Shard {
  std::mutex mutex;
  std::unordered_map<std::string, std::int64_t, KeyHash, KeyEq> tat;  // key → TAT (µs)
  std::int64_t next_sweep_us = 0;

  // A bucket whose TAT is not after now is full again: exactly the state of no bucket.
  void sweep_locked(std::int64_t now) {
    std::erase_if(tat, [now](const auto& kv) { return kv.second <= now; });
  }

  void make_room_locked(std::int64_t now, std::size_t cap) {
    if (now >= next_sweep_us) {
      sweep_locked(now);
      next_sweep_us = now + kSweepEveryUs;
    }
    if (tat.size() < cap) return;
    sweep_locked(now);
    if (tat.size() < cap) return;
    // Every bucket is in use: drop the eighth closest to full (the least to forget), in
    // one pass so that a flood of new keys costs O(1) amortised per insert, not O(n).
    std::vector<std::int64_t> tats;
    tats.reserve(tat.size());
    for (const auto& kv : tat) tats.push_back(kv.second);
    const std::size_t k = std::max<std::size_t>(1, tats.size() / 8);
    std::nth_element(tats.begin(), tats.begin() + static_cast<std::ptrdiff_t>(k - 1), tats.end());
    const std::int64_t threshold = tats[k - 1];
    std::erase_if(tat, [threshold](const auto& kv) { return kv.second <= threshold; });
  }
};

LocalRateLimiter::LocalRateLimiter(const Clock& clock, LocalRateLimiterOptions options)
    : clock_(clock) {
  const std::size_t max_entries = std::max<std::size_t>(1, options.max_entries);
  shard_count_ = std::clamp<std::size_t>(options.shards, 1, max_entries);
  per_shard_cap_ = std::max<std::size_t>(1, max_entries / shard_count_);
  shards_ = std::make_unique<Shard[]>(shard_count_);
}

LocalRateLimiter::~LocalRateLimiter() = default;

LocalRateLimiter::Shard& LocalRateLimiter::shard_for(std::string_view key) const {
  return shards_[std::hash<std::string_view>{}(key) % shard_count_];
}

std::int64_t LocalRateLimiter::now_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock_.now().time_since_epoch())
      .count();
}

auth::Decision LocalRateLimiter::check(std::string_view key, const auth::Limit& limit,
                                       std::int64_t cost) {
  if (!detail::valid(limit)) return detail::invalid_limit_decision(limit);
  const std::int64_t now = now_us();
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.tat.find(key);
  const auto out = detail::gcra(it == shard.tat.end() ? now : it->second, now, limit, cost);
  if (out.decision.allowed && cost > 0) {
    if (it != shard.tat.end()) {
      it->second = out.new_tat;
    } else {
      shard.make_room_locked(now, per_shard_cap_);
      shard.tat.emplace(std::string(key), out.new_tat);
    }
  }
  return out.decision;
}

auth::Decision LocalRateLimiter::peek(std::string_view key, const auth::Limit& limit) {
  if (!detail::valid(limit)) return detail::invalid_limit_decision(limit);
  const std::int64_t now = now_us();
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.tat.find(key);
  return detail::gcra(it == shard.tat.end() ? now : it->second, now, limit, 1).decision;
}

void LocalRateLimiter::reset(std::string_view key) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.tat.find(key);
  if (it != shard.tat.end()) shard.tat.erase(it);
}

std::size_t LocalRateLimiter::size() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    n += shards_[i].tat.size();
  }
  return n;
}

void LocalRateLimiter::sweep() {
  const std::int64_t now = now_us();
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    shards_[i].sweep_locked(now);
  }
}

}  // namespace authd::cache
