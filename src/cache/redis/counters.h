#pragma once
// The client's counters (RedisClientStats), bumped by the parts that see each event.
// Relaxed atomics: any thread may bump or read them.

#include <atomic>
#include <cstdint>

#include "authd/cache/redis_client.h"

namespace authd::cache::detail {

struct ClientCounters {
  std::atomic<std::uint64_t> calls{0}, unavailable{0}, timeouts{0}, reconnects{0}, disconnects{0},
      noscript_reloads{0}, master_switches{0}, messages{0};

  static void bump(std::atomic<std::uint64_t>& counter) {
    counter.fetch_add(1, std::memory_order_relaxed);
  }

  RedisClientStats snapshot() const {
    RedisClientStats s;
    s.calls = calls.load();
    s.unavailable = unavailable.load();
    s.timeouts = timeouts.load();
    s.reconnects = reconnects.load();
    s.disconnects = disconnects.load();
    s.noscript_reloads = noscript_reloads.load();
    s.master_switches = master_switches.load();
    s.messages = messages.load();
    return s;
  }
};

}  // namespace authd::cache::detail
