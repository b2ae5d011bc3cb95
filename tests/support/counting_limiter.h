#pragma once
// A rate limiter for tests of the limits' callers (not of limiters: those have contract
// tests). Each key allows `burst` units, then denies; nothing refills, as the tests are short.
// It records the keys it was asked, in order. CountingLimiter answers in-process, as the local
// limiter does; ThreadedLimiter blocks in check() and answers check_async() from a thread of
// its own, as the Redis one does.

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "authd/auth/rate_limiter.h"

namespace authd::testing {

class CountingLimiter : public auth::RateLimiter {
 public:
  auth::Decision check(std::string_view key, const auth::Limit& limit,
                       std::int64_t cost = 1) override {
    sync_calls++;
    return decide(key, limit, cost);
  }
  auth::Decision peek(std::string_view key, const auth::Limit& limit) override {
    return decide(key, limit, 0);
  }
  void reset(std::string_view key) override {
    std::lock_guard lock(mu_);
    used_.erase(std::string(key));
  }
  bool blocks() const override { return false; }

  std::vector<std::string> asked() const {
    std::lock_guard lock(mu_);
    return asked_;
  }
  void forget_asked() {
    std::lock_guard lock(mu_);
    asked_.clear();
  }

  std::atomic<int> sync_calls{0};
  std::int64_t retry_after_ms = 1000;  ///< in every refusal

 protected:
  /// cost 0 is a peek: allowed while any unit is left, nothing taken, nothing recorded.
  auth::Decision decide(std::string_view key, const auth::Limit& limit, std::int64_t cost) {
    std::lock_guard lock(mu_);
    if (cost > 0) asked_.emplace_back(key);
    std::int64_t& used = used_[std::string(key)];
    auth::Decision d;
    d.limit = limit.burst;
    d.allowed = cost > 0 ? used + cost <= limit.burst : used < limit.burst;
    if (d.allowed) used += cost;
    d.remaining = limit.burst - used;
    d.retry_after_ms = d.allowed ? 0 : retry_after_ms;
    d.reset_ms = 1000;
    return d;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::int64_t> used_;
  std::vector<std::string> asked_;
};

class ThreadedLimiter final : public CountingLimiter {
 public:
  ~ThreadedLimiter() override {
    std::lock_guard lock(threads_mu_);
    for (auto& t : threads_) t.join();
  }
  bool blocks() const override { return true; }
  bool checks_async() const override { return true; }
  void check_async(std::string_view key, const auth::Limit& limit, std::int64_t cost,
                   std::function<void(auth::Decision)> done) override {
    async_calls++;
    std::lock_guard lock(threads_mu_);
    threads_.emplace_back([this, k = std::string(key), limit, cost, done = std::move(done)] {
      done(decide(k, limit, cost));
    });
  }

  std::atomic<int> async_calls{0};

 private:
  std::mutex threads_mu_;
  std::vector<std::thread> threads_;
};

}  // namespace authd::testing
