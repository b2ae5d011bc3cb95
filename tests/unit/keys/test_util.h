#pragma once
// Fakes shared by the keys tests: an in-memory KeyStore and a pinned Clock. The real stores
// are checked against the KeyStore contract in tests/contract; these only serve domain logic.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "authd/core/clock.h"
#include "authd/crypto/secret.h"
#include "authd/keys/errc.h"
#include "authd/keys/key_store.h"
#include "authd/keys/rotation.h"
#include "authd/keys/settings.h"
#include "support/eventually.h"
#include "support/fake_clock.h"

namespace authd::keys {
// GoogleTest prints enums by name instead of as integers.
inline void PrintTo(Errc e, std::ostream* os) { *os << to_string(e); }
inline void PrintTo(KeyState s, std::ostream* os) { *os << to_string(s); }
inline void PrintTo(RotationOutcome o, std::ostream* os) { *os << to_string(o); }
}  // namespace authd::keys

namespace authd::keys::testing {

/// A fixed "now" (2023-11-14T22:13:20Z): tests never read the real clock.
inline constexpr std::int64_t kT0 = 1'700'000'000;

using authd::testing::eventually;
using authd::testing::FakeClock;

/// An in-memory KeyStore. rotate_exclusive() applies a plan all-or-nothing, as a transaction
/// would. Failure switches simulate an unreachable database and a lock held elsewhere.
class FakeKeyStore final : public KeyStore {
 public:
  store::StoreResult<std::vector<StoredKey>> list() override {
    std::lock_guard lock(mutex_);
    ++list_calls_;
    if (unavailable_) return store::fail(store::Errc::kUnavailable, "fake store is down");
    return sorted(rows_);
  }

  store::StoreResult<bool> rotate_exclusive(
      const std::function<KeyChanges(const std::vector<StoredKey>&)>& plan) override {
    std::lock_guard lock(mutex_);
    if (unavailable_) return store::fail(store::Errc::kUnavailable, "fake store is down");
    if (lock_held_elsewhere_) return false;
    const KeyChanges changes = plan(sorted(rows_));
    std::vector<StoredKey> rows = rows_;
    for (const std::string& kid : changes.remove) {
      std::erase_if(rows, [&](const StoredKey& k) { return k.kid == kid; });
    }
    for (const StoredKey& u : changes.update) {
      auto it = std::find_if(rows.begin(), rows.end(),
                             [&](const StoredKey& k) { return k.kid == u.kid; });
      if (it == rows.end()) return store::fail(store::Errc::kNotFound, "no key " + u.kid);
      it->activate_at = u.activate_at;
      it->retire_at = u.retire_at;
      it->remove_at = u.remove_at;
    }
    for (const StoredKey& k : changes.insert) {
      if (std::any_of(rows.begin(), rows.end(),
                      [&](const StoredKey& r) { return r.kid == k.kid; })) {
        return store::fail(store::Errc::kConflict, "duplicate kid " + k.kid);
      }
      rows.push_back(k);
    }
    rows_ = std::move(rows);
    ++rotations_applied_;
    return true;
  }

  std::vector<StoredKey> rows() const {
    std::lock_guard lock(mutex_);
    return sorted(rows_);
  }
  void set_rows(std::vector<StoredKey> rows) {
    std::lock_guard lock(mutex_);
    rows_ = std::move(rows);
  }
  void set_unavailable(bool v) {
    std::lock_guard lock(mutex_);
    unavailable_ = v;
  }
  void set_lock_held_elsewhere(bool v) {
    std::lock_guard lock(mutex_);
    lock_held_elsewhere_ = v;
  }
  int list_calls() const {
    std::lock_guard lock(mutex_);
    return list_calls_;
  }

 private:
  static std::vector<StoredKey> sorted(std::vector<StoredKey> rows) {
    std::sort(rows.begin(), rows.end(),
              [](const StoredKey& a, const StoredKey& b) { return a.activate_at < b.activate_at; });
    return rows;
  }

  mutable std::mutex mutex_;
  std::vector<StoredKey> rows_;
  bool unavailable_ = false;
  bool lock_held_elsewhere_ = false;
  int list_calls_ = 0;
  int rotations_applied_ = 0;
};

/// Fixed KEKs: the tests compare behaviour across KEKs, not key quality.
inline crypto::Secret test_kek() { return crypto::Secret(std::string(32, 'k')); }
inline crypto::Secret other_kek() { return crypto::Secret(std::string(32, 'x')); }

/// Production-like settings with round numbers: publish-ahead 360 s, retention 990 s.
inline Settings test_settings() {
  Settings s;
  s.access_ttl_s = 600;
  s.jwks_max_age_s = 300;
  s.jwks_stale_while_revalidate_s = 60;
  s.rotation_period_s = 86400;
  s.leeway_s = 30;
  s.id_token_alg = s.alg;  // one chain; the separate ID-token chain has tests of its own
  return s;
}

// The figures of test_settings(): a key is published kAhead before it signs (P = JWKS max-age
// 300 + stale-while-revalidate 60), kept kRetention after it retires (600 + 30 + 360), and
// rotated every kPeriod.
inline constexpr std::int64_t kAhead = 360;
inline constexpr std::int64_t kRetention = 990;
inline constexpr std::int64_t kPeriod = 86400;

}  // namespace authd::keys::testing
