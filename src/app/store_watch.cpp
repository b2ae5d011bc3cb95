#include "app/store_watch.h"

#include "authd/obs/log.h"

namespace authd::app {

StoreWatch::StoreWatch(WaitGate& gate, std::function<bool()> probe, Peers peers, Options options)
    : gate_(gate), probe_(std::move(probe)), peers_(std::move(peers)), options_(options) {
  prober_ = std::thread([this] { probe_loop(); });
  expirer_ = std::thread([this] { expire_loop(); });
}

StoreWatch::~StoreWatch() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  prober_.join();
  expirer_.join();
}

bool StoreWatch::ready() const { return reachable_.load() || !peers_reachable_.load(); }

bool StoreWatch::sleep_for(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stop_; });
}

void StoreWatch::probe_loop() {
  auto next_health = std::chrono::steady_clock::now();
  bool was_reachable = true;
  std::int64_t unreachable_since_ms = 0;
  auto unix_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  do {
    const auto now = std::chrono::steady_clock::now();
    const bool waiting = !gate_.is_open();
    if (!waiting && now < next_health) continue;
    const std::int64_t probed_at_ms = unix_ms();
    const bool ok = probe_();
    reachable_ = ok;
    if (ok) {
      unreachable_since_ms = 0;
      peers_reachable_ = false;
      if (peers_.announce_reachable) peers_.announce_reachable(probed_at_ms);
      if (waiting) {
        log::info("store.available", {{"waited_requests", gate_.waiting()}});
        gate_.open();
      }
    } else {
      if (unreachable_since_ms == 0) unreachable_since_ms = probed_at_ms;
      peers_reachable_ =
          peers_.any_reachable_since && peers_.any_reachable_since(unreachable_since_ms);
      if (peers_reachable_ && gate_.waiting() > 0)
        gate_.expire(WaitGate::SteadyClock::time_point::max());
    }
    if (ok != was_reachable) {
      if (ok)
        log::info("store.reachable");
      else
        log::warn("store.unreachable", {{"peers_reach_it", peers_reachable_.load()}});
      was_reachable = ok;
    }
    next_health = std::chrono::steady_clock::now() + options_.health_interval;
  } while (sleep_for(gate_.is_open() ? std::min(options_.probe_interval, options_.health_interval)
                                     : options_.probe_interval));
}

void StoreWatch::expire_loop() {
  do {
    gate_.expire(std::chrono::steady_clock::now());
  } while (sleep_for(options_.expire_tick));
}

}  // namespace authd::app
