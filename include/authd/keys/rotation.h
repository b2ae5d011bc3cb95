#pragma once
// The rotation schedule as a pure function of the stored keys, the time and the settings.
// Every replica derives key states from the same rows and its own clock (key_store.h), so the
// only coordinated step is writing the plan, which the store does under its rotation lock.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "authd/core/result.h"
#include "authd/keys/errc.h"
#include "authd/keys/key_store.h"
#include "authd/keys/settings.h"

namespace authd::keys {

/// A key's state at one instant, derived from its timestamps (see key_store.h).
enum class KeyState {
  kNext,      ///< now < activate_at: published, not signing yet
  kActive,    ///< activate_at <= now < retire_at: may sign (the newest activate_at does)
  kRetiring,  ///< retire_at <= now < remove_at: published so its tokens still verify
  kRemoved,   ///< remove_at <= now: no longer published; deleted by the next rotation
};

/// "next", "active", "retiring", "removed".
std::string_view to_string(KeyState s) noexcept;

/// The state of `key` at `now`. Pure.
KeyState key_state(const StoredKey& key, std::int64_t now) noexcept;

/// What a rotation plan decided.
enum class RotationOutcome {
  kNothingDue,      ///< the active key is not due yet (or a successor is already pending)
  kBootstrapped,    ///< there was no active or next key: a new key signs immediately
  kPromoted,        ///< there was no active key but a next one: it was made active now
  kRotated,         ///< a successor was created; it activates publish_ahead() from now
  kAlreadyPending,  ///< forced, but a next key is already pending: nothing new was created
};

/// "nothing_due", "bootstrapped", "promoted", "rotated", "already_pending".
std::string_view to_string(RotationOutcome o) noexcept;

/// The changes to write, and why.
struct RotationPlan {
  KeyChanges changes;
  RotationOutcome outcome = RotationOutcome::kNothingDue;
  /// The key created (kBootstrapped, kRotated) or promoted (kPromoted); else empty.
  std::string kid;
};

/// Makes a new key: kid, alg, public_jwk and sealed_private filled in; plan_rotation() sets
/// the timestamps. See generate_sealed_key() (kek.h) for the production factory.
using KeyFactory = std::function<Result<StoredKey, Error>()>;

/// Decides what to write to the key store. Pure: time is `now`, keys come from `factory`,
/// which is called at most once and only when a key must be created.
///
/// Rules, with P = publish_ahead(settings):
///  1. Every key with remove_at <= now is deleted.
///  2. No active key and no next key (empty store, or only retiring keys): bootstrap a key
///     with activate_at = now (nobody can have cached a JWKS containing it, and signing must
///     start), retire_at = remove_at = kForever. With `announce_first_key` (a second chain
///     added to a ring already in use, whose JWKS verifiers may have cached), the first key
///     activates at now + P instead, like a successor; the other chain signs until then.
///  3. No active key but a next key (only reachable by hand-edited rows): the oldest next key,
///     the one published longest, is promoted to activate_at = now.
///  4. A next key is pending: nothing new (outcome kAlreadyPending when forced).
///  5. Rotation is due when `force`, or A.activate_at + rotation_period_s <= now + P for the
///     newest active key A, or A already has a retire_at but no successor (repair). Then a
///     new key gets activate_at = now + P, retire_at = remove_at = kForever, and every active
///     key gets retire_at = new.activate_at and remove_at = retire_at + retention_after_retire().
/// All sums saturate at kForever.
///
/// @return the plan, or the factory's error (Errc::kKeyGeneration in production).
Result<RotationPlan, Error> plan_rotation(const std::vector<StoredKey>& current, std::int64_t now,
                                          const Settings& settings, bool force,
                                          const KeyFactory& factory,
                                          bool announce_first_key = false);

}  // namespace authd::keys
