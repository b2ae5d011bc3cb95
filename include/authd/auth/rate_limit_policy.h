#pragma once
// Which limits apply to which request, in which order, and the one 429 they answer with.
// The limiters count; this decides what is counted (keys, costs) and what a refusal says.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "authd/auth/errors.h"
#include "authd/auth/rate_limiter.h"
#include "authd/auth/settings.h"
#include "authd/crypto/keyed_hash.h"

namespace authd::auth {

/// Thread-safe when the limiters are. A null limiter means that group is not limited.
class RateLimitPolicy {
 public:
  /// `login` limits /login and the token endpoint's clients; `refresh` limits /refresh.
  RateLimitPolicy(RateLimiter* login, RateLimiter* refresh, const Settings& settings,
                  const crypto::KeyedHasher& pepper);

  /// The 429 for a denied decision of `limit`: Retry-After, and the policy for the
  /// RateLimit headers (its window is the time the burst takes to refill).
  static Error rate_limited(const Decision& denied, const Limit& limit,
                            std::string description = "Too many requests; retry later.");

  /// The account key of a login attempt: a keyed hash of the (normalised) email, the same for
  /// existing and unknown accounts, so a limiter's keys reveal no email.
  std::string account_key(std::string_view email) const;
  /// The back-off key of `account` from `ip`.
  static std::string failure_key(std::string_view ip, std::string_view account);
  /// Before a login does any work: the address, the account (every attempt, a high
  /// account-wide threshold), then the back-off of this account from this address, which the
  /// attempt is charged to before any hash (once its budget is spent, refuse).
  std::optional<Error> admit_login(std::string_view ip, std::string_view account);
  /// After a correct password: the back-off of this account from this address starts over.
  void login_succeeded(std::string_view ip, std::string_view account);

  /// A client authentication attempt from `ip`, before any lookup or hash.
  std::optional<Error> admit_oauth_address(std::string_view ip);
  /// A token-endpoint request of `client_id`: once authenticated, or before a legacy hash.
  std::optional<Error> admit_client(std::string_view client_id);
  /// True when admit_oauth_address() and admit_client() may wait on I/O (a shared limiter),
  /// so that an event loop must not call them.
  bool oauth_checks_block() const { return login_ && login_->blocks(); }

  using Admitted = std::function<void(std::optional<Error>)>;
  /// /refresh limits: by address first, then by family (`family_key` from the token codec).
  bool limits_refresh() const { return refresh_ != nullptr; }
  /// True when the refresh checks may wait on I/O (a shared limiter): an event loop must
  /// then use the *_async forms, which it may only when refresh_checks_async().
  bool refresh_checks_block() const { return refresh_ && refresh_->blocks(); }
  bool refresh_checks_async() const { return refresh_ && refresh_->checks_async(); }
  std::optional<Error> admit_refresh_address(std::string_view ip);
  std::optional<Error> admit_refresh_family(std::string_view family_key);
  /// The same checks answered through `done` exactly once, possibly on the limiter's thread.
  void admit_refresh_address_async(std::string_view ip, Admitted done);
  void admit_refresh_family_async(std::string_view family_key, Admitted done);

 private:
  static std::optional<Error> verdict(RateLimiter* limiter, std::string_view key,
                                      const Limit& limit);
  static void verdict_async(RateLimiter* limiter, std::string_view key, const Limit& limit,
                            Admitted done);

  RateLimiter* login_;
  RateLimiter* refresh_;
  const Settings& settings_;
  const crypto::KeyedHasher& pepper_;
};

}  // namespace authd::auth
