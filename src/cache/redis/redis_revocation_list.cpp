#include "authd/cache/redis_revocation_list.h"

#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace authd::cache {
namespace {

constexpr std::string_view kSessionRevoked = "session_revoked";

std::string revoked_event(const std::string& sid, std::int64_t until) {
  nlohmann::json j{{"type", kSessionRevoked}, {"sid", sid}, {"until", until}};
  // replace: a sid that is not UTF-8 must not make dump() throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// The event's type, or "" when the payload is not an event object.
std::string event_type(const nlohmann::json& j) {
  if (!j.is_object()) return {};
  auto it = j.find("type");
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

// Shared with callbacks still queued on the I/O thread, which may outlive the list.
struct RedisRevocationList::State {
  std::mutex mutex;
  std::unordered_map<std::string, std::int64_t> pending;  // sid → until, not yet in Redis
};

RedisRevocationList::RedisRevocationList(RedisClient& client, const Clock& clock,
                                         RedisRevocationListOptions options)
    : client_(client),
      clock_(clock),
      options_(std::move(options)),
      local_(clock, options_.local),
      state_(std::make_shared<State>()) {
  subscription_ = client_.subscribe(options_.channel,
                                    [this](const std::string& payload) { on_message(payload); });
  state_change_ = client_.on_state_change([this](bool up) {
    if (up) replay_pending();
  });
}

RedisRevocationList::~RedisRevocationList() {
  // Before any member goes: after these return, no callback of ours runs any more.
  state_change_.reset();
  subscription_.reset();
}

void RedisRevocationList::on_message(const std::string& payload) {
  auto j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (event_type(j) != kSessionRevoked) return;
  auto sid = j.find("sid");
  auto until = j.find("until");
  if (sid == j.end() || !sid->is_string() || until == j.end() || !until->is_number_integer())
    return;
  local_.mark_revoked(sid->get<std::string>(), until->get<std::int64_t>());
}

void RedisRevocationList::revoke_session(const std::string& sid, std::int64_t until) {
  local_.mark_revoked(sid, until);
  if (until <= clock_.now_unix()) return;
  auto set =
      client_.command({"SET", options_.key_prefix + sid, "1", "EXAT", std::to_string(until)});
  if (!set) {
    std::lock_guard lock(state_->mutex);
    if (state_->pending.size() < options_.max_pending || state_->pending.count(sid) != 0) {
      auto& u = state_->pending[sid];
      u = std::max(u, until);
    }
    return;
  }
  // Best effort: a replica that misses the event still finds the key.
  auto published = client_.publish(options_.channel, revoked_event(sid, until));
  (void)published;
}

void RedisRevocationList::replay_pending() {
  // I/O thread: only asynchronous calls here.
  std::unordered_map<std::string, std::int64_t> batch;
  {
    std::lock_guard lock(state_->mutex);
    batch.swap(state_->pending);
  }
  const std::int64_t now = clock_.now_unix();
  for (auto& [sid, until] : batch) {
    if (until <= now) continue;
    RedisClient* client = &client_;
    std::string channel = options_.channel;
    client_.command_async(
        {"SET", options_.key_prefix + sid, "1", "EXAT", std::to_string(until)},
        [state = std::weak_ptr<State>(state_), client, channel, sid, until](CacheResult<Reply> r) {
          if (r) {
            client->command_async({"PUBLISH", channel, revoked_event(sid, until)});
          } else if (auto s = state.lock()) {
            std::lock_guard lock(s->mutex);
            auto& u = s->pending[sid];
            u = std::max(u, until);
          }
        });
  }
}

std::optional<bool> RedisRevocationList::is_session_revoked(const std::string& sid) {
  if (local_.contains(sid)) return true;
  if (!client_.available()) return std::nullopt;
  // PTTL, not EXISTS: one round trip says whether the key is there and until when, so a hit
  // is cached locally for its remaining life.
  auto r = client_.command({"PTTL", options_.key_prefix + sid});
  if (!r || r->type != Reply::Type::kInteger) return std::nullopt;
  if (r->integer == -2) return false;
  if (r->integer > 0) local_.mark_revoked(sid, clock_.now_unix() + (r->integer + 999) / 1000);
  return true;
}

void RedisRevocationList::mark_revoked_local(const std::string& sid, std::int64_t until) {
  local_.mark_revoked(sid, until);
}

CallbackHandle RedisRevocationList::on_reconnect(std::function<void()> callback) {
  return client_.on_resubscribed(std::move(callback));
}

CallbackHandle RedisRevocationList::on_event(
    std::function<void(const std::string& type, const std::string& json)> callback) {
  return client_.subscribe(
      options_.channel, [cb = std::move(callback)](const std::string& payload) {
        auto j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
        std::string type = event_type(j);
        if (!type.empty() && type != kSessionRevoked) cb(type, payload);
      });
}

CacheResult<std::int64_t> RedisRevocationList::publish_event(const std::string& json) {
  return client_.publish(options_.channel, json);
}

std::size_t RedisRevocationList::pending() const {
  std::lock_guard lock(state_->mutex);
  return state_->pending.size();
}

}  // namespace authd::cache
