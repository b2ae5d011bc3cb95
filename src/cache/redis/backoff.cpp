#include "cache/redis/backoff.h"

#include <algorithm>

namespace authd::cache::detail {

namespace {

// A connection that stayed up this long is "stable": losing it retries at once.
constexpr auto kStableAfter = std::chrono::seconds(1);

}  // namespace

Backoff::Backoff(Millis initial, Millis max)
    : initial_(initial), max_(max), rng_(std::random_device{}()) {}

Backoff::Millis Backoff::after_drop(std::optional<std::chrono::steady_clock::duration> up_for,
                                    bool forced) {
  if ((up_for && *up_for >= kStableAfter) || forced) {
    reset();
    return Millis(0);
  }
  current_ = current_ < initial_ ? initial_ : std::min(current_ * 2, max_);
  return jitter(current_);
}

Backoff::Millis Backoff::jitter(Millis d) {
  if (d.count() <= 1) return d;
  std::uniform_int_distribution<std::int64_t> dist(d.count() * 8 / 10, d.count());
  return Millis(dist(rng_));
}

}  // namespace authd::cache::detail
