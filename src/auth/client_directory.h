#pragma once
// Clients by id, cached: they change rarely, and /refresh must find its client without a
// store round trip on the event loop.

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

  /// The client ("" = the default), from the cache or the store. kInvalidClient if unknown.
  AuthResult<Client> find(const std::string& client_id);
  /// find() from the store, refreshing the cache: after a check failed against a cached
  /// copy, which may be older than a rotated secret.
  AuthResult<Client> reload(const std::string& client_id);
  /// Replaces the cached copy (after this replica changed the client).
  void remember(const Client& client);
  /// The cached client, without a store lookup on a miss.
  std::optional<Client> cached(const std::string& client_id);

 private:
  struct Entry {
    Client client;
    std::int64_t expires_at;
  };
  ClientStore& store_;
  const Clock& clock_;
  const std::int64_t cache_s_;
  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace authd::auth::detail
