#include "authd/obs/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

namespace authd::obs {
namespace {

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string labels_text(const std::vector<std::string>& names,
                        const std::vector<std::string>& values, const std::string& extra = {}) {
  if (names.empty() && extra.empty()) return "";
  std::string s = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) s += ",";
    s += names[i] + "=\"" + escape_label(values[i]) + "\"";
  }
  if (!extra.empty()) {
    if (!names.empty()) s += ",";
    s += extra;
  }
  return s + "}";
}

// Shortest decimal text that reads back as the same double (0.005, not 0.0050000000000000001).
std::string number(double v) {
  char buf[64];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

void process_metrics(std::string& out) {
  // /proc/self/stat fields 14 (utime) and 15 (stime) in clock ticks, 22 (starttime), 24 (rss
  // pages).
  std::ifstream f("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto rparen = stat.rfind(')');
  if (rparen == std::string::npos) return;
  std::istringstream in(stat.substr(rparen + 2));
  std::vector<std::string> v((std::istream_iterator<std::string>(in)),
                             std::istream_iterator<std::string>());
  if (v.size() < 22) return;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double cpu = (std::stod(v[11]) + std::stod(v[12])) / ticks;
  const double rss = std::stod(v[21]) * static_cast<double>(sysconf(_SC_PAGESIZE));
  const double vsize = std::stod(v[20]);
  double boot = 0;
  std::ifstream s("/proc/stat");
  for (std::string line; std::getline(s, line);)
    if (line.rfind("btime ", 0) == 0) boot = std::stod(line.substr(6));
  const double start = boot + std::stod(v[19]) / ticks;
  int fds = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d)) ++fds;
    closedir(d);
    fds -= 3;  // ".", ".." and the directory handle itself
  }
  out +=
      "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
      "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total " +
      number(cpu) + "\n";
  out +=
      "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
      "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes " +
      number(rss) + "\n";
  out +=
      "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
      "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes " +
      number(vsize) + "\n";
  out +=
      "# HELP process_open_fds Number of open file descriptors.\n"
      "# TYPE process_open_fds gauge\nprocess_open_fds " +
      std::to_string(fds) + "\n";
  out +=
      "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
      "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds " +
      number(start) + "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::observe(double seconds) {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), seconds);
  buckets_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(static_cast<std::uint64_t>(std::max(0.0, seconds) * 1e9),
                       std::memory_order_relaxed);
}

void Histogram::snapshot(std::vector<std::uint64_t>& cumulative, std::uint64_t& count,
                         double& sum) const {
  cumulative.assign(bounds_.size() + 1, 0);
  std::uint64_t acc = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    acc += buckets_[i].load(std::memory_order_relaxed);
    cumulative[i] = acc;
  }
  count = acc;  // consistent with the buckets even while others observe
  sum = static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9;
}

Family<Counter>& Registry::counter(std::string name, std::string help,
                                   std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  counters_.push_back(
      std::make_unique<Family<Counter>>(std::move(name), std::move(help), std::move(labels)));
  return *counters_.back();
}

Family<Gauge>& Registry::gauge(std::string name, std::string help,
                               std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  gauges_.push_back(
      std::make_unique<Family<Gauge>>(std::move(name), std::move(help), std::move(labels)));
  return *gauges_.back();
}

Family<Histogram>& Registry::histogram(std::string name, std::string help,
                                       std::vector<std::string> labels,
                                       std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  histograms_.push_back(std::make_unique<Family<Histogram>>(std::move(name), std::move(help),
                                                            std::move(labels), std::move(bounds)));
  return *histograms_.back();
}

std::string Registry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(8192);
  for (const auto& f : counters_) {
    out += "# HELP " + f->name() + " " + f->help() + "\n# TYPE " + f->name() + " counter\n";
    f->for_each([&](const auto& values, const Counter& c) {
      out += f->name() + labels_text(f->labels(), values) + " " + std::to_string(c.value()) + "\n";
    });
  }
  for (const auto& f : gauges_) {
    out += "# HELP " + f->name() + " " + f->help() + "\n# TYPE " + f->name() + " gauge\n";
    f->for_each([&](const auto& values, const Gauge& g) {
      out += f->name() + labels_text(f->labels(), values) + " " + number(g.value()) + "\n";
    });
  }
  for (const auto& f : histograms_) {
    out += "# HELP " + f->name() + " " + f->help() + "\n# TYPE " + f->name() + " histogram\n";
    f->for_each([&](const auto& values, const Histogram& h) {
      std::vector<std::uint64_t> cum;
      std::uint64_t count = 0;
      double sum = 0;
      h.snapshot(cum, count, sum);
      for (std::size_t i = 0; i < h.bounds().size(); ++i)
        out += f->name() + "_bucket" +
               labels_text(f->labels(), values, "le=\"" + number(h.bounds()[i]) + "\"") + " " +
               std::to_string(cum[i]) + "\n";
      out += f->name() + "_bucket" + labels_text(f->labels(), values, "le=\"+Inf\"") + " " +
             std::to_string(count) + "\n";
      out += f->name() + "_sum" + labels_text(f->labels(), values) + " " + number(sum) + "\n";
      out += f->name() + "_count" + labels_text(f->labels(), values) + " " + std::to_string(count) +
             "\n";
    });
  }
  process_metrics(out);
  return out;
}

std::vector<double> latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace authd::obs
