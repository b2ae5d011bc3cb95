#pragma once
// What the auth service is configured with: issuer, lifetimes, password cost and limits.

#include <cstdint>
#include <string>
#include <vector>

#include "authd/auth/rate_limiter.h"
#include "authd/crypto/password.h"

namespace authd::auth {

struct Settings {
  std::string issuer = "http://127.0.0.1:8080";
  std::string audience = "authd";
  std::int64_t access_ttl_s = 600;
  std::int64_t session_absolute_s = 30 * 86400;
  std::int64_t session_idle_s = 7 * 86400;
  std::int64_t leeway_s = 30;
  /// Audiences whose verifiers refuse RFC 9068's `typ: at+jwt` (Debian 12's libjwt 1.10 and
  /// cpp-jwt 1.4): access tokens with any of them in `aud` are issued with `typ: JWT`. Empty
  /// (the default): every access token is an at+jwt.
  std::vector<std::string> legacy_typ_audiences;
  /// How long an authd sign-in in a browser (the hosted login page's cookie) lasts.
  std::int64_t browser_session_s = 12 * 3600;
  crypto::PasswordParams password;
  std::size_t max_password_bytes = 1024;  ///< longer passwords are refused before hashing
  /// Clients change rarely; a looked-up client is reused this long before it is read again.
  std::int64_t client_cache_s = 30;
  /// Password hashes allowed to run at once; 0 = one per core. More than the cores only adds
  /// context switches and memory traffic (each Argon2id call touches argon2_memory bytes).
  unsigned max_concurrent_hashes = 0;
  /// Hashes that may wait for a slot (served in order of arrival); one more is refused with
  /// kUnavailable (503, Retry-After) instead of waiting behind them.
  std::size_t max_queued_hashes = 64;

  /// Rate limits (requests per minute and burst), applied when a RateLimiter is given.
  Limit login_per_ip{60, 20};
  /// Every attempt for one email, existing or not, from all addresses together: the
  /// account-wide slowdown, well above what one user does, so that others' guesses do not
  /// lock the user out.
  Limit login_per_account{120, 60};
  /// Failed logins per email and address: after `burst` failures from one address, that
  /// address is refused for that email until the bucket refills (progressive back-off).
  /// Unknown emails are limited the same way.
  Limit login_failures{2, 5};
  Limit refresh_per_ip{600, 100};
  Limit refresh_per_family{30, 10};  ///< refreshes of one family, across its rotations
  /// /oauth2/token requests per client: after authentication (a flood naming a client cannot
  /// lock it out), except for a legacy Argon2id secret, where it bounds the hashing first.
  Limit token_per_client{600, 100};
  /// Client authentication attempts per client IP, before any lookup or hash.
  Limit oauth_per_ip{1200, 300};
};

}  // namespace authd::auth
