#pragma once
// A Clock that tests move by hand, with microsecond steps. Thread-safe: a test thread may move
// it while service threads read it.

#include <atomic>
#include <chrono>
#include <cstdint>

#include "authd/core/clock.h"

namespace authd::testing {

class FakeClock final : public Clock {
 public:
  /// Starts at `unix_s`; by default an arbitrary fixed instant (2026-01-01T00:00:00Z).
  explicit FakeClock(std::int64_t unix_s = 1'767'225'600) : us_(unix_s * kMicrosPerSecond) {}

  SystemTime now() const override {
    return SystemTime(
        std::chrono::duration_cast<SystemTime::duration>(std::chrono::microseconds(us_.load())));
  }

  /// Moves to a Unix second.
  void set(std::int64_t unix_s) { us_ = unix_s * kMicrosPerSecond; }
  /// Moves by whole seconds.
  void advance(std::int64_t seconds) { us_ += seconds * kMicrosPerSecond; }
  /// Moves by any duration (std::chrono::milliseconds(1), std::chrono::seconds(2), ...).
  void advance(std::chrono::microseconds d) { us_ += d.count(); }

 private:
  static constexpr std::int64_t kMicrosPerSecond = 1'000'000;
  std::atomic<std::int64_t> us_;
};

}  // namespace authd::testing
