#include "authd/keys/rotation.h"

#include <utility>

namespace authd::keys {
namespace {

// Timestamps near kForever mean "never"; sums saturate instead of wrapping into the past.
std::int64_t add_sat(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) return b > 0 ? kForever : INT64_MIN;
  return out;
}

// Only timestamps travel in an update (KeyChanges: "matched by kid; timestamps replaced"), but
// the whole row is copied so a store may also compare the rest.
StoredKey with_times(const StoredKey& k, std::int64_t activate_at, std::int64_t retire_at,
                     std::int64_t remove_at) {
  StoredKey out = k;
  out.activate_at = activate_at;
  out.retire_at = retire_at;
  out.remove_at = remove_at;
  return out;
}

}  // namespace

std::string_view to_string(KeyState s) noexcept {
  switch (s) {
    case KeyState::kNext:
      return "next";
    case KeyState::kActive:
      return "active";
    case KeyState::kRetiring:
      return "retiring";
    case KeyState::kRemoved:
      return "removed";
  }
  return "unknown";
}

std::string_view to_string(RotationOutcome o) noexcept {
  switch (o) {
    case RotationOutcome::kNothingDue:
      return "nothing_due";
    case RotationOutcome::kBootstrapped:
      return "bootstrapped";
    case RotationOutcome::kPromoted:
      return "promoted";
    case RotationOutcome::kRotated:
      return "rotated";
    case RotationOutcome::kAlreadyPending:
      return "already_pending";
  }
  return "unknown";
}

KeyState key_state(const StoredKey& key, std::int64_t now) noexcept {
  // Checked from the end of life backwards, so inconsistent rows (remove_at < activate_at)
  // err towards "not published" rather than "signing".
  if (key.remove_at <= now) return KeyState::kRemoved;
  if (key.retire_at <= now) return KeyState::kRetiring;
  if (key.activate_at <= now) return KeyState::kActive;
  return KeyState::kNext;
}

Result<RotationPlan, Error> plan_rotation(const std::vector<StoredKey>& current, std::int64_t now,
                                          const Settings& settings, bool force,
                                          const KeyFactory& factory, bool announce_first_key) {
  RotationPlan plan;
  const StoredKey* newest_active = nullptr;
  const StoredKey* oldest_next = nullptr;
  std::vector<const StoredKey*> active;
  for (const StoredKey& k : current) {
    switch (key_state(k, now)) {
      case KeyState::kRemoved:
        plan.changes.remove.push_back(k.kid);
        break;
      case KeyState::kActive:
        active.push_back(&k);
        if (newest_active == nullptr || k.activate_at > newest_active->activate_at) {
          newest_active = &k;
        }
        break;
      case KeyState::kNext:
        if (oldest_next == nullptr || k.activate_at < oldest_next->activate_at) oldest_next = &k;
        break;
      case KeyState::kRetiring:
        break;
    }
  }

  auto make_key = [&](std::int64_t activate_at) -> Result<StoredKey, Error> {
    auto made = factory();
    if (!made) return unexpected(made.error());
    StoredKey k = std::move(made).value();
    k.created_at = now;
    k.activate_at = activate_at;
    k.retire_at = kForever;
    k.remove_at = kForever;
    return k;
  };

  if (newest_active == nullptr) {
    if (oldest_next != nullptr) {
      // Some key has to sign now; the one announced longest is the least likely to be
      // unknown to a verifier.
      plan.changes.update.push_back(with_times(*oldest_next, now, kForever, kForever));
      plan.outcome = RotationOutcome::kPromoted;
      plan.kid = oldest_next->kid;
      return plan;
    }
    auto k = make_key(announce_first_key ? add_sat(now, publish_ahead(settings)) : now);
    if (!k) return unexpected(k.error());
    plan.kid = k->kid;
    plan.changes.insert.push_back(std::move(k).value());
    plan.outcome = RotationOutcome::kBootstrapped;
    return plan;
  }

  if (oldest_next != nullptr) {
    plan.outcome = force ? RotationOutcome::kAlreadyPending : RotationOutcome::kNothingDue;
    return plan;
  }

  const std::int64_t ahead = publish_ahead(settings);
  const bool due =
      force ||
      add_sat(newest_active->activate_at, settings.rotation_period_s) <= add_sat(now, ahead) ||
      newest_active->retire_at != kForever;
  if (!due) return plan;

  const std::int64_t activate_at = add_sat(now, ahead);
  auto k = make_key(activate_at);
  if (!k) return unexpected(k.error());
  const std::int64_t remove_at = add_sat(activate_at, retention_after_retire(settings));
  for (const StoredKey* a : active) {
    plan.changes.update.push_back(with_times(*a, a->activate_at, activate_at, remove_at));
  }
  plan.kid = k->kid;
  plan.changes.insert.push_back(std::move(k).value());
  plan.outcome = RotationOutcome::kRotated;
  return plan;
}

}  // namespace authd::keys
