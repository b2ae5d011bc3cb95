// Refresh: rotation, grace replay, reuse detection, expiry, and the event-loop path.

#include "authd/auth/refresh_token.h"
#include "authd/core/base64url.h"
#include "integration/auth/service_fixture.h"

namespace authd::auth::testing_support {
namespace {

class RefreshTest : public AuthServiceTest {};

// Limits that answer asynchronously (Redis) keep the event-loop path: the loop never waits on
// the limiter, the rotation still runs on the loop, and a refusal is the same 429.
TEST_P(RefreshTest, AsynchronousRefreshLimitsKeepTheRotationOnTheLoop) {
  ThreadedLimiter limiter;
  settings_.refresh_per_ip = {6000, 100};
  settings_.refresh_per_family = {60, 3};
  build_service(&limiter);
  auto t = login();
  for (int i = 0; i < 3; ++i) {
    auto r = refresh(t.refresh_token);
    ASSERT_TRUE(r) << i << ": " << r.error().description;
    t = *r;
  }
  auto denied = refresh(t.refresh_token);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, Errc::kRateLimited);
  EXPECT_EQ(denied.error().retry_after_s, 1);
  auto garbage = refresh("not-a-refresh-token");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code, Errc::kInvalidGrant);
  if (GetParam().event_loop) {
    EXPECT_EQ(limiter.sync_calls, 0) << "the loop never waited on the limiter";
    EXPECT_EQ(limiter.async_calls, 9);  // 4 refreshes x (address, family) + the garbage's address
    // Postgres rotates on the loop; SQLite's rotations always run on workers.
    EXPECT_EQ(answered_on_loop_, GetParam().backend == Backend::kPostgres ? 3 : 0);
    EXPECT_EQ(refused_on_loop_, 0);
  } else {
    EXPECT_EQ(limiter.sync_calls, 9);
  }
  // The refused token is still the live one: nothing rotated.
  settings_.refresh_per_family = {60, 100};
  build_service(&limiter);
  EXPECT_TRUE(refresh(t.refresh_token));
}

// Anyone holding one old token of a family could forge tag‖random tokens that drained the
// family's refresh bucket: the live token then got 429 while reuse detection never fired.
TEST_P(RefreshTest, ForgedTokensOfAFamilyCannotDrainItsRefreshLimit) {
  ThreadedLimiter limiter;
  settings_.refresh_per_ip = {6000, 100};
  settings_.refresh_per_family = {60, 3};
  build_service(&limiter);
  auto t = login();
  const std::string tag =
      base64url::decode(t.refresh_token)->substr(0, RefreshTokenCodec::kFamilyTagBytes);
  for (int i = 0; i < 10; ++i) {
    const std::string forged = base64url::encode(
        tag + random_.bytes(RefreshTokenCodec::kTokenBytes - RefreshTokenCodec::kFamilyTagBytes));
    auto r = refresh(forged);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalidGrant) << i;
  }
  auto live = refresh(t.refresh_token);
  EXPECT_TRUE(live) << live.error().description;
}

TEST_P(RefreshTest, ChainOfHundredRotations) {
  auto t = login();
  std::set<std::string> seen{t.refresh_token};
  std::string token = t.refresh_token;
  for (int i = 0; i < 100; ++i) {
    clock_.advance(30);  // beyond the grace window each time
    auto r = refresh(token);
    ASSERT_TRUE(r) << "rotation " << i << ": " << r.error().description;
    EXPECT_EQ(r->session_id, t.session_id);
    EXPECT_TRUE(seen.insert(r->refresh_token).second) << "a refresh token repeated";
    token = r->refresh_token;
  }
  auto s = tdb_->db().sessions().find(t.session_id);
  ASSERT_TRUE(s && s->has_value());
  EXPECT_EQ((*s)->generation, 101);
  EXPECT_FALSE((*s)->revoked_at);
}

TEST_P(RefreshTest, ReplayAfterGraceRevokesFamilyAndNewestTokenDies) {
  auto t = login();
  clock_.advance(5);
  auto r1 = refresh(t.refresh_token);
  ASSERT_TRUE(r1);
  clock_.advance(20);  // grace (10 s) has passed
  auto replay = refresh(t.refresh_token);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code, Errc::kInvalidGrant);
  EXPECT_EQ(events_.reuse.load(), 1);
  auto newest = refresh(r1->refresh_token);
  ASSERT_FALSE(newest) << "the thief's or the victim's newest token must die with the family";
  EXPECT_EQ(newest.error().code, Errc::kInvalidGrant);
  auto p = service_->authenticate(r1->access_token);
  ASSERT_FALSE(p) << "access tokens of a revoked family are rejected by authd at once";
  EXPECT_EQ(p.error().code, Errc::kInvalidToken);
  auto s = *tdb_->db().sessions().find(t.session_id);
  EXPECT_EQ(s->revoked_reason, "reuse_detected");
}

TEST_P(RefreshTest, ReplayInsideGraceGetsTheSameSuccessor) {
  auto t = login();
  auto a = refresh(t.refresh_token);
  clock_.advance(3);
  auto b = refresh(t.refresh_token);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->refresh_token, b->refresh_token);
  EXPECT_NE(a->access_token, b->access_token);
  auto c = refresh(a->refresh_token);  // the family continues normally
  ASSERT_TRUE(c);
  EXPECT_EQ(events_.reuse.load(), 0);
}

TEST_P(RefreshTest, FiftyConcurrentRefreshesLeaveOneLiveSuccessor) {
  auto t = login();
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<std::string> successors;
  std::atomic<int> ok{0}, failed{0};
  for (int i = 0; i < 50; ++i)
    threads.emplace_back([&] {
      auto r = refresh(t.refresh_token);
      if (!r) {
        failed++;
        return;
      }
      ok++;
      std::lock_guard l(mu);
      successors.insert(r->refresh_token);
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 50);
  EXPECT_EQ(failed.load(), 0);
  ASSERT_EQ(successors.size(), 1u) << "the family forked";
  clock_.advance(30);
  EXPECT_TRUE(refresh(*successors.begin())) << "the one successor is live";
  EXPECT_EQ(events_.reuse.load(), 0);
}

TEST_P(RefreshTest, AbsoluteAndIdleExpiry) {
  auto t = login();
  clock_.advance(settings_.session_idle_s + 1);
  auto idle = refresh(t.refresh_token);
  ASSERT_FALSE(idle);
  EXPECT_EQ(idle.error().code, Errc::kInvalidGrant);

  auto t2 = login();
  std::string token = t2.refresh_token;
  // Stay active (each refresh pushes idle expiry) until the absolute lifetime ends.
  for (int day = 0; day < 29; ++day) {
    clock_.advance(86400 - 60);
    auto r = refresh(token);
    ASSERT_TRUE(r) << "day " << day;
    token = r->refresh_token;
    EXPECT_LE(r->refresh_expires_in, settings_.session_idle_s);
  }
  clock_.advance(2 * 86400);
  auto abs = refresh(token);
  ASSERT_FALSE(abs);
  EXPECT_EQ(abs.error().code, Errc::kInvalidGrant);
}

TEST_P(RefreshTest, GarbageRefreshTokensAreInvalidGrant) {
  for (const std::string& bad : std::vector<std::string>{
           "x", std::string(43, '!'), std::string(43, 'A'), std::string(2000, 'a')}) {
    auto r = refresh(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalidGrant) << bad;
  }
}

TEST_P(RefreshTest, DisabledUserCannotRefresh) {
  auto t = login();
  ASSERT_TRUE(tdb_->db().users().set_disabled(user_id_, true, clock_.now_unix()));
  clock_.advance(30);
  EXPECT_FALSE(refresh(t.refresh_token));
}

// On Postgres the event loop rotates by itself; on SQLite (no non-blocking I/O) the checks run
// on the loop and the rotation on a worker. Login cached the client, so no refresh needs a
// store lookup before its rotation.
class RefreshLoopTest : public AuthServiceTest {};

TEST_P(RefreshLoopTest, RefreshesFromAnEventLoopStayOnItWherePossible) {
  std::string token = login().refresh_token;
  for (int i = 0; i < 20; ++i) {
    clock_.advance(1);
    auto r = refresh(token);
    ASSERT_TRUE(r) << r.error().description;
    token = r->refresh_token;
  }
  EXPECT_EQ(refused_on_loop_.load(), 0);
  if (GetParam().backend == Backend::kPostgres) {
    EXPECT_EQ(answered_on_loop_.load(), 20) << "Postgres rotations should complete on the loop";
  } else {
    EXPECT_EQ(answered_on_loop_.load(), 0) << "SQLite rotations run on workers";
  }
}

AUTHD_INSTANTIATE_SERVICE_MODES(RefreshTest);
INSTANTIATE_TEST_SUITE_P(Backends, RefreshLoopTest,
                         ::testing::Values(Mode{Backend::kSqlite, true},
                                           Mode{Backend::kPostgres, true}),
                         mode_name);

}  // namespace
}  // namespace authd::auth::testing_support
