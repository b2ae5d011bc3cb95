#pragma once
// Authorization codes (RFC 6749 §4.1) as stored: only their keyed hash, bound to the client,
// the redirect URI and the PKCE challenge. In the store, not in a replica's memory, so a code
// minted on one replica is redeemed on another and survives a failover. Implemented by
// src/store/{postgres,sqlite}; the contract is tests/contract/code_store_contract_test.cpp.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "authd/store/errc.h"

namespace authd::auth {

struct AuthorizationCode {
  std::string hash;  ///< raw keyed BLAKE2b of the code
  std::string client_id;
  std::string user_id;
  std::string redirect_uri;        ///< as the authorization request gave it
  std::string code_challenge;      ///< S256, base64url
  std::string scope;               ///< granted, space-separated
  std::string nonce;               ///< OpenID Connect; "" when none
  std::string browser_session_id;  ///< the authd sign-in it was issued under
  std::int64_t auth_time = 0;      ///< when the user entered a password (Unix seconds)
  std::int64_t expires_at = 0;
};

/// What redeem() found.
struct CodeRedemption {
  AuthorizationCode code;
  /// True for the one call that redeemed it; false for every later presentation.
  bool first_use = false;
  /// The family the code was exchanged for: the caller's on first use, else the one recorded
  /// by the first use (which a replay must revoke).
  std::string session_id;
};

/// Thread-safe; every call may block on I/O (run on the worker pool).
class CodeStore {
 public:
  virtual ~CodeStore() = default;
  /// Stores a new code. kConflict when the hash exists.
  virtual store::StoreResult<void> create(const AuthorizationCode& code) = 0;
  /// Atomically: if the code is unused, marks it used at `now` and records `session_id` as the
  /// family issued from it (first_use); otherwise reports the first use's family. nullopt when
  /// no such code. Expiry is the caller's to check: a replay of an expired code must still
  /// find its family. Concurrent calls for one hash yield exactly one first_use.
  virtual store::StoreResult<std::optional<CodeRedemption>> redeem(
      const std::string& hash, std::int64_t now, const std::string& session_id) = 0;
  /// The families issued from codes under this browser session (RP-initiated logout).
  virtual store::StoreResult<std::vector<std::string>> families(
      const std::string& browser_session_id) = 0;
  /// Deletes codes that expired before `cutoff` unless their family still exists; returns how
  /// many, at most `limit`.
  virtual store::StoreResult<std::size_t> purge(std::int64_t cutoff, std::size_t limit) = 0;
};

}  // namespace authd::auth
