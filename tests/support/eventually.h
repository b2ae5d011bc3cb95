#pragma once
// Test helper: wait for an observed condition, bounded, instead of sleeping for a guess.

#include <chrono>
#include <thread>

namespace authd::testing {

/// Polls `pred` every millisecond until it is true or `timeout` has passed; returns its last
/// value. The timeout is a bound for a broken build, not a latency claim: make it generous.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

}  // namespace authd::testing
