// Counters and histograms bumped from every CPU at once (as every event loop bumps them): no
// count may be lost, buckets are cumulative, and the rendered text is the Prometheus format.

#include "authd/obs/metrics.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <thread>
#include <vector>

namespace authd::obs {
namespace {

// Runs `fn` on `threads` threads, the i-th pinned to CPU i (modulo the CPUs this process may
// use), so that the threads count on different cores at once.
template <class Fn>
void on_every_cpu(int threads, Fn fn) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  ASSERT_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0);
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &allowed)) cpus.push_back(c);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpus[static_cast<std::size_t>(t) % cpus.size()], &one);
      (void)pthread_setaffinity_np(pthread_self(), sizeof one, &one);
      fn(t);
    });
  for (auto& th : pool) th.join();
}

TEST(MetricsTest, CounterBumpedFromEveryCpuLosesNoCount) {
  Counter counter;
  constexpr int kThreads = 8, kEach = 100000;
  on_every_cpu(kThreads, [&](int t) {
    for (int i = 0; i < kEach; ++i) counter.inc(static_cast<std::uint64_t>(t % 2 + 1));
  });
  EXPECT_EQ(counter.value(), static_cast<std::uint64_t>(kThreads / 2 * kEach * (1 + 2)));
}

TEST(MetricsTest, HistogramObservedFromEveryCpuKeepsBucketsCountAndSum) {
  Histogram h({0.001, 0.01, 0.1});
  constexpr int kThreads = 6, kEach = 20000;
  on_every_cpu(kThreads, [&](int t) {
    const double seconds[] = {0.0005, 0.005, 0.05, 0.5, 0.002, 0.02};
    for (int i = 0; i < kEach; ++i) h.observe(seconds[t]);
  });
  std::vector<std::uint64_t> cumulative;
  std::uint64_t count = 0;
  double sum = 0;
  h.snapshot(cumulative, count, sum);
  const std::uint64_t n = kEach;
  EXPECT_EQ(cumulative, (std::vector<std::uint64_t>{n, 3 * n, 5 * n, 6 * n}));
  EXPECT_EQ(count, 6 * n);
  EXPECT_NEAR(sum, kEach * (0.0005 + 0.005 + 0.05 + 0.5 + 0.002 + 0.02), 1e-3);
}

TEST(MetricsTest, HistogramPutsEachValueInTheFirstBucketThatHoldsIt) {
  std::vector<double> bounds;
  for (int i = 1; i <= 20; ++i) bounds.push_back(i);
  Histogram h(bounds);
  on_every_cpu(4, [&](int) {
    for (int i = 0; i <= 20; ++i) h.observe(i + 0.5);
  });
  std::vector<std::uint64_t> cumulative;
  std::uint64_t count = 0;
  double sum = 0;
  h.snapshot(cumulative, count, sum);
  ASSERT_EQ(cumulative.size(), 21u);
  for (std::size_t i = 0; i < cumulative.size(); ++i) EXPECT_EQ(cumulative[i], 4 * (i + 1)) << i;
  EXPECT_EQ(count, 84u);
  EXPECT_NEAR(sum, 4 * (210 + 21 * 0.5), 1e-6);
}

TEST(MetricsTest, RenderedFamiliesCarryEveryCount) {
  Registry registry;
  auto& requests = registry.counter("test_requests_total", "Requests.", {"route"});
  auto& latency = registry.histogram("test_latency_seconds", "Latency.", {"route"}, {0.1, 1});
  on_every_cpu(4, [&](int) {
    for (int i = 0; i < 1000; ++i) {
      requests.with({"/a"}).inc();
      latency.with({"/a"}).observe(0.05);
    }
  });
  const std::string text = registry.render();
  EXPECT_NE(text.find("test_requests_total{route=\"/a\"} 4000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("test_latency_seconds_bucket{route=\"/a\",le=\"0.1\"} 4000\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("test_latency_seconds_count{route=\"/a\"} 4000\n"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace authd::obs
