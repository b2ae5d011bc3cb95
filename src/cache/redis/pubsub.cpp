#include "cache/redis/pubsub.h"

#include "cache/redis/callback_registry.h"
#include "cache/redis/reply.h"

namespace authd::cache::detail {

CallbackHandle SubscriptionTable::add(const std::string& channel, MessageFn fn) {
  std::lock_guard lock(mutex_);
  const auto id = next_id_++;
  table_[channel].emplace(id, std::move(fn));
  return CallbackHandle([weak = weak_from_this(), channel, id] {
    if (auto self = weak.lock()) {
      std::lock_guard lock(self->mutex_);
      auto it = self->table_.find(channel);
      if (it == self->table_.end()) return;
      it->second.erase(id);
      // The server-side subscription stays until the next reconnect: harmless.
      if (it->second.empty()) self->table_.erase(it);
    }
  });
}

std::vector<std::string> SubscriptionTable::channels() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& kv : table_) out.push_back(kv.first);
  return out;
}

void SubscriptionTable::deliver(const std::string& channel, const std::string& message) {
  std::lock_guard lock(mutex_);
  auto it = table_.find(channel);
  if (it == table_.end()) return;
  std::vector<std::uint64_t> ids;
  for (const auto& kv : it->second) ids.push_back(kv.first);
  for (auto id : ids) {
    auto ch = table_.find(channel);  // a callback may have removed the last one
    if (ch == table_.end()) break;
    auto fn = ch->second.find(id);
    if (fn != ch->second.end()) guarded([&] { fn->second(message); });
  }
}

Push read_push(const redisReply* reply) {
  Push push;
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return push;
  const std::string_view kind = reply_str(reply->element[0]);
  if (kind == "subscribe") {
    push.kind = Push::Kind::kSubscribed;
  } else if (kind == "message") {
    push.kind = Push::Kind::kMessage;
    push.channel = std::string(reply_str(reply->element[1]));
    push.payload = std::string(reply_str(reply->element[2]));
  }
  return push;
}

}  // namespace authd::cache::detail
