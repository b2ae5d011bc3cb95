#pragma once
// What every use case of the auth service shares: its dependencies and settings, and the
// small units built on them. Internal to src/auth; the façade is include/authd/auth/service.h.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/access_tokens.h"
#include "auth/client_directory.h"
#include "auth/hash_queue.h"
#include "authd/auth/client_secret.h"
#include "authd/auth/rate_limit_policy.h"
#include "authd/auth/refresh_token.h"
#include "authd/auth/service.h"

namespace authd::auth::detail {

/// A store failure as the client may see it; the store's message goes to Error::debug.
Error store_error(const store::Error& e);
/// One answer for every refresh token that is not a live one, so none reveals more.
Unexpected<Error> invalid_refresh_token();
bool contains(const std::vector<std::string>& list, std::string_view item);
/// The one answer for a client that failed, or skipped, authentication.
Unexpected<Error> client_not_authenticated();
/// The words of a space-separated scope.
std::vector<std::string> split_scope(std::string_view scope);
/// The granted scope: all of `allowed` for an empty request, else the requested words if each
/// is allowed (kInvalidScope otherwise): a request can only narrow.
AuthResult<std::string> grant_scope(const std::vector<std::string>& allowed,
                                    std::string_view requested);

/// Password hashing bounded to `slots` at once (Argon2id calls beyond the cores only add
/// context switches and memory traffic), the others waiting in order of arrival in a queue of
/// at most `max_waiting`.
class PasswordWork : private HashQueue::Observer {
 public:
  /// `events` (optional) hears of every hash and of the queue.
  PasswordWork(unsigned slots, std::size_t max_waiting, const crypto::PasswordParams& params,
               Events* events);
  /// Whether @p password matches; busy() when the queue is full.
  AuthResult<bool> verify(std::string_view encoded_hash, std::string_view password);
  /// The same work as a failed verify(), for an unknown account or client, so that timing
  /// does not tell which exist.
  AuthResult<void> verify_dummy(std::string_view password);
  /// A new hash under the current parameters; nullopt on failure or when the queue is full.
  std::optional<std::string> hash(std::string_view password);

  /// The answer when the queue is full: kUnavailable, retry in a second.
  static Error busy();

 private:
  void depth(std::size_t waiting) override;
  void waited(std::chrono::nanoseconds wait) override;

  const crypto::PasswordParams& params_;
  Events* events_;
  HashQueue queue_;
};

struct Context {
  Context(AuthService::Deps deps, Settings settings);
  /// Tells the shared revocation list and the event sink that a family is revoked, so every
  /// replica refuses its access tokens at once.
  void announce_revoked(const std::string& session_id, std::int64_t now);
  /// Hands one audit record to the event sink (if any), stamped with the clock's time.
  void audit(AuditEvent e) const;

  AuthService::Deps d;
  const Settings settings;
  const RefreshTokenCodec codec;
  const ClientSecretCodec secrets;
  RateLimitPolicy limits;
  PasswordWork passwords;
  ClientDirectory clients;
  AccessTokens tokens;
};

}  // namespace authd::auth::detail
