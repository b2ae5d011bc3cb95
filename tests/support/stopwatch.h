#pragma once
// Time since a steady_clock point, for tests that bound how long something took.

#include <chrono>

namespace authd::testing {

/// Whole milliseconds since `since`.
inline long long elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

/// Milliseconds since `since`, with their fraction.
inline double ms_since(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
      .count();
}

}  // namespace authd::testing
