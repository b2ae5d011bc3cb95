#pragma once
// A settable clock with microsecond steps, for the cache unit tests.

#include <atomic>
#include <chrono>
#include <cstdint>

#include "authd/core/clock.h"

namespace authd::cache::testing {

class FakeClock final : public Clock {
 public:
  /// Starts at an arbitrary fixed instant (2026-01-01T00:00:00Z).
  explicit FakeClock(std::int64_t unix_s = 1'767'225'600) : us_(unix_s * 1'000'000) {}
  SystemTime now() const override {
    return SystemTime(
        std::chrono::duration_cast<SystemTime::duration>(std::chrono::microseconds(us_.load())));
  }
  void advance(std::chrono::microseconds d) { us_ += d.count(); }
  void set_us(std::int64_t us) { us_ = us; }
  std::int64_t us() const { return us_.load(); }

 private:
  std::atomic<std::int64_t> us_;
};

}  // namespace authd::cache::testing
