#pragma once
// JwksCache::Impl: the parts the Verifier reaches (key lookup) and the fetch machinery.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "authd/core/shared_cell.h"
#include "authd/jose/jwks.h"
#include "authd/verify/jwks_cache.h"

namespace authd::verify {

/// One immutable snapshot: the keys and how long they are good for.
struct KeySet {
  jose::Jwks jwks;
  std::chrono::system_clock::time_point fresh_until;
  std::string etag;
};

/// A key, or why there is none.
struct Lookup {
  jose::KeyPtr key;
  std::optional<Error> error;  // kUnknownKid, kKeysUnavailable, kKeysStale
};

/// Parses the max-age of a Cache-Control value: no-store/no-cache give 0, absent gives
/// std::nullopt. Exposed for tests.
std::optional<std::int64_t> cache_control_max_age(std::string_view value);

struct JwksCache::Impl {
  explicit Impl(CacheOptions options);

  std::chrono::system_clock::time_point now() const;
  /// The key for `kid` at `now`, refreshing or refetching as the rules allow.
  Lookup find(std::string_view kid, std::chrono::system_clock::time_point now);
  /// Fetches if no fetch is in flight, else waits for the one in flight (when `wait`).
  void fetch_or_wait(bool wait, bool unknown_kid);
  bool usable(const KeySet& s, std::chrono::system_clock::time_point now) const;

  // --- fetching (only the thread holding in_flight_ runs these) ---
  void fetch(bool unknown_kid);
  bool resolve_jwks_uri(std::string& detail, int& status);
  HttpResponse get(const std::string& url, const Headers& headers);
  void emit(CacheEvent e, std::string url = {}, int status = 0, std::string detail = {});

  CacheOptions options_;
  bool fixed_ = false;
  core::SharedCell<KeySet> current_;
  std::atomic<bool> in_flight_{false};
  // Nanoseconds since the epoch of the clock: the last fetch attempt, and the earliest next
  // attempt after a failure.
  std::atomic<std::int64_t> last_attempt_ns_{INT64_MIN / 2};
  std::atomic<std::int64_t> next_allowed_ns_{INT64_MIN / 2};
  std::atomic<bool> stale_reported_{false};
  std::string jwks_uri_;  // resolved; touched only by the fetching thread

  std::mutex wait_mu_;
  std::condition_variable fetched_cv_;
  std::uint64_t generation_ = 0;  // fetches finished; guarded by wait_mu_

  std::atomic<std::uint64_t> fetches_{0}, fetched_{0}, not_modified_{0}, failures_{0},
      unknown_kid_refetches_{0}, refetches_suppressed_{0};
};

}  // namespace authd::verify
