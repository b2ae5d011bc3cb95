#pragma once
// JwksCache: the issuer's JSON Web Key Set, fetched over HTTPS and kept fresh for verifiers.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "authd/verify/export.h"
#include "authd/verify/verifier.h"

namespace authd::verify {

/// Request or response header fields, in order; names as sent (compare case-insensitively).
using Headers = std::vector<std::pair<std::string, std::string>>;

/// What a fetcher got for one GET.
struct AUTHD_VERIFY_API HttpResponse {
  /// Empty on success; otherwise why no HTTP response arrived (DNS, TCP, TLS, timeout, size).
  std::string error;
  int status = 0;
  Headers headers;
  std::string body;

  /// The first header field named `name` (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

/// Performs one HTTP GET of `url` with extra request `headers` (If-None-Match). Called by the
/// cache from one thread at a time; must not throw (an exception counts as a failed fetch).
using Fetcher = std::function<HttpResponse(const std::string& url, const Headers& headers)>;

/// Settings of the default fetcher.
struct AUTHD_VERIFY_API FetcherOptions {
  /// The whole request (resolve, connect, TLS, response) must finish within this.
  std::chrono::milliseconds timeout{5000};
  /// PEM bundle of trusted CAs; empty: the system's default trust store.
  std::string ca_file;
  /// Allow plain http:// to loopback addresses (127.0.0.0/8, ::1, localhost), as a dev-mode
  /// authd serves. Plain HTTP to any other host is always refused.
  bool allow_loopback_http = true;
  /// Largest response body accepted.
  std::size_t max_body_bytes = 512 * 1024;
};

/// The default fetcher: HTTP/1.1 over TLS 1.2+ with certificate and host-name verification.
AUTHD_VERIFY_API Fetcher https_fetcher(FetcherOptions options = {});

/// What the cache reports through CacheOptions::on_event.
enum class CacheEvent {
  kFetched,            ///< a new key set was fetched (200) and installed
  kNotModified,        ///< 304: the held key set was confirmed fresh
  kFetchFailed,        ///< transport error, unexpected status, or an unusable document
  kUnknownKidRefetch,  ///< a token named an unknown kid and the cool-down allowed a refetch
  kRefetchSuppressed,  ///< a token named an unknown kid within the cool-down: no fetch
  kStale,              ///< the last good key set passed its stale bound; tokens are refused
};

/// Stable snake_case name of an event.
AUTHD_VERIFY_API std::string_view to_string(CacheEvent e) noexcept;

struct AUTHD_VERIFY_API CacheEventInfo {
  CacheEvent event;
  std::string url;     ///< the URL fetched (empty for kRefetchSuppressed, kStale)
  int status = 0;      ///< HTTP status, 0 if none
  std::string detail;  ///< why a fetch failed; never token contents
};

/// Counters, all monotonic except keys.
struct AUTHD_VERIFY_API CacheStats {
  std::uint64_t fetches = 0;       ///< GETs of the JWKS (and discovery) attempted
  std::uint64_t fetched = 0;       ///< 200 answers installed
  std::uint64_t not_modified = 0;  ///< 304 answers
  std::uint64_t failures = 0;      ///< fetches that failed
  std::uint64_t unknown_kid_refetches = 0;
  std::uint64_t refetches_suppressed = 0;
  std::size_t keys = 0;  ///< keys in the set held now
};

struct AUTHD_VERIFY_API CacheOptions {
  /// The JWKS URL. Empty: discovered from `<issuer>/.well-known/openid-configuration`
  /// (its `jwks_uri`), or `<issuer>/.well-known/jwks.json` when the issuer has no discovery
  /// document (404).
  std::string jwks_uri;
  /// The issuer, for discovery (and checked against the discovery document's `issuer`).
  std::string issuer;
  /// Empty: https_fetcher().
  Fetcher fetcher;
  /// Freshness when the response has no Cache-Control max-age.
  std::chrono::seconds default_max_age{300};
  /// Bounds on the max-age the server gives (no-store/no-cache count as 0).
  std::chrono::seconds min_max_age{1};
  std::chrono::seconds max_max_age{86400};
  /// A token with an unknown kid triggers a refetch only if no fetch started within this time;
  /// a flood of random kids therefore costs at most one fetch per cool-down.
  std::chrono::seconds unknown_kid_cooldown{30};
  /// After a failed fetch, the next attempt waits this long.
  std::chrono::seconds retry_interval{5};
  /// How long past its freshness the last good key set is still used while fetches fail;
  /// beyond it every token is refused with Error::kKeysStale.
  std::chrono::seconds max_stale{3600};
  /// Time source; empty: std::chrono::system_clock.
  ClockFn clock;
  /// Called (from the fetching thread, outside any lock) for every CacheEvent. Must not throw.
  std::function<void(const CacheEventInfo&)> on_event;
};

/// A JWKS cache shared by verifiers. Thread-safe. Reads on the verify path take no mutex:
/// the key set is an immutable snapshot behind an atomic shared pointer. A refresh runs on
/// the first verifying thread that finds the set expired (single flight); the others keep
/// verifying with the held set. Threads wait only when they need the fetch's result: no set
/// yet, or an unknown kid the cool-down allows to refetch.
class AUTHD_VERIFY_API JwksCache {
 public:
  explicit JwksCache(CacheOptions options);
  /// A cache of one fixed JWKS document that never fetches; check ok().
  static std::shared_ptr<JwksCache> fixed(std::string_view jwks_json);
  JwksCache(const JwksCache&) = delete;
  JwksCache& operator=(const JwksCache&) = delete;
  ~JwksCache();

  /// Fetches now (or waits for the fetch in flight). @return true when a usable key set is
  /// held afterwards.
  bool refresh();
  /// True when a key set is held and within its stale bound.
  bool ok() const;
  CacheStats stats() const;

  struct Impl;  ///< for the Verifier; opaque to users

 private:
  friend class Verifier;
  std::unique_ptr<Impl> impl_;
};

}  // namespace authd::verify
