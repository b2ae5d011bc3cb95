#pragma once
// Contract-test harness of the cache interfaces (auth::RateLimiter, auth::RevocationList):
// each behaviour is one test body, run against the in-process implementation (on a
// FakeClock) and the Redis one (on the shared server of AUTHD_TEST_REDIS_URL, or one started
// for the binary when that is unset). Behaviour of one implementation only (Redis outages,
// pub/sub, the local memory bounds) stays in that implementation's own suite.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>

#include "support/redis_server.h"

namespace authd::contract {

enum class CacheImpl { kLocal, kRedis };

inline std::string cache_impl_name(const ::testing::TestParamInfo<CacheImpl>& info) {
  return info.param == CacheImpl::kLocal ? "Local" : "Redis";
}

/// A key or session id no other test (or earlier run against the same server) has used.
inline std::string unique_name(const std::string& base) {
  static std::atomic<int> n{0};
  return base + ":" + std::to_string(::getpid()) + ":" + std::to_string(++n) + ":" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

/// Instantiates a cache contract suite for both implementations.
#define AUTHD_INSTANTIATE_CACHE_CONTRACT(suite)                                     \
  INSTANTIATE_TEST_SUITE_P(Implementations, suite,                                  \
                           ::testing::Values(::authd::contract::CacheImpl::kLocal,  \
                                             ::authd::contract::CacheImpl::kRedis), \
                           ::authd::contract::cache_impl_name)

}  // namespace authd::contract
