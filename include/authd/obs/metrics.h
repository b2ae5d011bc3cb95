#pragma once
// A small Prometheus metrics registry: counters, gauges and histograms with fixed label names.
// Metric families are declared once (see authd/obs/stats.h); lookups by label values are
// thread-safe and cheap enough for the request path.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace authd::obs {

class Counter {
 public:
  void inc(std::uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

class Gauge {
 public:
  void set(double v) { v_.store(v, std::memory_order_relaxed); }
  void add(double d) {
    double cur = v_.load(std::memory_order_relaxed);
    while (!v_.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
    }
  }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

/// Latency histogram with fixed upper bounds in seconds.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double seconds);
  const std::vector<double>& bounds() const { return bounds_; }
  /// Cumulative counts per bound plus +Inf, the count and the sum.
  void snapshot(std::vector<std::uint64_t>& cumulative, std::uint64_t& count, double& sum) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // one per bound plus +Inf
  std::atomic<std::uint64_t> sum_nanos_{0};
};

enum class Kind { kCounter, kGauge, kHistogram };

/// A metric name with labels; children are created on first use.
template <class M>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> labels,
         std::vector<double> bounds = {})
      : name_(std::move(name)),
        help_(std::move(help)),
        labels_(std::move(labels)),
        bounds_(std::move(bounds)) {}
  /// Returns the child for these label values (same order as the label names).
  M& with(const std::vector<std::string>& values) {
    std::lock_guard lock(mu_);
    auto& slot = children_[values];
    if (!slot) {
      if constexpr (std::is_same_v<M, Histogram>)
        slot = std::make_unique<M>(bounds_);
      else
        slot = std::make_unique<M>();
    }
    return *slot;
  }
  M& get() { return with({}); }
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& labels() const { return labels_; }
  template <class F>
  void for_each(F&& f) const {
    std::lock_guard lock(mu_);
    for (const auto& [values, m] : children_) f(values, *m);
  }

 private:
  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_;
};

/// Owns metric families and renders the Prometheus text exposition format (version 0.0.4).
class Registry {
 public:
  Family<Counter>& counter(std::string name, std::string help,
                           std::vector<std::string> labels = {});
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<std::string> labels,
                               std::vector<double> bounds);
  /// Renders every family plus process_* metrics read from /proc.
  std::string render() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family<Counter>>> counters_;
  std::vector<std::unique_ptr<Family<Gauge>>> gauges_;
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_;
};

/// Default latency buckets for request durations, in seconds.
std::vector<double> latency_buckets();

}  // namespace authd::obs
