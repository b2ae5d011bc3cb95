#pragma once
// Key-ring settings and the windows derived from them. All durations are in seconds.

#include <cstdint>

#include "authd/core/result.h"
#include "authd/jose/alg.h"
#include "authd/keys/errc.h"

namespace authd::keys {

/// "No successor scheduled": retire_at and remove_at of a key that signs indefinitely.
inline constexpr std::int64_t kForever = INT64_MAX;

/// How the ring generates, publishes, rotates and retires keys.
struct Settings {
  /// Algorithm of newly generated keys (existing keys keep theirs).
  jose::Alg alg = jose::Alg::ES256;
  /// Algorithm of the keys that sign OpenID Connect ID tokens. RS256 is OpenID Connect's
  /// default: a relying party that registered nothing (openid-client, Spring, oauth2-proxy)
  /// accepts only RS256 ID tokens. When it differs from `alg`, the ring keeps a second chain
  /// of keys of this algorithm, published in the same JWKS and rotated on the same schedule.
  jose::Alg id_token_alg = jose::Alg::RS256;
  /// Lifetime of the access tokens the ring signs (auth.access_ttl).
  std::int64_t access_ttl_s = 600;
  /// JWKS Cache-Control max-age.
  std::int64_t jwks_max_age_s = 300;
  /// JWKS Cache-Control stale-while-revalidate.
  std::int64_t jwks_stale_while_revalidate_s = 60;
  /// How long each key signs before its successor takes over.
  std::int64_t rotation_period_s = 30LL * 86400;
  /// Clock skew tolerated by verifiers on exp (auth.leeway).
  std::int64_t leeway_s = 30;
  /// Extra publish-ahead for replicas that have not yet reloaded the ring when a new key is
  /// written: a JWKS served by a lagging replica lacks the new key. 0 matches the documented
  /// max-age + stale-while-revalidate rule; set it to the poll interval if Redis pub/sub
  /// (notify) may be unavailable.
  std::int64_t replica_lag_s = 0;
  /// The longest JWKS cache of the verifiers that use the tokens, when it exceeds what the
  /// Cache-Control header allows (verifiers with a fixed cache time, e.g. Envoy jwt_authn's
  /// 600 s default). 0: every verifier honours Cache-Control.
  std::int64_t verifier_cache_s = 0;
};

/// True when ID tokens have a key chain of their own (id_token_alg != alg).
inline bool separate_id_token_keys(const Settings& s) noexcept { return s.id_token_alg != s.alg; }

/// The longest default JWKS cache among mainstream verifiers that do not refetch on an unknown
/// kid (Envoy jwt_authn `cache_duration`, 600 s; node jose's `cacheMaxAge` is also 600 s but
/// it refetches after a 30 s cool-down). A shorter publish-ahead makes start-up warn.
inline constexpr std::int64_t kMainstreamVerifierCacheS = 600;

/// How long before it signs a new key is published: every JWKS a resource server may still
/// use from cache (max-age + stale-while-revalidate, or verifier_cache_s if longer), plus
/// replica_lag_s.
inline std::int64_t publish_ahead(const Settings& s) noexcept {
  const std::int64_t cache = s.jwks_max_age_s + s.jwks_stale_while_revalidate_s;
  return (cache > s.verifier_cache_s ? cache : s.verifier_cache_s) + s.replica_lag_s;
}

/// How long a key stays published after it stops signing: until every token it signed has
/// expired (access_ttl + leeway), plus the JWKS cache lifetime.
inline std::int64_t retention_after_retire(const Settings& s) noexcept {
  return s.access_ttl_s + s.leeway_s + publish_ahead(s);
}

/// Checks ranges: access_ttl_s and rotation_period_s > 0; the others >= 0; every duration
/// below ten years (so sums cannot overflow); rotation_period_s >= publish_ahead() (a key must
/// sign at least as long as it was announced, which also bounds the published set to a few
/// keys).
/// @return Errc::kInvalidSettings naming the offending field.
Result<void, Error> validate(const Settings& s);

}  // namespace authd::keys
