#pragma once
// ClientJwks: the key sets of private_key_jwt clients registered with a jwks_uri, each in its
// own authd::verify JwksCache (Cache-Control/ETag freshness, one refetch per cool-down on an
// unknown kid, the last good set until its stale bound), created on the client's first
// assertion, bounded in number and dropped when the client changes.
//
// Fetching is safe by construction: https only (plain http to loopback only when
// allow_loopback_http is set, for tests and development), no redirects, a size cap and one
// timeout for the whole request. It blocks the calling thread for at most that timeout: the
// token endpoint calls it on a worker, never on an event loop.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "authd/auth/client_store.h"
#include "authd/verify/jwks_cache.h"
#include "authd/verify/verifier.h"

namespace authd::app {

struct ClientJwksOptions {
  /// The whole fetch (connect, TLS, response) must finish within this.
  std::chrono::milliseconds timeout{2000};
  /// Allow http:// to loopback addresses (tests, development). https is otherwise required.
  bool allow_loopback_http = false;
  /// Largest JWKS document accepted.
  std::size_t max_body_bytes = 64 * 1024;
  /// Clients whose key sets are held at once; the least recently used one goes beyond it.
  std::size_t max_clients = 1000;
  /// Clock skew tolerated on exp, nbf and iat.
  std::chrono::seconds leeway{30};
  /// A kid the held set lacks refetches at most once per this (a client rotating its keys is
  /// seen within it; a flood of invented kids costs one fetch per client per cool-down).
  std::chrono::seconds unknown_kid_cooldown{10};
  /// How long the last good set is used past its freshness while fetches fail.
  std::chrono::seconds max_stale{3600};
  /// Empty: verify::https_fetcher with the settings above. Tests inject their own.
  verify::Fetcher fetcher;
  /// Empty: the system clock.
  verify::ClockFn clock;
  /// Told of every fetch and refusal of every client's cache, with the client's id (metrics,
  /// logs). Called outside the caches' locks; must not throw.
  std::function<void(const std::string& client_id, const verify::CacheEventInfo&)> on_event;
};

/// Thread-safe.
class ClientJwks final : public auth::ClientKeySets {
 public:
  explicit ClientJwks(ClientJwksOptions options);

  std::optional<std::string> verify(const auth::Client& client, std::string_view assertion,
                                    const std::vector<std::string>& audiences) override;
  void forget(const std::string& client_id) override;

  /// The cache of `client_id`, if one is held (tests, metrics).
  std::shared_ptr<verify::JwksCache> cache_of(const std::string& client_id) const;
  std::size_t size() const;

 private:
  struct Entry {
    std::string jwks_uri;
    std::shared_ptr<verify::JwksCache> cache;
    std::uint64_t last_used = 0;
  };
  /// The cache for the client's current jwks_uri, made (or remade, when the URI changed) here.
  std::shared_ptr<verify::JwksCache> cache_for(const auth::Client& client);

  ClientJwksOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
  std::uint64_t uses_ = 0;
};

/// Whether `uri` may be registered as a client's jwks_uri: an absolute https URL with a host,
/// or http on a loopback host (accepted at registration; authd fetches it only when allowed).
bool jwks_uri_registrable(std::string_view uri);

}  // namespace authd::app
