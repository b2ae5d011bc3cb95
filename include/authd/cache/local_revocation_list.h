#pragma once
// LocalRevocationList: the revoked sessions this process has seen (its own revocations,
// pub/sub events from other replicas, a resync from the store), each until its expiry.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "authd/auth/revocation.h"
#include "authd/core/clock.h"

namespace authd::cache {

struct LocalRevocationListOptions {
  /// Upper bound on entries. Expired entries are swept first. When more unexpired
  /// revocations than this arrive, the soonest-expiring ones are dropped and, until the
  /// last of them would have expired, a miss answers std::nullopt (not false) so the caller
  /// asks the store: a bounded list never turns a revoked session into a valid one.
  std::size_t max_entries = 1'000'000;
};

/// A set of sid → until (Unix seconds). An entry counts while `now < until`.
///
/// is_session_revoked(): true when held; false when not held; std::nullopt only after an
/// overflow (see LocalRevocationListOptions::max_entries). revoke_session() only records:
/// telling other replicas is RedisRevocationList's job.
///
/// Thread-safety: all members may be called concurrently (a shared mutex; lookups share it).
class LocalRevocationList final : public auth::RevocationList {
 public:
  /// @param clock  must outlive the list.
  explicit LocalRevocationList(const Clock& clock, LocalRevocationListOptions options = {});
  ~LocalRevocationList() override;
  LocalRevocationList(const LocalRevocationList&) = delete;
  LocalRevocationList& operator=(const LocalRevocationList&) = delete;

  /// Same as mark_revoked().
  void revoke_session(const std::string& sid, std::int64_t until) override;
  std::optional<bool> is_session_revoked(const std::string& sid) override;

  /// Records sid as revoked until `until` (kept if an entry already lasts longer). An
  /// `until` not after now is ignored: such a session has no live token left.
  void mark_revoked(const std::string& sid, std::int64_t until);
  /// True when sid is held and not expired. Unlike is_session_revoked(), never unknown.
  bool contains(const std::string& sid) const;
  /// Entries held, expired ones included until swept.
  std::size_t size() const;
  /// Drops expired entries. Also runs on every mark_revoked().
  void sweep();

 private:
  struct State;
  const Clock& clock_;
  std::size_t max_entries_;
  std::unique_ptr<State> state_;
};

}  // namespace authd::cache
