#include "auth/client_directory.h"

#include "auth/context.h"

namespace authd::auth::detail {
namespace {
// Unknown ids are not cached; this bounds the rest.
constexpr std::size_t kMaxCached = 1000;
constexpr std::size_t kMaxClientIdBytes = 128;
}  // namespace

AuthResult<Client> ClientDirectory::find(const std::string& client_id) {
  const std::string id = client_id.empty() ? std::string(kDefaultClient) : client_id;
  if (id.size() > kMaxClientIdBytes) return fail(Errc::kInvalidClient, "Unknown client.");
  if (auto hit = cached(id)) return std::move(*hit);
  return reload(id);
}

AuthResult<Client> ClientDirectory::reload(const std::string& client_id) {
  const std::string id = client_id.empty() ? std::string(kDefaultClient) : client_id;
  if (id.size() > kMaxClientIdBytes) return fail(Errc::kInvalidClient, "Unknown client.");
  auto c = store_.find(id);
  if (!c) return unexpected(store_error(c.error()));
  if (!c->has_value()) return fail(Errc::kInvalidClient, "Unknown client.");
  std::lock_guard lock(mu_);
  if (entries_.size() > kMaxCached) entries_.clear();
  entries_[id] = Entry{**c, clock_.now_unix() + cache_s_.load()};
  return std::move(**c);
}

void ClientDirectory::remember(const Client& client) {
  std::lock_guard lock(mu_);
  if (entries_.size() > kMaxCached) entries_.clear();
  entries_[client.id] = Entry{client, clock_.now_unix() + cache_s_.load()};
}

void ClientDirectory::forget(const std::string& client_id) {
  std::lock_guard lock(mu_);
  if (client_id.empty())
    entries_.clear();
  else
    entries_.erase(client_id);
}

std::optional<Client> ClientDirectory::cached(const std::string& client_id) {
  const std::string_view id = client_id.empty() ? kDefaultClient : std::string_view(client_id);
  std::lock_guard lock(mu_);
  const std::int64_t now = clock_.now_unix();
  // An entry kept longer than the current cache time is stale too (the time just shrank).
  if (auto it = entries_.find(id); it != entries_.end() && it->second.expires_at > now &&
                                   it->second.expires_at - now <= cache_s_.load())
    return it->second.client;
  return std::nullopt;
}

}  // namespace authd::auth::detail
