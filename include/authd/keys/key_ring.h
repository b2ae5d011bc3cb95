#pragma once
// KeyRing: the signing keys of this replica, loaded from the KeyStore into an immutable
// snapshot. Signing, verification lookups and the JWKS read only the snapshot and the clock,
// so they never wait on the store, and replicas that loaded the same rows switch keys at the
// same instant without talking to each other.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "authd/core/clock.h"
#include "authd/core/result.h"
#include "authd/crypto/secret.h"
#include "authd/jose/jws.h"
#include "authd/jose/key.h"
#include "authd/keys/errc.h"
#include "authd/keys/key_store.h"
#include "authd/keys/rotation.h"
#include "authd/keys/settings.h"

namespace authd::keys {

/// The JWKS response, encoded once per published set and shared by every request.
struct JwksDocument {
  /// `{"keys":[...]}`: public JWKs of every published key, ordered by activate_at.
  std::shared_ptr<const std::string> body;
  /// Strong ETag, quoted: base64url(SHA-256(body)). Equal bodies give equal ETags on every
  /// replica, so a load balancer switching replicas does not defeat If-None-Match.
  std::string etag;
  /// "public, max-age=<jwks_max_age_s>, stale-while-revalidate=<swr>", or "no-store" while
  /// the set is empty (an empty set must not be cached: the first key signs immediately).
  std::string cache_control;
};
using JwksDocumentPtr = std::shared_ptr<const JwksDocument>;

/// One key as `authctl keys list` shows it.
struct KeyInfo {
  std::string kid;
  std::string alg;
  KeyState state = KeyState::kNext;
  bool signing = false;          ///< the key signing_key() would pick now
  bool signs_id_tokens = false;  ///< the key sign_id_token() would pick now
  std::int64_t created_at = 0;
  std::int64_t activate_at = 0;
  std::int64_t retire_at = 0;  ///< kForever while no successor is scheduled
  std::int64_t remove_at = 0;  ///< kForever while no successor is scheduled
};

/// What rotate() did.
struct RotateResult {
  /// False when another replica held the rotation lock: nothing was planned or written here.
  bool ran = false;
  RotationOutcome outcome = RotationOutcome::kNothingDue;
  /// The key created or promoted, if any.
  std::string kid;
  /// The same for the ID-token chain, when it has its own (separate_id_token_keys()).
  RotationOutcome id_token_outcome = RotationOutcome::kNothingDue;
  std::string id_token_kid;
  /// How many removed keys were deleted.
  std::size_t deleted = 0;

  /// The keys created or promoted, of both chains, with what happened to each: a kid is set
  /// exactly for kBootstrapped, kRotated and kPromoted.
  std::vector<std::pair<std::string, RotationOutcome>> keys_made() const {
    std::vector<std::pair<std::string, RotationOutcome>> made;
    if (!kid.empty()) made.emplace_back(kid, outcome);
    if (!id_token_kid.empty()) made.emplace_back(id_token_kid, id_token_outcome);
    return made;
  }
};

/// The signing-key ring.
///
/// Thread-safety: every member function may be called concurrently. Readers (signing_key,
/// sign, find, lookup, jwks, describe, loaded) copy one shared_ptr under a mutex held for
/// that copy only. load() calls are serialised among themselves.
class KeyRing {
 public:
  /// @param store  must outlive the ring.
  /// @param kek    the key-encryption key (32 bytes; see load_kek()).
  /// @param clock  must outlive the ring; decides key states at each call.
  /// @param settings  assumed valid (validate()).
  KeyRing(KeyStore& store, crypto::Secret kek, const Clock& clock, Settings settings);
  ~KeyRing();
  KeyRing(const KeyRing&) = delete;
  KeyRing& operator=(const KeyRing&) = delete;

  /// Reads every stored key, opens and parses each one (a key already held with the same
  /// sealed bytes is reused, not re-parsed), and swaps in the new snapshot.
  /// On any error the previous snapshot stays in place: a bad reload never takes keys away.
  /// @return Errc::kStore, Errc::kWrongKek ("the key-encryption key cannot decrypt signing key
  ///         <kid>; wrong KEK file?"), Errc::kCorruptKey.
  Result<void, Error> load();

  /// Runs plan_rotation() under the store's rotation lock with keys from settings.alg sealed
  /// under the KEK, then reload()s if the plan ran. With separate_id_token_keys(), keys of
  /// settings.id_token_alg form a second chain planned alike (its first key in a ring already
  /// in use is announced publish_ahead() before it signs). Before planning, every stored key that
  /// is still published is test-decrypted, so a replica with the wrong KEK never adds a key the
  /// others cannot open.
  /// @return ran = false when another replica holds the lock; errors: Errc::kStore,
  ///         Errc::kWrongKek, Errc::kKeyGeneration, and load()'s errors (the rotation itself
  ///         was then committed; the message says so).
  Result<RotateResult, Error> rotate(bool force);

  /// The key signing access tokens at clock.now(): the newest activate_at with activate_at <=
  /// now < retire_at, outside the ID-token chain (if none is active there, the ID-token
  /// chain's signer: it is published too). Decided per call, so every replica switches
  /// exactly at activate_at.
  /// @return Errc::kNotLoaded before the first successful load(), Errc::kNoActiveKey.
  Result<jose::KeyPtr, Error> signing_key() const;
  /// The key sign_id_token() uses at clock.now(); errors as signing_key().
  Result<jose::KeyPtr, Error> id_token_signing_key() const;

  /// Signs `claims` with signing_key() as an RFC 9068 access token (typ "at+jwt").
  /// @return signing_key()'s errors, Errc::kSignFailed.
  Result<std::string, Error> sign(const nlohmann::json& claims) const;
  /// As sign(), for claims already serialised as one compact JSON object, with header `typ`
  /// (RFC 9068's "at+jwt" unless a compatibility setting asks for "JWT").
  Result<std::string, Error> sign_claims_json(std::string_view claims_json,
                                              std::string_view typ = "at+jwt") const;
  /// Signs an OpenID Connect ID token (typ "JWT") with the ID-token chain's signer
  /// (settings.id_token_alg; signing_key() while that chain has no active key): `claims_for`
  /// builds the claims for that key's algorithm (at_hash depends on it), so both come from
  /// one key.
  /// @return signing_key()'s errors, Errc::kSignFailed.
  Result<std::string, Error> sign_id_token(
      const std::function<std::string(jose::Alg)>& claims_for) const;

  /// A published key (remove_at > now) by kid, or nullptr. An empty kid matches nothing:
  /// our tokens always carry one, and with several keys we never guess.
  jose::KeyPtr find(std::string_view kid) const;

  /// find() as a jose::KeyLookup for jose::verify(). The ring must outlive the lookup.
  jose::KeyLookup lookup() const;

  /// The JWKS of the keys published at clock.now(). Built when a snapshot is loaded, one
  /// document per distinct published set over time, so that a key passing its remove_at
  /// drops out without a reload; each call is a lookup and a pointer copy. Never null: before
  /// the first load it is the empty, "no-store" document.
  JwksDocumentPtr jwks() const;

  /// jwks() at `now`, with how long that answer stays the answer: while from <= now < until,
  /// and published() still equals `published`. For a caller that keeps the document (one copy
  /// per I/O thread) rather than asking on every request.
  struct CurrentJwks {
    JwksDocumentPtr doc;
    std::int64_t from;
    std::int64_t until;
    std::uint64_t published;
  };
  CurrentJwks current_jwks(std::int64_t now) const;
  /// Changes whenever a load() publishes a snapshot; never the same for two rings of a
  /// process, and never 0 (a caller's "nothing kept yet").
  std::uint64_t published() const { return published_.load(std::memory_order_acquire); }

  /// Every key of the snapshot (removed ones included until deleted), ordered by activate_at.
  std::vector<KeyInfo> describe() const;

  /// True once a load() has succeeded (for /readyz, together with ready()).
  bool loaded() const;
  /// True when loaded() and a key is active now: the replica can issue tokens.
  bool ready() const;

  const Settings& settings() const noexcept { return settings_; }

 private:
  struct Snapshot;
  std::shared_ptr<const Snapshot> snapshot() const;

  KeyStore& store_;
  const crypto::Secret kek_;
  const Clock& clock_;
  const Settings settings_;
  std::mutex load_mutex_;              // serialises load(): an older read never wins
  mutable std::mutex snapshot_mutex_;  // guards snapshot_ (pointer copy only)
  std::shared_ptr<const Snapshot> snapshot_;
  std::atomic<std::uint64_t> published_{0};
};

}  // namespace authd::keys
