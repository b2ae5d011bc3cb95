#pragma once
// Sessions (= refresh-token families) and their refresh tokens. Rotation is one atomic call so
// that no read-then-write race can fork a family.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "authd/store/errc.h"

namespace authd::auth {

struct Session {
  std::string id;  ///< UUID; the access token's `sid`
  std::string user_id;
  std::string client_id;
  std::int64_t created_at = 0;
  std::int64_t last_used_at = 0;
  std::int64_t absolute_expires_at = 0;  ///< never extended
  std::int64_t idle_expires_at = 0;      ///< pushed forward by each rotation
  std::optional<std::int64_t> revoked_at;
  std::string revoked_reason;  ///< "logout", "logout_all", "reuse_detected", "admin", ...
  std::string user_agent;
  std::string ip;
  std::int64_t generation = 0;  ///< generation of the newest refresh token
  /// The scope granted at login (space-separated); a refresh may narrow an access token's
  /// scope within it, never widen it (RFC 6749 §6).
  std::string scope;
};

/// A refresh token as stored: only its keyed hash, never the token itself.
struct NewRefreshToken {
  std::string hash;  ///< raw 32-byte keyed BLAKE2b of the token
  std::int64_t issued_at = 0;
};

struct RotateRequest {
  std::string presented_hash;  ///< hash of the token the client sent
  std::string successor_hash;  ///< hash of the successor, derived deterministically from it
  std::int64_t now = 0;
  std::int64_t grace_seconds = 10;        ///< replay window for the legitimate concurrent case
  std::int64_t idle_timeout_seconds = 0;  ///< new idle expiry = now + this (capped at absolute)
};

enum class RotateOutcome {
  kRotated,        ///< presented token was live: it is now used, successor is live
  kGraceReplay,    ///< presented token was rotated <= grace ago to this same successor, which is
                   ///< still live: answer with the same successor again (no new branch)
  kReuseDetected,  ///< presented token was already used outside the grace rules: the whole
                   ///< family is now revoked (reason "reuse_detected")
  kUnknown,        ///< no such token
  kRevoked,        ///< family already revoked
  kExpired,        ///< family past its absolute or idle expiry
};

/// What a refresh needs of the family's user to mint the next access token, read in the same
/// call as the rotation so that /refresh costs one database round trip.
struct FamilyUser {
  bool disabled = false;
  std::vector<std::string> roles;
  std::string tenant_id;
};

struct RotateResult {
  RotateOutcome outcome = RotateOutcome::kUnknown;
  std::optional<Session> session;  ///< the family after the call (absent for kUnknown)
  std::int64_t generation = 0;     ///< generation of the successor (kRotated, kGraceReplay)
  std::optional<FamilyUser> user;  ///< the family's user, present whenever session is
};

using RotateCallback = std::function<void(store::StoreResult<RotateResult>)>;

/// Thread-safe; every call may block on I/O (run on the worker pool), except rotate_async.
class SessionStore {
 public:
  virtual ~SessionStore() = default;
  /// Creates a family with its first refresh token (generation 1).
  virtual store::StoreResult<void> create(const Session& session, const NewRefreshToken& first) = 0;
  /// Atomically rotates, replays within grace, or detects reuse (see RotateOutcome).
  /// Concurrent calls with the same presented hash yield exactly one kRotated; the rest see
  /// kGraceReplay (inside grace) — the family never has two live tokens.
  virtual store::StoreResult<RotateResult> rotate(const RotateRequest& request) = 0;
  /// rotate() without blocking the calling thread, for an event loop's thread: returns false,
  /// having done nothing, when this store cannot do that here and now (then call rotate() on a
  /// worker). Otherwise `done` runs later, on this thread or on a worker, exactly once.
  virtual bool rotate_async(const RotateRequest& /*request*/, RotateCallback /*done*/) {
    return false;
  }
  virtual store::StoreResult<std::optional<Session>> find(const std::string& session_id) = 0;
  /// Finds the family a refresh token belongs to (used or not), for logout by refresh token.
  virtual store::StoreResult<std::optional<Session>> find_by_token(
      const std::string& token_hash) = 0;
  /// Live (not revoked, not expired at `now`) sessions of a user, newest first.
  virtual store::StoreResult<std::vector<Session>> list_active(const std::string& user_id,
                                                               std::int64_t now) = 0;
  /// Revokes one family. Returns false if it was already revoked; kNotFound if absent.
  virtual store::StoreResult<bool> revoke(const std::string& session_id, const std::string& reason,
                                          std::int64_t now) = 0;
  /// Revokes every live family of a user; returns their ids.
  virtual store::StoreResult<std::vector<std::string>> revoke_all(const std::string& user_id,
                                                                  const std::string& reason,
                                                                  std::int64_t now) = 0;
  /// Ids of families revoked at or after `since` (for re-syncing revocation caches).
  virtual store::StoreResult<std::vector<std::string>> revoked_since(std::int64_t since) = 0;
  /// Revokes one access token by its jti until `until` (its exp); idempotent, the later
  /// `until` wins. For tokens without a family (client_credentials) and RFC 7009 revocation.
  virtual store::StoreResult<void> revoke_token(const std::string& jti, std::int64_t until) = 0;
  /// Whether the access token `jti` was revoked (and its row not yet purged).
  virtual store::StoreResult<bool> is_token_revoked(const std::string& jti) = 0;
  /// Access tokens revoked and not yet expired at `now` (jti, until), at most `limit`: for
  /// re-filling revocation caches after an outage.
  virtual store::StoreResult<std::vector<std::pair<std::string, std::int64_t>>> revoked_tokens(
      std::int64_t now, std::size_t limit) = 0;
  /// Deletes families (and their tokens) that expired or were revoked before `cutoff`, and
  /// revoked-token rows whose `until` passed before it.
  /// Returns how many families were deleted; at most `limit` per call.
  virtual store::StoreResult<std::size_t> purge(std::int64_t cutoff, std::size_t limit) = 0;
};

}  // namespace authd::auth
