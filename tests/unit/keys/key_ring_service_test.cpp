// KeyRingService: its thread, schedule, notification and error reporting. These tests use
// real (short) intervals; every wait is bounded by testing::eventually().

#include "authd/keys/key_ring_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <vector>

#include "authd/keys/key_ring.h"
#include "test_util.h"

namespace authd::keys {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::FakeClock;
using testing::FakeKeyStore;
using testing::kT0;
using testing::test_kek;
using testing::test_settings;

class KeysServiceTest : public ::testing::Test {
 protected:
  ServiceOptions quiet() {
    ServiceOptions o;
    o.poll_interval = 1h;
    o.check_interval = 1h;
    return o;
  }

  /// Another replica on the same store forces a rotation; returns the new kid.
  std::string other_replica_rotates() {
    KeyRing other(store_, test_kek(), clock_, test_settings());
    auto r = other.rotate(true);
    EXPECT_TRUE(r.has_value() && r->outcome == RotationOutcome::kRotated);
    return r.has_value() ? r->kid : "";
  }

  FakeKeyStore store_;
  FakeClock clock_{kT0};
  KeyRing ring_{store_, test_kek(), clock_, test_settings()};
};

TEST_F(KeysServiceTest, FirstTickBootstrapsAndLoads) {
  KeyRingService service(ring_, clock_, quiet());
  service.start();
  ASSERT_TRUE(eventually([&] { return ring_.ready(); }));
  EXPECT_EQ(store_.rows().size(), 1u);
  EXPECT_TRUE(eventually([&] { return service.stats().rotations == 1; }));
  EXPECT_EQ(service.stats().last_rotation_check, kT0);
}

TEST_F(KeysServiceTest, ReloadsWhenNotified) {
  KeyRingService service(ring_, clock_, quiet());
  service.start();
  ASSERT_TRUE(eventually([&] { return service.stats().reloads >= 1; }));
  const std::string kid = other_replica_rotates();
  // An absence can only be observed over time: a window for a wrong reload to show.
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(ring_.find(kid), nullptr);  // no poll due for an hour
  service.notify();
  EXPECT_TRUE(eventually([&] { return ring_.find(kid) != nullptr; }));
}

TEST_F(KeysServiceTest, ReloadsOnPoll) {
  ServiceOptions o = quiet();
  o.poll_interval = 50ms;
  KeyRingService service(ring_, clock_, o);
  service.start();
  ASSERT_TRUE(eventually([&] { return ring_.ready(); }));
  const std::string kid = other_replica_rotates();
  EXPECT_TRUE(eventually([&] { return ring_.find(kid) != nullptr; }));
  // The ring shows the key before the service thread counts the reload.
  EXPECT_TRUE(eventually([&] { return service.stats().reloads >= 2; }));
}

TEST_F(KeysServiceTest, RotatesWhenDueOnCheck) {
  ServiceOptions o = quiet();
  o.check_interval = 50ms;
  KeyRingService service(ring_, clock_, o);
  service.start();
  ASSERT_TRUE(eventually([&] { return service.stats().rotations == 1; }));
  clock_.advance(test_settings().rotation_period_s);
  ASSERT_TRUE(eventually([&] { return service.stats().rotations == 2; }));
  EXPECT_EQ(store_.rows().size(), 2u);
  EXPECT_EQ(ring_.describe().size(), 2u);  // rotate() reloaded this replica's ring
}

TEST_F(KeysServiceTest, ReportsRotationsThroughTheCallback) {
  std::mutex m;
  std::vector<RotateResult> seen;
  ServiceOptions o = quiet();
  o.on_rotated = [&](const RotateResult& r) {
    std::lock_guard lock(m);
    seen.push_back(r);
  };
  KeyRingService service(ring_, clock_, o);
  service.start();
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(m);
    return seen.size() == 1;
  }));
  std::lock_guard lock(m);
  EXPECT_EQ(seen[0].outcome, RotationOutcome::kBootstrapped);
  EXPECT_EQ(seen[0].kid, store_.rows()[0].kid);
}

TEST_F(KeysServiceTest, LosingTheLockIsNotARotation) {
  store_.set_lock_held_elsewhere(true);
  KeyRingService service(ring_, clock_, quiet());
  service.start();
  ASSERT_TRUE(eventually([&] { return service.stats().rotation_checks == 1; }));
  EXPECT_EQ(service.stats().rotations, 0u);
  EXPECT_EQ(service.stats().rotation_failures, 0u);
}

TEST_F(KeysServiceTest, FailuresAreCountedReportedAndRetried) {
  std::mutex m;
  std::vector<Errc> errors;
  store_.set_unavailable(true);
  ServiceOptions o = quiet();
  o.poll_interval = 20ms;
  o.on_error = [&](const Error& e) {
    std::lock_guard lock(m);
    errors.push_back(e.code);
  };
  KeyRingService service(ring_, clock_, o);
  service.start();
  ASSERT_TRUE(eventually([&] { return service.stats().reload_failures >= 2; }));
  EXPECT_EQ(service.stats().rotation_failures, 1u);
  {
    std::lock_guard lock(m);
    ASSERT_FALSE(errors.empty());
    for (Errc e : errors) EXPECT_EQ(e, Errc::kStore);
  }
  EXPECT_FALSE(ring_.loaded());
  store_.set_unavailable(false);
  EXPECT_TRUE(eventually([&] { return ring_.loaded(); }));
  EXPECT_TRUE(eventually([&] { return service.stats().reloads >= 1; }));
}

TEST_F(KeysServiceTest, StopIsPromptDuringALongWait) {
  KeyRingService service(ring_, clock_, quiet());
  service.start();
  ASSERT_TRUE(eventually([&] { return service.stats().reloads >= 1; }));
  const auto begin = std::chrono::steady_clock::now();
  service.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 1s);
}

TEST_F(KeysServiceTest, NotifyAfterStopDoesNothing) {
  KeyRingService service(ring_, clock_, quiet());
  service.start();
  ASSERT_TRUE(eventually([&] { return service.stats().reloads >= 1; }));
  service.stop();
  const auto before = service.stats().reloads;
  service.notify();
  // An absence can only be observed over time: a window for a wrong reload to show.
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(service.stats().reloads, before);
}

TEST_F(KeysServiceTest, CanRestartAfterStop) {
  KeyRingService service(ring_, clock_, quiet());
  service.start();
  ASSERT_TRUE(eventually([&] { return service.stats().reloads >= 1; }));
  service.stop();
  const std::string kid = other_replica_rotates();
  service.start();  // the first tick of a new run reloads at once
  EXPECT_TRUE(eventually([&] { return ring_.find(kid) != nullptr; }));
}

TEST_F(KeysServiceTest, DestructorJoinsARunningService) {
  {
    KeyRingService service(ring_, clock_, quiet());
    service.start();
    ASSERT_TRUE(eventually([&] { return service.stats().reloads >= 1; }));
  }
  SUCCEED();  // reaching here without std::terminate means the thread was joined
}

}  // namespace
}  // namespace authd::keys
