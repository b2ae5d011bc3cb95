// plan_rotation(), key_state() and Settings: pure functions, explicit `now` everywhere.

#include "authd/keys/rotation.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "authd/keys/settings.h"
#include "test_util.h"

namespace authd::keys {
namespace {

using testing::kAhead;
using testing::kPeriod;
using testing::kRetention;
using testing::kT0;
using testing::test_settings;

StoredKey row(std::string kid, std::int64_t activate_at, std::int64_t retire_at = kForever,
              std::int64_t remove_at = kForever) {
  StoredKey k;
  k.kid = std::move(kid);
  k.alg = "ES256";
  k.created_at = activate_at;
  k.activate_at = activate_at;
  k.retire_at = retire_at;
  k.remove_at = remove_at;
  return k;
}

/// A factory producing "new-1", "new-2"... without any cryptography, counting its calls.
class CountingFactory {
 public:
  KeyFactory get() {
    return [this]() -> Result<StoredKey, Error> {
      ++calls;
      StoredKey k;
      k.kid = "new-" + std::to_string(calls);
      k.alg = "ES256";
      k.sealed_private = "sealed";
      return k;
    };
  }
  int calls = 0;
};

RotationPlan plan(const std::vector<StoredKey>& current, std::int64_t now, bool force,
                  CountingFactory& f) {
  auto p = plan_rotation(current, now, test_settings(), force, f.get());
  EXPECT_TRUE(p.has_value());
  return p.has_value() ? std::move(p).value() : RotationPlan{};
}

TEST(KeysSettingsTest, PublishAheadIsMaxAgePlusStaleWhileRevalidate) {
  EXPECT_EQ(publish_ahead(test_settings()), kAhead);
}

TEST(KeysSettingsTest, PublishAheadIncludesReplicaLag) {
  Settings s = test_settings();
  s.replica_lag_s = 30;
  EXPECT_EQ(publish_ahead(s), kAhead + 30);
}

TEST(KeysSettingsTest, RetentionIsTtlPlusLeewayPlusPublishAhead) {
  EXPECT_EQ(retention_after_retire(test_settings()), kRetention);
}

TEST(KeysSettingsTest, DefaultsAreValid) { EXPECT_TRUE(validate(Settings{}).has_value()); }

TEST(KeysSettingsTest, ZeroAccessTtlIsInvalid) {
  Settings s;
  s.access_ttl_s = 0;
  auto r = validate(s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kInvalidSettings);
  EXPECT_NE(r.error().message.find("access_ttl_s"), std::string::npos);
}

TEST(KeysSettingsTest, NegativeMaxAgeIsInvalid) {
  Settings s;
  s.jwks_max_age_s = -1;
  auto r = validate(s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kInvalidSettings);
}

TEST(KeysSettingsTest, AbsurdlyLongPeriodIsInvalid) {
  Settings s;
  s.rotation_period_s = INT64_MAX;
  auto r = validate(s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kInvalidSettings);
}

TEST(KeysSettingsTest, PeriodShorterThanPublishAheadIsInvalid) {
  Settings s = test_settings();
  s.rotation_period_s = kAhead - 1;
  auto r = validate(s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kInvalidSettings);
  EXPECT_NE(r.error().message.find("rotation_period_s"), std::string::npos);
}

TEST(KeysStateTest, StatesFollowTimestampsAtExactBoundaries) {
  const StoredKey k = row("a", 100, 200, 300);
  EXPECT_EQ(key_state(k, 99), KeyState::kNext);
  EXPECT_EQ(key_state(k, 100), KeyState::kActive);
  EXPECT_EQ(key_state(k, 199), KeyState::kActive);
  EXPECT_EQ(key_state(k, 200), KeyState::kRetiring);
  EXPECT_EQ(key_state(k, 299), KeyState::kRetiring);
  EXPECT_EQ(key_state(k, 300), KeyState::kRemoved);
}

TEST(KeysStateTest, KeyWithoutSuccessorStaysActiveForever) {
  EXPECT_EQ(key_state(row("a", 100), INT64_MAX - 1), KeyState::kActive);
}

TEST(KeysPlanTest, EmptyStoreBootstrapsOneKeyActiveNow) {
  CountingFactory f;
  const RotationPlan p = plan({}, kT0, false, f);
  EXPECT_EQ(p.outcome, RotationOutcome::kBootstrapped);
  ASSERT_EQ(p.changes.insert.size(), 1u);
  const StoredKey& k = p.changes.insert[0];
  EXPECT_EQ(k.kid, "new-1");
  EXPECT_EQ(p.kid, "new-1");
  EXPECT_EQ(k.created_at, kT0);
  EXPECT_EQ(k.activate_at, kT0);
  EXPECT_EQ(k.retire_at, kForever);
  EXPECT_EQ(k.remove_at, kForever);
  EXPECT_TRUE(p.changes.update.empty());
  EXPECT_TRUE(p.changes.remove.empty());
  EXPECT_EQ(f.calls, 1);
}

TEST(KeysPlanTest, OnlyRetiringKeysBootstrapsANewActiveKey) {
  CountingFactory f;
  const RotationPlan p = plan({row("old", kT0 - 1000, kT0 - 10, kT0 + 500)}, kT0, false, f);
  EXPECT_EQ(p.outcome, RotationOutcome::kBootstrapped);
  ASSERT_EQ(p.changes.insert.size(), 1u);
  EXPECT_EQ(p.changes.insert[0].activate_at, kT0);
  EXPECT_TRUE(p.changes.update.empty());  // the retiring key keeps its schedule
}

TEST(KeysPlanTest, NoRotationOneSecondBeforeDue) {
  CountingFactory f;
  // Due when activate_at + period <= now + P.
  const std::int64_t now = kT0 + kPeriod - kAhead - 1;
  const RotationPlan p = plan({row("a", kT0)}, now, false, f);
  EXPECT_EQ(p.outcome, RotationOutcome::kNothingDue);
  EXPECT_TRUE(p.changes.insert.empty());
  EXPECT_TRUE(p.changes.update.empty());
  EXPECT_EQ(f.calls, 0);  // no key is generated when nothing is due
}

TEST(KeysPlanTest, RotationWhenDueCreatesNextKeyPublishAheadBeforeItActivates) {
  CountingFactory f;
  const std::int64_t now = kT0 + kPeriod - kAhead;
  const RotationPlan p = plan({row("a", kT0)}, now, false, f);
  EXPECT_EQ(p.outcome, RotationOutcome::kRotated);
  ASSERT_EQ(p.changes.insert.size(), 1u);
  const StoredKey& n = p.changes.insert[0];
  EXPECT_EQ(n.created_at, now);
  EXPECT_EQ(n.activate_at, now + kAhead);
  EXPECT_EQ(n.activate_at, kT0 + kPeriod);  // checked on time: no drift
  EXPECT_EQ(n.retire_at, kForever);
  EXPECT_EQ(n.remove_at, kForever);
}

TEST(KeysPlanTest, RotationRetiresActiveKeyWhenSuccessorActivates) {
  CountingFactory f;
  const std::int64_t now = kT0 + kPeriod - kAhead;
  const RotationPlan p = plan({row("a", kT0)}, now, false, f);
  ASSERT_EQ(p.changes.update.size(), 1u);
  const StoredKey& a = p.changes.update[0];
  EXPECT_EQ(a.kid, "a");
  EXPECT_EQ(a.activate_at, kT0);
  EXPECT_EQ(a.retire_at, now + kAhead);
  EXPECT_EQ(a.remove_at, now + kAhead + 600 + 30 + kAhead);
}

TEST(KeysPlanTest, LateCheckStillPublishesFullPublishAhead) {
  CountingFactory f;
  const std::int64_t now = kT0 + 3 * kPeriod;  // every replica was down for days
  const RotationPlan p = plan({row("a", kT0)}, now, false, f);
  EXPECT_EQ(p.outcome, RotationOutcome::kRotated);
  ASSERT_EQ(p.changes.insert.size(), 1u);
  EXPECT_EQ(p.changes.insert[0].activate_at, now + kAhead);
}

TEST(KeysPlanTest, ForceRotatesBeforeDue) {
  CountingFactory f;
  const RotationPlan p = plan({row("a", kT0)}, kT0 + 5, true, f);
  EXPECT_EQ(p.outcome, RotationOutcome::kRotated);
  ASSERT_EQ(p.changes.insert.size(), 1u);
  EXPECT_EQ(p.changes.insert[0].activate_at, kT0 + 5 + kAhead);
}

TEST(KeysPlanTest, ForceWithPendingNextKeyCreatesNothing) {
  CountingFactory f;
  const std::vector<StoredKey> keys = {row("a", kT0, kT0 + 100, kT0 + 100 + kRetention),
                                       row("b", kT0 + 100)};
  const RotationPlan p = plan(keys, kT0 + 10, true, f);
  EXPECT_EQ(p.outcome, RotationOutcome::kAlreadyPending);
  EXPECT_TRUE(p.changes.insert.empty());
  EXPECT_TRUE(p.changes.update.empty());
  EXPECT_TRUE(p.kid.empty());
  EXPECT_EQ(f.calls, 0);
}

TEST(KeysPlanTest, PendingNextKeyWithoutForceIsNothingDue) {
  CountingFactory f;
  const std::vector<StoredKey> keys = {row("a", kT0, kT0 + 100, kT0 + 100 + kRetention),
                                       row("b", kT0 + 100)};
  // Long past a's rotation date, but b already succeeds it.
  const RotationPlan p = plan(keys, kT0 + 99, false, f);
  EXPECT_EQ(p.outcome, RotationOutcome::kNothingDue);
  EXPECT_TRUE(p.changes.insert.empty());
}

TEST(KeysPlanTest, DeletesKeysExactlyAtRemoveAt) {
  CountingFactory f;
  const std::vector<StoredKey> keys = {row("gone", kT0 - 2000, kT0 - 1000, kT0),
                                       row("kept", kT0 - 1000, kT0 - 500, kT0 + 1),
                                       row("a", kT0 - 500)};
  const RotationPlan p = plan(keys, kT0, false, f);
  EXPECT_EQ(p.outcome, RotationOutcome::kNothingDue);
  EXPECT_EQ(p.changes.remove, std::vector<std::string>{"gone"});
}

TEST(KeysPlanTest, NothingToDeleteOneSecondBeforeRemoveAt) {
  CountingFactory f;
  const std::vector<StoredKey> keys = {row("old", kT0 - 2000, kT0 - 1000, kT0 + 1),
                                       row("a", kT0 - 1000)};
  EXPECT_TRUE(plan(keys, kT0, false, f).changes.remove.empty());
}

TEST(KeysPlanTest, PendingKeyIsPromotedWhenNoKeyIsActive) {
  CountingFactory f;
  // A hand-deleted active key left only its successor behind.
  const RotationPlan p = plan({row("b", kT0 + 100)}, kT0, false, f);
  EXPECT_EQ(p.outcome, RotationOutcome::kPromoted);
  EXPECT_EQ(p.kid, "b");
  ASSERT_EQ(p.changes.update.size(), 1u);
  EXPECT_EQ(p.changes.update[0].activate_at, kT0);
  EXPECT_EQ(p.changes.update[0].retire_at, kForever);
  EXPECT_TRUE(p.changes.insert.empty());
  EXPECT_EQ(f.calls, 0);
}

TEST(KeysPlanTest, ScheduledRetirementWithoutSuccessorIsRepaired) {
  CountingFactory f;
  // "a" retires at kT0 + 50 but its successor row is gone: schedule a new one, and keep "a"
  // signing until it activates so signing never stops.
  const RotationPlan p = plan({row("a", kT0 - 10, kT0 + 50, kT0 + 50 + kRetention)}, kT0, false, f);
  EXPECT_EQ(p.outcome, RotationOutcome::kRotated);
  ASSERT_EQ(p.changes.insert.size(), 1u);
  ASSERT_EQ(p.changes.update.size(), 1u);
  EXPECT_EQ(p.changes.update[0].retire_at, p.changes.insert[0].activate_at);
  EXPECT_EQ(p.changes.update[0].remove_at, p.changes.insert[0].activate_at + kRetention);
}

TEST(KeysPlanTest, NewestActiveKeyDecidesWhenRotationIsDue) {
  CountingFactory f;
  // Two active rows (only possible by hand): the older one is long due, the newer is not.
  const std::vector<StoredKey> keys = {row("old", kT0 - 10 * kPeriod), row("new", kT0 - 10)};
  EXPECT_EQ(plan(keys, kT0, false, f).outcome, RotationOutcome::kNothingDue);
}

TEST(KeysPlanTest, RotationRetiresEveryActiveKey) {
  CountingFactory f;
  const std::vector<StoredKey> keys = {row("old", kT0 - 10 * kPeriod), row("new", kT0 - 10)};
  const RotationPlan p = plan(keys, kT0, true, f);
  EXPECT_EQ(p.changes.update.size(), 2u);  // no key is left published forever
}

TEST(KeysPlanTest, FactoryErrorIsReturned) {
  KeyFactory broken = []() -> Result<StoredKey, Error> {
    return fail(Errc::kKeyGeneration, "no entropy");
  };
  auto p = plan_rotation({}, kT0, test_settings(), false, broken);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code, Errc::kKeyGeneration);
}

TEST(KeysPlanTest, HugeTimestampsSaturateInsteadOfOverflowing) {
  CountingFactory f;
  Settings s = test_settings();
  const std::int64_t now = INT64_MAX - 10;
  auto p = plan_rotation({row("a", INT64_MAX - 20, kForever, kForever)}, now, s, true, f.get());
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->changes.insert.size(), 1u);
  EXPECT_EQ(p->changes.insert[0].activate_at, kForever);
  EXPECT_EQ(p->changes.update[0].remove_at, kForever);
}

TEST(KeysNamesTest, EveryErrcHasADistinctName) {
  std::vector<std::string_view> names;
  for (int i = static_cast<int>(Errc::kNotLoaded); i <= static_cast<int>(Errc::kInvalidSettings);
       ++i) {
    const auto n = to_string(static_cast<Errc>(i));
    EXPECT_NE(n, "unknown");
    EXPECT_EQ(std::count(names.begin(), names.end(), n), 0) << n;
    names.push_back(n);
  }
  EXPECT_EQ(to_string(Errc::kWrongKek), "wrong_kek");
}

}  // namespace
}  // namespace authd::keys
