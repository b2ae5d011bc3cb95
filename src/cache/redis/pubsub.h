#pragma once
// Pub/sub: the table of subscriptions (channel → callbacks) and the reading of the pushes a
// subscribed connection receives. The subscriber connection itself is a Link of kind
// kSubscriber. Threading: see the contract at the top of include/authd/cache/redis_client.h.

#include <hiredis/hiredis.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "authd/cache/redis_client.h"

namespace authd::cache::detail {

/// channel → callbacks, with the removal guarantee of CallbackRegistry: after the handle's
/// reset() returns, the callback is not running and will not run again.
class SubscriptionTable : public std::enable_shared_from_this<SubscriptionTable> {
 public:
  using MessageFn = std::function<void(const std::string&)>;

  CallbackHandle add(const std::string& channel, MessageFn fn);
  std::vector<std::string> channels();
  /// Runs every callback of `channel` with `message` (I/O thread).
  void deliver(const std::string& channel, const std::string& message);

 private:
  std::recursive_mutex mutex_;
  std::map<std::string, std::map<std::uint64_t, MessageFn>> table_;
  std::uint64_t next_id_ = 1;
};

/// One reply received on a subscribed connection.
struct Push {
  enum class Kind { kOther, kSubscribed, kMessage };
  Kind kind = Kind::kOther;
  std::string channel;  ///< kMessage
  std::string payload;  ///< kMessage
};

Push read_push(const redisReply* reply);

}  // namespace authd::cache::detail
