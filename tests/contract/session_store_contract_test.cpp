// SessionStore contract: families, rotation, reuse detection, grace replay, expiry,
// revocation, purge. Runs against every backend.

#include <algorithm>
#include <atomic>
#include <barrier>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "contract/fixture.h"

namespace authd::contract {
namespace {

using auth::RotateOutcome;
using auth::RotateRequest;
using auth::RotateResult;
using auth::Session;
using store::Errc;

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kGrace = 10;
constexpr std::int64_t kIdle = 3600;

class SessionStoreContract : public ContractTest {
 protected:
  void SetUp() override {
    ContractTest::SetUp();
    if (HasFatalFailure()) return;
    migrate();
    if (HasFatalFailure()) return;
    user_id_ = new_user();
  }

  auth::SessionStore& sessions() { return db().sessions(); }

  std::string new_user() {
    auth::User u;
    u.id = new_uuid();
    u.email = u.id + "@example.com";
    u.password_hash = "h";
    u.created_at = u.updated_at = kT0;
    auto r = db().users().create(u);
    EXPECT_TRUE(r) << r.error();
    return u.id;
  }

  struct Family {
    Session session;
    std::string first_hash;
  };

  // A family created at `created` with the given expiries, and its first token.
  Family new_family(std::int64_t created = kT0, std::int64_t absolute = kT0 + 30 * kDay,
                    std::int64_t idle = kT0 + kIdle, const std::string& user_id = "") {
    Family f;
    f.session.id = new_uuid();
    f.session.user_id = user_id.empty() ? user_id_ : user_id;
    f.session.client_id = "authd";
    f.session.created_at = created;
    f.session.last_used_at = created;
    f.session.absolute_expires_at = absolute;
    f.session.idle_expires_at = idle;
    f.session.user_agent = "Mozilla/5.0 (X11; Linux x86_64)";
    f.session.ip = "203.0.113.7";
    f.session.scope = "openid offline_access invoices.read";
    f.first_hash = new_hash();
    auto r = sessions().create(f.session, {f.first_hash, created});
    EXPECT_TRUE(r) << r.error();
    return f;
  }

  RotateResult rotate(const std::string& presented, const std::string& successor, std::int64_t now,
                      std::int64_t grace = kGrace, std::int64_t idle = kIdle) {
    RotateRequest req;
    req.presented_hash = presented;
    req.successor_hash = successor;
    req.now = now;
    req.grace_seconds = grace;
    req.idle_timeout_seconds = idle;
    auto r = sessions().rotate(req);
    EXPECT_TRUE(r) << r.error();
    return r ? *r : RotateResult{};
  }

  Session fetch(const std::string& id) {
    auto r = sessions().find(id);
    EXPECT_TRUE(r) << r.error();
    if (!r || !r->has_value()) {
      ADD_FAILURE() << "session " << id << " not found";
      return {};
    }
    return **r;
  }

  std::optional<std::int64_t> live_tokens(const std::string& session_id) {
    return test_db_->query_int("SELECT count(*) FROM refresh_tokens WHERE session_id = '" +
                               session_id + "' AND used_at IS NULL");
  }
  std::optional<std::int64_t> all_tokens(const std::string& session_id) {
    return test_db_->query_int("SELECT count(*) FROM refresh_tokens WHERE session_id = '" +
                               session_id + "'");
  }

  std::string user_id_;
};

std::vector<std::string> ids_of(const std::vector<Session>& sessions) {
  std::vector<std::string> ids;
  for (const auto& s : sessions) ids.push_back(s.id);
  return ids;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// A new family round-trips every field, starts at generation 1 and is live.
TEST_P(SessionStoreContract, CreateAndFind) {
  Family f = new_family();
  Session s = fetch(f.session.id);
  EXPECT_EQ(s.id, f.session.id);
  EXPECT_EQ(s.user_id, user_id_);
  EXPECT_EQ(s.client_id, "authd");
  EXPECT_EQ(s.created_at, kT0);
  EXPECT_EQ(s.last_used_at, kT0);
  EXPECT_EQ(s.absolute_expires_at, kT0 + 30 * kDay);
  EXPECT_EQ(s.idle_expires_at, kT0 + kIdle);
  EXPECT_FALSE(s.revoked_at.has_value());
  EXPECT_EQ(s.revoked_reason, "");
  EXPECT_EQ(s.user_agent, "Mozilla/5.0 (X11; Linux x86_64)");
  EXPECT_EQ(s.ip, "203.0.113.7");
  EXPECT_EQ(s.generation, 1);
  EXPECT_EQ(s.scope, "openid offline_access invoices.read");
  EXPECT_EQ(live_tokens(s.id), 1);
}

// The scope granted at login comes back with every rotation outcome that names the family,
// and from a lookup by token: a refresh narrows within it without another round trip.
TEST_P(SessionStoreContract, RotationAndLookupsCarryTheGrantedScope) {
  Family f = new_family();
  const std::string t1 = new_hash();
  RotateResult rotated = rotate(f.first_hash, t1, kT0 + 100);
  ASSERT_EQ(rotated.outcome, RotateOutcome::kRotated);
  ASSERT_TRUE(rotated.session);
  EXPECT_EQ(rotated.session->scope, "openid offline_access invoices.read");
  RotateResult replay = rotate(f.first_hash, t1, kT0 + 101);
  ASSERT_EQ(replay.outcome, RotateOutcome::kGraceReplay);
  ASSERT_TRUE(replay.session);
  EXPECT_EQ(replay.session->scope, "openid offline_access invoices.read");
  auto by_token = sessions().find_by_token(t1);
  ASSERT_TRUE(by_token && by_token->has_value());
  EXPECT_EQ((*by_token)->scope, "openid offline_access invoices.read");
  auto active = sessions().list_active(user_id_, kT0 + 200);
  ASSERT_TRUE(active && active->size() == 1u);
  EXPECT_EQ(active->front().scope, "openid offline_access invoices.read");
}

// The idle expiry is never later than the absolute one, even when the caller asks for it.
TEST_P(SessionStoreContract, CreateCapsIdleExpiryAtAbsolute) {
  Family f = new_family(kT0, kT0 + 100, kT0 + 500);
  EXPECT_EQ(fetch(f.session.id).idle_expires_at, kT0 + 100);
}

TEST_P(SessionStoreContract, CreateWithTakenIdOrTokenIsConflict) {
  Family f = new_family();
  Session again = f.session;
  auto dup_id = sessions().create(again, {new_hash(), kT0});
  ASSERT_FALSE(dup_id);
  EXPECT_EQ(dup_id.error().code, Errc::kConflict) << dup_id.error();

  Session other = f.session;
  other.id = new_uuid();
  auto dup_token = sessions().create(other, {f.first_hash, kT0});
  ASSERT_FALSE(dup_token);
  EXPECT_EQ(dup_token.error().code, Errc::kConflict) << dup_token.error();
  // Atomic: the family whose token was refused does not exist either.
  auto found = sessions().find(other.id);
  ASSERT_TRUE(found) << found.error();
  EXPECT_FALSE(found->has_value());
}

TEST_P(SessionStoreContract, FindUnknownIsEmpty) {
  auto unknown = sessions().find(new_uuid());
  ASSERT_TRUE(unknown) << unknown.error();
  EXPECT_FALSE(unknown->has_value());
  auto malformed = sessions().find("not-a-uuid");
  ASSERT_TRUE(malformed) << malformed.error();
  EXPECT_FALSE(malformed->has_value());
}

TEST_P(SessionStoreContract, RotateUnknownTokenIsUnknown) {
  new_family();
  RotateResult r = rotate(new_hash(), new_hash(), kT0 + 1);
  EXPECT_EQ(r.outcome, RotateOutcome::kUnknown);
  EXPECT_FALSE(r.session.has_value());
  EXPECT_EQ(r.generation, 0);
}

// Each successor rotates the next: the generation goes up by one each time and the family
// always has exactly one live token.
TEST_P(SessionStoreContract, ChainOfHundredRotations) {
  Family f = new_family();
  std::string current = f.first_hash;
  for (int i = 0; i < 100; ++i) {
    const std::string next = new_hash();
    RotateResult r = rotate(current, next, kT0 + i);
    ASSERT_EQ(r.outcome, RotateOutcome::kRotated) << "rotation " << i;
    EXPECT_EQ(r.generation, i + 2);
    ASSERT_TRUE(r.session.has_value());
    EXPECT_EQ(r.session->id, f.session.id);
    EXPECT_EQ(r.session->generation, i + 2);
    EXPECT_EQ(r.session->last_used_at, kT0 + i);
    EXPECT_EQ(r.session->idle_expires_at, kT0 + i + kIdle);
    current = next;
  }
  EXPECT_EQ(live_tokens(f.session.id), 1);
  EXPECT_EQ(all_tokens(f.session.id), 101);
  EXPECT_EQ(fetch(f.session.id).generation, 101);
  EXPECT_FALSE(fetch(f.session.id).revoked_at.has_value());
}

// Presenting an ancestor after the chain moved on is theft: the family is revoked, and then
// even the newest token is refused.
TEST_P(SessionStoreContract, ReuseOfOldTokenRevokesFamily) {
  Family f = new_family();
  const std::string t0 = f.first_hash, t1 = new_hash(), t2 = new_hash(), t3 = new_hash();
  ASSERT_EQ(rotate(t0, t1, kT0 + 100).outcome, RotateOutcome::kRotated);
  ASSERT_EQ(rotate(t1, t2, kT0 + 200).outcome, RotateOutcome::kRotated);
  ASSERT_EQ(rotate(t2, t3, kT0 + 300).outcome, RotateOutcome::kRotated);

  RotateResult reuse = rotate(t0, t1, kT0 + 400);
  EXPECT_EQ(reuse.outcome, RotateOutcome::kReuseDetected);
  EXPECT_EQ(reuse.generation, 0);
  ASSERT_TRUE(reuse.session.has_value());
  EXPECT_EQ(reuse.session->revoked_at, kT0 + 400);
  EXPECT_EQ(reuse.session->revoked_reason, "reuse_detected");

  RotateResult newest = rotate(t3, new_hash(), kT0 + 401);
  EXPECT_EQ(newest.outcome, RotateOutcome::kRevoked);
  ASSERT_TRUE(newest.session.has_value());
  EXPECT_EQ(newest.session->revoked_reason, "reuse_detected");
  EXPECT_EQ(fetch(f.session.id).revoked_at, kT0 + 400);
  EXPECT_EQ(all_tokens(f.session.id), 4);  // nothing issued after the revocation
}

// Two tabs refresh at once: the second presentation inside the grace window, with the same
// (deterministic) successor, gets that successor again and the family does not fork.
TEST_P(SessionStoreContract, GraceReplayWithSameSuccessor) {
  Family f = new_family();
  const std::string t1 = new_hash();
  RotateResult first = rotate(f.first_hash, t1, kT0 + 100);
  ASSERT_EQ(first.outcome, RotateOutcome::kRotated);
  EXPECT_EQ(first.generation, 2);

  RotateResult replay = rotate(f.first_hash, t1, kT0 + 100 + kGrace);  // the window is inclusive
  EXPECT_EQ(replay.outcome, RotateOutcome::kGraceReplay);
  EXPECT_EQ(replay.generation, 2);
  ASSERT_TRUE(replay.session.has_value());
  EXPECT_EQ(replay.session->generation, 2);
  EXPECT_EQ(replay.session->last_used_at, kT0 + 100 + kGrace);
  EXPECT_FALSE(replay.session->revoked_at.has_value());
  EXPECT_EQ(all_tokens(f.session.id), 2);
  EXPECT_EQ(live_tokens(f.session.id), 1);

  // The family carries on from the successor.
  EXPECT_EQ(rotate(t1, new_hash(), kT0 + 120).outcome, RotateOutcome::kRotated);
}

TEST_P(SessionStoreContract, GraceReplayWithDifferentSuccessorIsReuse) {
  Family f = new_family();
  ASSERT_EQ(rotate(f.first_hash, new_hash(), kT0 + 100).outcome, RotateOutcome::kRotated);
  EXPECT_EQ(rotate(f.first_hash, new_hash(), kT0 + 101).outcome, RotateOutcome::kReuseDetected);
  EXPECT_EQ(fetch(f.session.id).revoked_reason, "reuse_detected");
}

// Inside the window, but the successor has itself been rotated: the family moved on without
// this caller, so it is reuse.
TEST_P(SessionStoreContract, GraceReplayAfterSuccessorRotatedIsReuse) {
  Family f = new_family();
  const std::string t1 = new_hash();
  ASSERT_EQ(rotate(f.first_hash, t1, kT0 + 100).outcome, RotateOutcome::kRotated);
  ASSERT_EQ(rotate(t1, new_hash(), kT0 + 101).outcome, RotateOutcome::kRotated);
  RotateResult replay = rotate(f.first_hash, t1, kT0 + 102);
  EXPECT_EQ(replay.outcome, RotateOutcome::kReuseDetected);
  EXPECT_TRUE(fetch(f.session.id).revoked_at.has_value());
}

TEST_P(SessionStoreContract, ReplayAfterGraceIsReuse) {
  Family f = new_family();
  const std::string t1 = new_hash();
  ASSERT_EQ(rotate(f.first_hash, t1, kT0 + 100).outcome, RotateOutcome::kRotated);
  EXPECT_EQ(rotate(f.first_hash, t1, kT0 + 100 + kGrace + 1).outcome,
            RotateOutcome::kReuseDetected);
  EXPECT_EQ(rotate(t1, new_hash(), kT0 + 120).outcome, RotateOutcome::kRevoked);
}

// A request that waited for the store presents with its arrival time, which may be earlier
// than a rotation recorded meanwhile: the window is measured between the two presentations,
// whichever ran first.
TEST_P(SessionStoreContract, EarlierPresentationRunLaterIsGraceReplayOnlyInsideTheWindow) {
  Family close_family = new_family();
  const std::string t1 = new_hash();
  ASSERT_EQ(rotate(close_family.first_hash, t1, kT0 + 100).outcome, RotateOutcome::kRotated);
  EXPECT_EQ(rotate(close_family.first_hash, t1, kT0 + 100 - kGrace).outcome,
            RotateOutcome::kGraceReplay);

  Family far_family = new_family();
  const std::string t2 = new_hash();
  ASSERT_EQ(rotate(far_family.first_hash, t2, kT0 + 100).outcome, RotateOutcome::kRotated);
  EXPECT_EQ(rotate(far_family.first_hash, t2, kT0 + 100 - kGrace - 1).outcome,
            RotateOutcome::kReuseDetected);
  EXPECT_TRUE(fetch(far_family.session.id).revoked_at.has_value());
}

// Every outcome with a session also carries the family's user (disabled, roles, tenant), read
// in the same call, so a refresh needs no second query; and it is read fresh each time.
TEST_P(SessionStoreContract, RotationCarriesTheFamilysUser) {
  auth::User u;
  u.id = new_uuid();
  u.email = u.id + "@example.com";
  u.password_hash = "h";
  u.roles = {"admin", "user"};
  u.tenant_id = "t1";
  u.created_at = u.updated_at = kT0;
  ASSERT_TRUE(db().users().create(u));
  const std::vector<std::string> roles{"admin", "user"};
  auto expect_user = [&](const RotateResult& r, bool disabled, const char* what) {
    ASSERT_TRUE(r.session.has_value()) << what;
    ASSERT_TRUE(r.user.has_value()) << what;
    EXPECT_EQ(r.user->disabled, disabled) << what;
    EXPECT_EQ(r.user->roles, roles) << what;
    EXPECT_EQ(r.user->tenant_id, "t1") << what;
  };

  Family f = new_family(kT0, kT0 + 30 * kDay, kT0 + kIdle, u.id);
  const std::string t1 = new_hash(), t2 = new_hash();
  RotateResult rotated = rotate(f.first_hash, t1, kT0 + 100);
  ASSERT_EQ(rotated.outcome, RotateOutcome::kRotated);
  expect_user(rotated, false, "rotated");

  auto disabled = db().users().set_disabled(u.id, true, kT0 + 101);
  ASSERT_TRUE(disabled) << disabled.error();
  RotateResult replay = rotate(f.first_hash, t1, kT0 + 102);
  ASSERT_EQ(replay.outcome, RotateOutcome::kGraceReplay);
  expect_user(replay, true, "grace replay");
  RotateResult next = rotate(t1, t2, kT0 + 103);
  ASSERT_EQ(next.outcome, RotateOutcome::kRotated);
  expect_user(next, true, "next rotation");

  RotateResult reuse = rotate(f.first_hash, t1, kT0 + 104);  // t1 has moved on
  ASSERT_EQ(reuse.outcome, RotateOutcome::kReuseDetected);
  expect_user(reuse, true, "reuse detected");
  RotateResult revoked = rotate(t2, new_hash(), kT0 + 105);
  ASSERT_EQ(revoked.outcome, RotateOutcome::kRevoked);
  expect_user(revoked, true, "revoked");

  Family expired = new_family(kT0, kT0 + 10, kT0 + 10, u.id);
  RotateResult late = rotate(expired.first_hash, new_hash(), kT0 + 11);
  ASSERT_EQ(late.outcome, RotateOutcome::kExpired);
  expect_user(late, true, "expired");

  RotateResult unknown = rotate(new_hash(), new_hash(), kT0 + 106);
  EXPECT_EQ(unknown.outcome, RotateOutcome::kUnknown);
  EXPECT_FALSE(unknown.user.has_value());
}

// 50 concurrent presentations of one token with the same successor: exactly one rotates, the
// other 49 are grace replays of the same generation, and the family has one live token.
TEST_P(SessionStoreContract, FiftyConcurrentRotationsOfOneToken) {
  constexpr int kThreads = 50;
  Family f = new_family();
  const std::string successor = new_hash();
  std::barrier start(kThreads);
  std::vector<store::StoreResult<RotateResult>> results(kThreads, RotateResult{});
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      RotateRequest req{f.first_hash, successor, kT0 + 1, kGrace, kIdle};
      start.arrive_and_wait();
      results[static_cast<std::size_t>(i)] = sessions().rotate(req);
    });
  }
  for (auto& t : threads) t.join();

  std::map<RotateOutcome, int> outcomes;
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error();
    ++outcomes[r->outcome];
    EXPECT_EQ(r->generation, 2);
  }
  EXPECT_EQ(outcomes[RotateOutcome::kRotated], 1);
  EXPECT_EQ(outcomes[RotateOutcome::kGraceReplay], kThreads - 1);
  EXPECT_EQ(live_tokens(f.session.id), 1);
  EXPECT_EQ(all_tokens(f.session.id), 2);
  EXPECT_FALSE(fetch(f.session.id).revoked_at.has_value());
}

TEST_P(SessionStoreContract, AbsoluteExpiryIsExpired) {
  Family f = new_family(kT0, kT0 + 100, kT0 + 100);
  const std::string t1 = new_hash();
  RotateResult ok = rotate(f.first_hash, t1, kT0 + 99, kGrace, 1000);
  ASSERT_EQ(ok.outcome, RotateOutcome::kRotated);
  RotateResult expired = rotate(t1, new_hash(), kT0 + 100);
  EXPECT_EQ(expired.outcome, RotateOutcome::kExpired);
  ASSERT_TRUE(expired.session.has_value());
  EXPECT_EQ(expired.session->id, f.session.id);
  EXPECT_EQ(live_tokens(f.session.id), 1);  // nothing changed
}

TEST_P(SessionStoreContract, IdleExpiryIsExpired) {
  Family f = new_family(kT0, kT0 + 30 * kDay, kT0 + 60);
  EXPECT_EQ(rotate(f.first_hash, new_hash(), kT0 + 60).outcome, RotateOutcome::kExpired);
  EXPECT_EQ(fetch(f.session.id).generation, 1);
}

// Each rotation pushes the idle expiry to now + idle timeout, but never past the absolute
// expiry.
TEST_P(SessionStoreContract, RotationPushesIdleExpiryButNotPastAbsolute) {
  Family f = new_family(kT0, kT0 + 1000, kT0 + 100);
  std::string current = f.first_hash;
  auto step = [&](std::int64_t now, std::int64_t idle_timeout) {
    const std::string next = new_hash();
    RotateResult r = rotate(current, next, now, kGrace, idle_timeout);
    EXPECT_EQ(r.outcome, RotateOutcome::kRotated) << "at +" << now - kT0;
    current = next;
    return r.session ? r.session->idle_expires_at : 0;
  };
  EXPECT_EQ(step(kT0 + 50, 100), kT0 + 150);
  EXPECT_EQ(step(kT0 + 140, 100), kT0 + 240);  // would have expired at +150 without the push
  EXPECT_EQ(step(kT0 + 230, 500), kT0 + 730);
  EXPECT_EQ(step(kT0 + 700, 500), kT0 + 1000);  // capped at the absolute expiry
  EXPECT_EQ(fetch(f.session.id).idle_expires_at, kT0 + 1000);
  EXPECT_EQ(fetch(f.session.id).absolute_expires_at, kT0 + 1000);
}

// idle_timeout_seconds <= 0 means "no idle timeout": only the absolute expiry applies.
TEST_P(SessionStoreContract, ZeroIdleTimeoutMeansNoIdleExpiry) {
  Family f = new_family(kT0, kT0 + 1000, kT0 + 100);
  RotateResult r = rotate(f.first_hash, new_hash(), kT0 + 10, kGrace, 0);
  ASSERT_EQ(r.outcome, RotateOutcome::kRotated);
  EXPECT_EQ(r.session->idle_expires_at, kT0 + 1000);
}

TEST_P(SessionStoreContract, RotateAfterRevokeIsRevoked) {
  Family f = new_family();
  ASSERT_TRUE(sessions().revoke(f.session.id, "logout", kT0 + 5));
  RotateResult r = rotate(f.first_hash, new_hash(), kT0 + 6);
  EXPECT_EQ(r.outcome, RotateOutcome::kRevoked);
  ASSERT_TRUE(r.session.has_value());
  EXPECT_EQ(r.session->revoked_reason, "logout");
}

// Live sessions only (not revoked, not expired at `now`), newest first, this user only.
TEST_P(SessionStoreContract, ListActiveExcludesRevokedAndExpiredNewestFirst) {
  const std::int64_t now = kT0 + 50;
  Family s1 = new_family(kT0);
  Family s2 = new_family(kT0 + 10);
  Family revoked = new_family(kT0 + 20);
  Family absolute_expired = new_family(kT0 + 30, kT0 + 40, kT0 + 40);
  Family idle_expired = new_family(kT0 + 5, kT0 + 30 * kDay, kT0 + 50);  // expires at `now`
  new_family(kT0 + 40, kT0 + 30 * kDay, kT0 + kIdle, new_user());        // another user's
  ASSERT_TRUE(sessions().revoke(revoked.session.id, "logout", kT0 + 21));

  auto active = sessions().list_active(user_id_, now);
  ASSERT_TRUE(active) << active.error();
  EXPECT_EQ(ids_of(*active), (std::vector<std::string>{s2.session.id, s1.session.id}));
  (void)absolute_expired;
  (void)idle_expired;

  auto none = sessions().list_active(new_uuid(), now);
  ASSERT_TRUE(none) << none.error();
  EXPECT_TRUE(none->empty());
}

TEST_P(SessionStoreContract, RevokeOnceThenAlreadyRevoked) {
  Family f = new_family();
  auto first = sessions().revoke(f.session.id, "logout", kT0 + 10);
  ASSERT_TRUE(first) << first.error();
  EXPECT_TRUE(*first);
  auto second = sessions().revoke(f.session.id, "admin", kT0 + 20);
  ASSERT_TRUE(second) << second.error();
  EXPECT_FALSE(*second);
  Session s = fetch(f.session.id);
  EXPECT_EQ(s.revoked_at, kT0 + 10);  // the first revocation stands
  EXPECT_EQ(s.revoked_reason, "logout");

  for (const std::string& id : {new_uuid(), std::string("not-a-uuid")}) {
    auto missing = sessions().revoke(id, "logout", kT0);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::kNotFound);
  }
}

// revoke_all revokes the user's live families and returns exactly their ids.
TEST_P(SessionStoreContract, RevokeAllReturnsRevokedIds) {
  Family a = new_family(kT0);
  Family b = new_family(kT0 + 1);
  Family already = new_family(kT0 + 2);
  Family expired = new_family(kT0, kT0 + 5, kT0 + 5);
  Family other_user = new_family(kT0, kT0 + 30 * kDay, kT0 + kIdle, new_user());
  ASSERT_TRUE(sessions().revoke(already.session.id, "logout", kT0 + 3));

  auto ids = sessions().revoke_all(user_id_, "logout_all", kT0 + 10);
  ASSERT_TRUE(ids) << ids.error();
  EXPECT_EQ(sorted(*ids), sorted({a.session.id, b.session.id}));
  EXPECT_EQ(fetch(a.session.id).revoked_reason, "logout_all");
  EXPECT_EQ(fetch(b.session.id).revoked_at, kT0 + 10);
  EXPECT_EQ(fetch(already.session.id).revoked_reason, "logout");
  EXPECT_FALSE(fetch(expired.session.id).revoked_at.has_value());
  EXPECT_FALSE(fetch(other_user.session.id).revoked_at.has_value());

  auto active = sessions().list_active(user_id_, kT0 + 11);
  ASSERT_TRUE(active);
  EXPECT_TRUE(active->empty());
  auto again = sessions().revoke_all(user_id_, "logout_all", kT0 + 12);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty());
}

TEST_P(SessionStoreContract, RevokedSinceIsInclusive) {
  Family a = new_family();
  Family b = new_family();
  new_family();  // never revoked
  ASSERT_TRUE(sessions().revoke(a.session.id, "logout", kT0 + 10));
  ASSERT_TRUE(sessions().revoke(b.session.id, "logout", kT0 + 20));
  auto since = [this](std::int64_t t) {
    auto r = sessions().revoked_since(t);
    EXPECT_TRUE(r) << r.error();
    return r ? *r : std::vector<std::string>{};
  };
  EXPECT_EQ(since(kT0 + 10), (std::vector<std::string>{a.session.id, b.session.id}));
  EXPECT_EQ(since(kT0 + 11), (std::vector<std::string>{b.session.id}));
  EXPECT_EQ(since(kT0 + 20), (std::vector<std::string>{b.session.id}));
  EXPECT_TRUE(since(kT0 + 21).empty());
}

// Any token of a family, used or not, finds it (logout with an old refresh token).
TEST_P(SessionStoreContract, FindByTokenFindsUsedAndUnusedTokens) {
  Family f = new_family();
  const std::string t1 = new_hash();
  ASSERT_EQ(rotate(f.first_hash, t1, kT0 + 1).outcome, RotateOutcome::kRotated);
  for (const std::string& h : {f.first_hash, t1}) {
    auto r = sessions().find_by_token(h);
    ASSERT_TRUE(r) << r.error();
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->id, f.session.id);
    EXPECT_EQ((*r)->generation, 2);
  }
  auto unknown = sessions().find_by_token(new_hash());
  ASSERT_TRUE(unknown) << unknown.error();
  EXPECT_FALSE(unknown->has_value());
}

// Families expired or revoked before the cutoff go, with their tokens; live ones and ones
// that ended after the cutoff stay.
TEST_P(SessionStoreContract, PurgeDeletesOldFamiliesAndTheirTokens) {
  const std::int64_t cutoff = kT0 + 1000;
  Family live = new_family(kT0, kT0 + 30 * kDay, kT0 + 30 * kDay);
  Family expired_long_ago = new_family(kT0, kT0 + 100, kT0 + 100);
  Family idle_long_ago = new_family(kT0, kT0 + 30 * kDay, kT0 + 200);
  Family revoked_long_ago = new_family(kT0);
  Family revoked_recently = new_family(kT0);
  Family expired_recently = new_family(kT0, kT0 + 30 * kDay, cutoff + 1);
  const std::string t1 = new_hash();
  ASSERT_EQ(rotate(expired_long_ago.first_hash, t1, kT0 + 50).outcome, RotateOutcome::kRotated);
  ASSERT_TRUE(sessions().revoke(revoked_long_ago.session.id, "logout", kT0 + 10));
  ASSERT_TRUE(sessions().revoke(revoked_recently.session.id, "logout", cutoff));

  auto purged = sessions().purge(cutoff, 100);
  ASSERT_TRUE(purged) << purged.error();
  EXPECT_EQ(*purged, 3u);

  for (const Family* gone : {&expired_long_ago, &idle_long_ago, &revoked_long_ago}) {
    auto r = sessions().find(gone->session.id);
    ASSERT_TRUE(r) << r.error();
    EXPECT_FALSE(r->has_value());
    EXPECT_EQ(all_tokens(gone->session.id), 0);
  }
  auto by_token = sessions().find_by_token(t1);
  ASSERT_TRUE(by_token);
  EXPECT_FALSE(by_token->has_value());
  for (const Family* kept : {&live, &revoked_recently, &expired_recently}) {
    auto r = sessions().find(kept->session.id);
    ASSERT_TRUE(r) << r.error();
    EXPECT_TRUE(r->has_value());
    EXPECT_EQ(all_tokens(kept->session.id), 1);
  }
  auto nothing_left = sessions().purge(cutoff, 100);
  ASSERT_TRUE(nothing_left);
  EXPECT_EQ(*nothing_left, 0u);
}

// A revoked access token (by jti) is reported revoked, revoking again keeps the later expiry,
// and purge drops the row only once that expiry has passed.
TEST_P(SessionStoreContract, RevokedTokensAreKnownUntilPurgedAfterExpiry) {
  const std::string jti = "0b6f3c1e-7f42-4d2b-9a51-1c9d2f0e8a77";
  auto before = sessions().is_token_revoked(jti);
  ASSERT_TRUE(before) << before.error();
  EXPECT_FALSE(*before);
  ASSERT_TRUE(sessions().revoke_token(jti, kT0 + 600));
  ASSERT_TRUE(sessions().revoke_token(jti, kT0 + 300)) << "idempotent; the later until wins";
  auto after = sessions().is_token_revoked(jti);
  ASSERT_TRUE(after) << after.error();
  EXPECT_TRUE(*after);
  EXPECT_FALSE(*sessions().is_token_revoked("another-jti"));

  ASSERT_TRUE(sessions().revoke_token("expired-jti", kT0 + 100));
  auto live = sessions().revoked_tokens(kT0 + 200, 10);
  ASSERT_TRUE(live) << live.error();
  EXPECT_EQ(*live, (std::vector<std::pair<std::string, std::int64_t>>{{jti, kT0 + 600}}))
      << "only tokens that could still be used, with their until";

  ASSERT_TRUE(sessions().purge(kT0 + 500, 100));
  EXPECT_TRUE(*sessions().is_token_revoked(jti)) << "kept while the token could still be used";
  EXPECT_FALSE(*sessions().is_token_revoked("expired-jti"));
  ASSERT_TRUE(sessions().purge(kT0 + 601, 100));
  EXPECT_FALSE(*sessions().is_token_revoked(jti)) << "gone once it expired";
}

TEST_P(SessionStoreContract, PurgeRespectsLimit) {
  for (int i = 0; i < 3; ++i) new_family(kT0, kT0 + 10, kT0 + 10);
  auto first = sessions().purge(kT0 + 100, 2);
  ASSERT_TRUE(first) << first.error();
  EXPECT_EQ(*first, 2u);
  auto second = sessions().purge(kT0 + 100, 2);
  ASSERT_TRUE(second) << second.error();
  EXPECT_EQ(*second, 1u);
  EXPECT_EQ(test_db_->query_int("SELECT count(*) FROM refresh_tokens"), 0);
}

AUTHD_INSTANTIATE_CONTRACT(SessionStoreContract);

}  // namespace
}  // namespace authd::contract
