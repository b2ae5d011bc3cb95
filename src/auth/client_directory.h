#pragma once
// Clients by id, cached: they change rarely, and /refresh must find its client without a
// store round trip on the event loop.

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "authd/auth/client_store.h"
#include "authd/auth/errors.h"
#include "authd/core/clock.h"

namespace authd::auth::detail {

/// Thread-safe.
class ClientDirectory {
 public:
  /// The client that requests naming none act for (a public client created by migration).
  static constexpr std::string_view kDefaultClient = "authd";

  ClientDirectory(ClientStore& store, const Clock& clock, std::int64_t cache_s)
      : store_(store), clock_(clock), cache_s_(cache_s) {}

  /// How long a looked-up client is reused from now on: long while change events arrive
  /// (Redis), short while they cannot (the store is then the only way to learn of a change).
  void set_cache_seconds(std::int64_t cache_s) { cache_s_.store(cache_s); }

  /// The client ("" = the default), from the cache or the store. kInvalidClient if unknown.
  AuthResult<Client> find(const std::string& client_id);
  /// find() from the store, refreshing the cache: after a check failed against a cached
  /// copy, which may be older than a rotated secret.
  AuthResult<Client> reload(const std::string& client_id);
  /// Replaces the cached copy (after this replica changed the client).
  void remember(const Client& client);
  /// Drops the cached copy of `client_id`, or of every client for "": it changed elsewhere.
  void forget(const std::string& client_id);
  /// The cached client, without a store lookup on a miss.
  std::optional<Client> cached(const std::string& client_id);

 private:
  struct Entry {
    Client client;
    std::int64_t expires_at;
  };
  ClientStore& store_;
  const Clock& clock_;
  std::atomic<std::int64_t> cache_s_;
  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace authd::auth::detail
