#pragma once
// RedisRevocationList: revoked sessions shared by every replica. Redis holds
// `authd:rev:sid:<sid>` until the session's last access token expires; a pub/sub event on
// `authd:events` puts the revocation into every replica's local set at once.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "authd/auth/revocation.h"
#include "authd/cache/local_revocation_list.h"
#include "authd/cache/redis_client.h"
#include "authd/core/clock.h"

namespace authd::cache {

/// The channel of cluster events: `{"type":"session_revoked","sid":"...","until":N}`,
/// `{"type":"keys_changed"}`, ... (JSON objects with a string "type").
inline constexpr std::string_view kEventsChannel = "authd:events";

struct RedisRevocationListOptions {
  std::string key_prefix = "authd:rev:sid:";
  std::string channel = std::string(kEventsChannel);
  /// Revocations that could not be written to Redis are kept (up to this many) and written
  /// again when the connection comes back, so other replicas learn of them.
  std::size_t max_pending = 100'000;
  LocalRevocationListOptions local;
};

/// Thread-safety: all members may be called concurrently. Callbacks run on the Redis I/O
/// thread (see RedisClient).
class RedisRevocationList final : public auth::RevocationList {
 public:
  /// Subscribes to the events channel at once. @param client, clock  must outlive this.
  RedisRevocationList(RedisClient& client, const Clock& clock,
                      RedisRevocationListOptions options = {});
  ~RedisRevocationList() override;
  RedisRevocationList(const RedisRevocationList&) = delete;
  RedisRevocationList& operator=(const RedisRevocationList&) = delete;

  /// Records locally, then `SET <prefix><sid> 1 EXAT <until>` and PUBLISH a
  /// session_revoked event (each bounded by the client timeout). When Redis is down the
  /// revocation is queued and written after the reconnect. `until` not after now: no-op.
  void revoke_session(const std::string& sid, std::int64_t until) override;

  /// Local set first (true → true); then Redis (PTTL: key present → true, and cached
  /// locally; absent → false) when available; otherwise std::nullopt (ask the store).
  std::optional<bool> is_session_revoked(const std::string& sid) override;

  /// Feeds the local set only (the resync from the store after a reconnect).
  void mark_revoked_local(const std::string& sid, std::int64_t until);

  /// `callback()` (I/O thread) each time the event subscription is (re)established, the
  /// first time included: events may have been missed before it, so resync from the store
  /// (on another thread) and feed mark_revoked_local().
  [[nodiscard]] CallbackHandle on_reconnect(std::function<void()> callback);

  /// `callback(type, json)` (I/O thread) for every event whose type is not
  /// session_revoked, e.g. "keys_changed" (reload the key ring, on another thread).
  [[nodiscard]] CallbackHandle on_event(
      std::function<void(const std::string& type, const std::string& json)> callback);

  /// Publishes an event (a JSON object with a "type"), e.g. R"({"type":"keys_changed"})".
  CacheResult<std::int64_t> publish_event(const std::string& json);

  LocalRevocationList& local() noexcept { return local_; }
  /// Revocations waiting to be written to Redis.
  std::size_t pending() const;

 private:
  struct State;
  void on_message(const std::string& payload);
  void replay_pending();

  RedisClient& client_;
  const Clock& clock_;
  RedisRevocationListOptions options_;
  LocalRevocationList local_;
  std::shared_ptr<State> state_;
  CallbackHandle subscription_;
  CallbackHandle state_change_;
};

}  // namespace authd::cache
