#pragma once
// RedisUsedAssertions: the jti of every accepted client assertion (private_key_jwt), shared by
// all replicas. One `SET <prefix><client id>\n<jti> 1 NX PXAT <until>` decides: the key is
// new on exactly one replica, and Redis forgets it when the assertion is dead anyway.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "authd/auth/client_store.h"
#include "authd/cache/redis_client.h"

namespace authd::cache {

/// Thread-safe. Blocks up to the client's command timeout: call from workers.
class RedisUsedAssertions final : public auth::UsedAssertions {
 public:
  /// @param client  must outlive this.
  explicit RedisUsedAssertions(RedisClient& client, std::string key_prefix = "authd:jti:")
      : client_(client), prefix_(std::move(key_prefix)) {}

  /// true: set now (first use); false: the key exists (a replay); std::nullopt when Redis
  /// does not answer (down, timeout, error reply): the caller asks the store.
  std::optional<bool> first_use(const std::string& key, std::int64_t until) override;

 private:
  RedisClient& client_;
  const std::string prefix_;
};

}  // namespace authd::cache
