#pragma once
// Synchronising on observed state: poll a condition until it holds, with a bounded deadline,
// instead of sleeping for a fixed time and hoping the other thread or process got there.

#include <chrono>
#include <functional>
#include <thread>

namespace authd::testing {

/// Calls `condition` every `interval` until it returns true or `timeout` has passed; returns
/// its last result (so a condition that holds at the deadline still counts).
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5),
                       std::chrono::milliseconds interval = std::chrono::milliseconds(2)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(interval);
  }
  return condition();
}

}  // namespace authd::testing
