// The auth domain against both real stores (SQLite and Postgres), with a pinned clock.

#include "authd/auth/service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "authd/crypto/init.h"
#include "authd/crypto/password.h"
#include "authd/crypto/secret.h"
#include "authd/jose/jws.h"
#include "authd/keys/key_ring.h"
#include "support/backends.h"
#include "support/event_loop.h"
#include "support/fake_clock.h"

namespace authd::auth {
namespace {

using testing::Backend;

using testing::FakeClock;

class RingKeys final : public TokenKeys {
 public:
  explicit RingKeys(keys::KeyRing& r) : ring_(r) {}
  Result<std::string, std::string> sign(std::string_view claims_json) override {
    auto t = ring_.sign_claims_json(claims_json);
    if (!t) return unexpected(t.error().message);
    return *t;
  }
  jose::KeyPtr find(std::string_view kid) override { return ring_.find(kid); }

 private:
  keys::KeyRing& ring_;
};

struct RecordingEvents final : Events {
  std::atomic<int> logins_ok{0}, logins_failed{0}, reuse{0};
  std::mutex mu;
  std::vector<std::string> revoked_ids;
  void login(bool ok) override { (ok ? logins_ok : logins_failed)++; }
  void refresh(RotateOutcome) override {}
  void reuse_detected(const Session&) override { reuse++; }
  void revoked(const std::string& id, std::int64_t) override {
    std::lock_guard l(mu);
    revoked_ids.push_back(id);
  }
};

// A limiter that, like the Redis one, blocks in check() and answers check_async() from a
// thread of its own. Each key allows `burst` calls, then denies (no refill: the test is short).
class ThreadedLimiter final : public RateLimiter {
 public:
  ~ThreadedLimiter() override {
    std::lock_guard lock(mu_);
    for (auto& t : threads_) t.join();
  }
  Decision check(std::string_view key, const Limit& limit, std::int64_t cost = 1) override {
    sync_calls++;
    return decide(key, limit, cost);
  }
  Decision peek(std::string_view, const Limit& limit) override {
    return Decision{true, limit.burst};
  }
  void reset(std::string_view key) override {
    std::lock_guard lock(mu_);
    used_.erase(std::string(key));
  }
  void check_async(std::string_view key, const Limit& limit, std::int64_t cost,
                   std::function<void(Decision)> done) override {
    async_calls++;
    std::lock_guard lock(mu_);
    threads_.emplace_back([this, k = std::string(key), limit, cost, done = std::move(done)] {
      done(decide(k, limit, cost));
    });
  }
  bool checks_async() const override { return true; }

  std::atomic<int> sync_calls{0}, async_calls{0};

 private:
  Decision decide(std::string_view key, const Limit& limit, std::int64_t cost) {
    std::lock_guard lock(decide_mu_);
    std::int64_t& used = used_[std::string(key)];
    Decision d;
    d.limit = limit.burst;
    d.allowed = used + cost <= limit.burst;
    if (d.allowed) used += cost;
    d.remaining = limit.burst - used;
    d.retry_after_ms = d.allowed ? 0 : 1000;
    d.reset_ms = 1000;
    return d;
  }
  std::mutex mu_, decide_mu_;
  std::vector<std::thread> threads_;
  std::map<std::string, std::int64_t> used_;
};

constexpr const char* kPassword = "correct horse battery";
const crypto::PasswordParams kFastParams{1, 8 * 1024};

// Each case runs with the calls made from worker threads (refresh()), and from an event loop
// as the daemon's /refresh does (refresh_async(), falling back to refresh() on a worker).
struct Mode {
  Backend backend;
  bool event_loop;
};
void PrintTo(const Mode& m, std::ostream* os) {
  *os << testing::to_string(m.backend) << (m.event_loop ? " from an event loop" : "");
}

class AuthServiceTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::init());
    tdb_ = std::make_unique<testing::TestDatabase>(GetParam().backend);
    ASSERT_TRUE(tdb_->ok()) << tdb_->error();
    keys::Settings ks;
    ring_ =
        std::make_unique<keys::KeyRing>(tdb_->db().keys(), crypto::Secret::random(32), clock_, ks);
    ASSERT_TRUE(ring_->rotate(false));
    ASSERT_TRUE(ring_->ready());
    ring_keys_ = std::make_unique<RingKeys>(*ring_);
    hasher_ = std::make_unique<crypto::KeyedHasher>(crypto::Secret::random(32));
    settings_.issuer = "https://auth.test";
    settings_.password = kFastParams;
    settings_.session_absolute_s = 30 * 86400;
    settings_.session_idle_s = 86400;
    if (GetParam().event_loop) loop_ = std::make_unique<testing::AttachedEventLoop>(tdb_->db(), 4);
    build_service(nullptr);
    user_id_ = add_user("alice@example.com", kPassword);
  }

  void build_service(RateLimiter* refresh_limiter) {
    AuthService::Deps deps{tdb_->db().users(),
                           tdb_->db().sessions(),
                           tdb_->db().clients(),
                           *ring_keys_,
                           clock_,
                           random_,
                           *hasher_,
                           &events_};
    deps.refresh_limiter = refresh_limiter;
    if (loop_) deps.offload = loop_->offload();
    service_ = std::make_unique<AuthService>(deps, settings_);
  }

  std::string add_user(const std::string& email, const std::string& password,
                       crypto::PasswordParams params = kFastParams) {
    User u;
    u.id = make_uuid_v4(random_);
    u.email = email;
    u.password_hash = *crypto::hash_password(password, params);
    u.roles = {"user"};
    u.created_at = u.updated_at = clock_.now_unix();
    EXPECT_TRUE(tdb_->db().users().create(u));
    return u.id;
  }

  TokenPair login(const std::string& email = "alice@example.com") {
    auto r = service_->login(LoginRequest{email, kPassword, "", "test-agent", "127.0.0.1"});
    EXPECT_TRUE(r) << (r ? "" : r.error().description);
    return r ? *r : TokenPair{};
  }

  AuthResult<TokenPair> refresh(const std::string& token) {
    const RefreshRequest req{token, "", "127.0.0.1"};
    if (!loop_) return service_->refresh(req);
    auto answer = std::make_shared<std::promise<AuthResult<TokenPair>>>();
    loop_->post([this, req, answer] {
      auto done = [this, answer](AuthResult<TokenPair> r) {
        if (loop_->on_loop_thread()) answered_on_loop_++;
        answer->set_value(std::move(r));
      };
      if (service_->refresh_async(
              req, done, [this](std::function<void()> task) { loop_->post(std::move(task)); }))
        return;
      refused_on_loop_++;
      loop_->offload()([this, req, done] { done(service_->refresh(req)); });
    });
    return answer->get_future().get();
  }

  FakeClock clock_{1'800'000'000};
  SystemRandom random_;
  RecordingEvents events_;
  Settings settings_;
  std::unique_ptr<testing::TestDatabase> tdb_;
  std::unique_ptr<keys::KeyRing> ring_;
  std::unique_ptr<RingKeys> ring_keys_;
  std::unique_ptr<crypto::KeyedHasher> hasher_;
  std::unique_ptr<AuthService> service_;
  std::unique_ptr<testing::AttachedEventLoop>
      loop_;  // after service_: destroyed first, joining its threads
  std::atomic<int> answered_on_loop_{0}, refused_on_loop_{0};
  std::string user_id_;
};

TEST_P(AuthServiceTest, LoginIssuesVerifiableAccessTokenAndOpaqueRefreshToken) {
  auto t = login();
  EXPECT_EQ(t.expires_in, 600);
  EXPECT_TRUE(AuthService::looks_like_refresh_token(t.refresh_token));
  jose::VerifyOptions opts;
  opts.issuer = "https://auth.test";
  opts.audience = "authd";
  auto v = jose::verify(t.access_token, ring_->lookup(), clock_.now_unix(), opts);
  ASSERT_TRUE(v) << jose::to_string(v.error());
  EXPECT_EQ(v->header["typ"], "at+jwt");
  EXPECT_EQ(v->claims["sub"], user_id_);
  EXPECT_EQ(v->claims["sid"], t.session_id);
  EXPECT_EQ(v->claims["client_id"], "authd");
  EXPECT_EQ(v->claims["roles"], nlohmann::json::array({"user"}));
  EXPECT_FALSE(v->claims.contains("email")) << "no personal data in access tokens";
  auto p = service_->authenticate(t.access_token);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->session_id, t.session_id);
}

TEST_P(AuthServiceTest, RolesAndTenantNeedingJsonEscapesReachTheTokenIntact) {
  User u;
  u.id = make_uuid_v4(random_);
  u.email = "bob@example.com";
  u.password_hash = *crypto::hash_password(kPassword, kFastParams);
  u.roles = {"ops \"night\"", "back\\slash", "caf\xC3\xA9 \xF0\x9F\x94\x91"};
  u.tenant_id = "tenant/\t1";
  u.created_at = u.updated_at = clock_.now_unix();
  ASSERT_TRUE(tdb_->db().users().create(u));
  auto t = login("bob@example.com");
  jose::VerifyOptions opts;
  opts.issuer = "https://auth.test";
  opts.audience = "authd";
  auto v = jose::verify(t.access_token, ring_->lookup(), clock_.now_unix(), opts);
  ASSERT_TRUE(v) << jose::to_string(v.error());
  EXPECT_EQ(v->claims["roles"], nlohmann::json(u.roles));
  EXPECT_EQ(v->claims["tenant_id"], u.tenant_id);
}

// Limits that answer asynchronously (Redis) keep the event-loop path: the loop never waits on
// the limiter, the rotation still runs on the loop, and a refusal is the same 429.
TEST_P(AuthServiceTest, AsynchronousRefreshLimitsKeepTheRotationOnTheLoop) {
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

TEST_P(AuthServiceTest, EmailIsCaseAndSpaceInsensitive) {
  auto r = service_->login(LoginRequest{"  Alice@Example.COM ", kPassword, "", "", ""});
  EXPECT_TRUE(r);
}

TEST_P(AuthServiceTest, WrongPasswordAndUnknownUserAreIndistinguishable) {
  auto wrong = service_->login(LoginRequest{"alice@example.com", "nope-nope", "", "", ""});
  auto unknown = service_->login(LoginRequest{"bob@example.com", "nope-nope", "", "", ""});
  ASSERT_FALSE(wrong);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(wrong.error().code, Errc::kInvalidGrant);
  EXPECT_EQ(unknown.error().code, wrong.error().code);
  EXPECT_EQ(unknown.error().description, wrong.error().description);
  EXPECT_EQ(events_.logins_failed.load(), 2);
}

TEST_P(AuthServiceTest, UnknownUserStillPaysForOneHash) {
  // Default (expensive) parameters make the hash dominate: both paths must cost about the same.
  settings_.password = crypto::PasswordParams{};
  add_user("carol@example.com", kPassword, settings_.password);
  AuthService slow(
      AuthService::Deps{tdb_->db().users(), tdb_->db().sessions(), tdb_->db().clients(),
                        *ring_keys_, clock_, random_, *hasher_, nullptr},
      settings_);
  (void)crypto::dummy_hash(settings_.password);
  auto once = [&](const char* email) {
    const auto t0 = std::chrono::steady_clock::now();
    (void)slow.login(LoginRequest{email, "wrong-password", "", "", ""});
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  // Interleaved samples and medians, so load from parallel tests hits both sides alike.
  std::vector<double> known_t, unknown_t;
  for (int i = 0; i < 7; ++i) {
    known_t.push_back(once("carol@example.com"));
    unknown_t.push_back(once("nobody@example.com"));
  }
  std::sort(known_t.begin(), known_t.end());
  std::sort(unknown_t.begin(), unknown_t.end());
  const double known = known_t[3], unknown = unknown_t[3];
  EXPECT_GT(unknown, known * 0.5)
      << "unknown email answered much faster: existence leaks by timing";
  EXPECT_LT(unknown, known * 2.0);
}

TEST_P(AuthServiceTest, DisabledAccountIsRefusedOnlyAfterCorrectPassword) {
  ASSERT_TRUE(tdb_->db().users().set_disabled(user_id_, true, clock_.now_unix()));
  auto right = service_->login(LoginRequest{"alice@example.com", kPassword, "", "", ""});
  ASSERT_FALSE(right);
  EXPECT_EQ(right.error().code, Errc::kAccessDenied);
  auto wrong = service_->login(LoginRequest{"alice@example.com", "bad-password", "", "", ""});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::kInvalidGrant);
}

TEST_P(AuthServiceTest, MissingFieldsAndUnknownClientAreRejected) {
  EXPECT_EQ(service_->login(LoginRequest{"", kPassword, "", "", ""}).error().code,
            Errc::kInvalidRequest);
  EXPECT_EQ(service_->login(LoginRequest{"alice@example.com", "", "", "", ""}).error().code,
            Errc::kInvalidRequest);
  EXPECT_EQ(
      service_->login(LoginRequest{"alice@example.com", kPassword, "nope", "", ""}).error().code,
      Errc::kInvalidClient);
  EXPECT_EQ(service_->login(LoginRequest{"alice@example.com", std::string(5000, 'x'), "", "", ""})
                .error()
                .code,
            Errc::kInvalidRequest);
}

TEST_P(AuthServiceTest, WeakHashIsUpgradedAtLogin) {
  settings_.password = crypto::PasswordParams{2, 16 * 1024};
  AuthService stronger(
      AuthService::Deps{tdb_->db().users(), tdb_->db().sessions(), tdb_->db().clients(),
                        *ring_keys_, clock_, random_, *hasher_, nullptr},
      settings_);
  auto before = (*tdb_->db().users().find_by_id(user_id_))->password_hash;
  ASSERT_TRUE(crypto::needs_rehash(before, settings_.password));
  ASSERT_TRUE(stronger.login(LoginRequest{"alice@example.com", kPassword, "", "", ""}));
  auto after = (*tdb_->db().users().find_by_id(user_id_))->password_hash;
  EXPECT_NE(before, after);
  EXPECT_FALSE(crypto::needs_rehash(after, settings_.password));
  EXPECT_TRUE(crypto::verify_password(after, kPassword));
}

TEST_P(AuthServiceTest, ChainOfHundredRotations) {
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

TEST_P(AuthServiceTest, ReplayAfterGraceRevokesFamilyAndNewestTokenDies) {
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

TEST_P(AuthServiceTest, ReplayInsideGraceGetsTheSameSuccessor) {
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

TEST_P(AuthServiceTest, FiftyConcurrentRefreshesLeaveOneLiveSuccessor) {
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

TEST_P(AuthServiceTest, AbsoluteAndIdleExpiry) {
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

TEST_P(AuthServiceTest, LogoutRevokesOneFamily) {
  auto a = login();
  auto b = login();
  auto pa = service_->authenticate(a.access_token);
  ASSERT_TRUE(pa);
  ASSERT_TRUE(service_->logout(*pa));
  EXPECT_FALSE(service_->authenticate(a.access_token));
  EXPECT_FALSE(refresh(a.refresh_token));
  EXPECT_TRUE(service_->authenticate(b.access_token));
  EXPECT_TRUE(refresh(b.refresh_token));
}

TEST_P(AuthServiceTest, LogoutByRefreshToken) {
  auto a = login();
  ASSERT_TRUE(service_->logout_refresh_token(a.refresh_token));
  EXPECT_FALSE(service_->authenticate(a.access_token));
  EXPECT_TRUE(service_->logout_refresh_token("not-a-token")) << "RFC 7009: unknown tokens are fine";
}

TEST_P(AuthServiceTest, LogoutAllRevokesEveryFamilyOfTheUser) {
  auto a = login(), b = login(), c = login();
  add_user("dave@example.com", kPassword);
  auto other = login("dave@example.com");
  auto p = service_->authenticate(a.access_token);
  ASSERT_TRUE(p);
  auto n = service_->logout_all(*p);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 3u);
  for (const auto* t : {&a, &b, &c}) {
    EXPECT_FALSE(service_->authenticate(t->access_token));
    EXPECT_FALSE(refresh(t->refresh_token));
  }
  EXPECT_TRUE(service_->authenticate(other.access_token));
}

TEST_P(AuthServiceTest, SessionsAreListedAndDeletable) {
  auto a = login();
  clock_.advance(1);
  auto b = login();
  add_user("erin@example.com", kPassword);
  auto e = login("erin@example.com");
  auto pa = *service_->authenticate(a.access_token);
  auto list = service_->list_sessions(pa);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, b.session_id) << "newest first";
  EXPECT_EQ((*list)[0].user_agent, "test-agent");
  EXPECT_EQ((*list)[0].ip, "127.0.0.1");
  auto other = service_->delete_session(pa, e.session_id);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Errc::kNotFound) << "someone else's session looks missing";
  ASSERT_TRUE(service_->delete_session(pa, b.session_id));
  EXPECT_FALSE(service_->authenticate(b.access_token));
  EXPECT_EQ(service_->list_sessions(pa)->size(), 1u);
}

TEST_P(AuthServiceTest, GarbageRefreshTokensAreInvalidGrant) {
  for (const std::string& bad : std::vector<std::string>{
           "x", std::string(43, '!'), std::string(43, 'A'), std::string(2000, 'a')}) {
    auto r = refresh(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalidGrant) << bad;
  }
}

TEST_P(AuthServiceTest, DisabledUserCannotRefresh) {
  auto t = login();
  ASSERT_TRUE(tdb_->db().users().set_disabled(user_id_, true, clock_.now_unix()));
  clock_.advance(30);
  EXPECT_FALSE(refresh(t.refresh_token));
}

// On Postgres the event loop rotates by itself; on SQLite (no non-blocking I/O) the checks run
// on the loop and the rotation on a worker. Login cached the client, so no refresh needs a
// store lookup before its rotation.
class AuthServiceLoopTest : public AuthServiceTest {};

TEST_P(AuthServiceLoopTest, RefreshesFromAnEventLoopStayOnItWherePossible) {
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

std::string mode_name(const ::testing::TestParamInfo<Mode>& info) {
  return testing::to_string(info.param.backend) + (info.param.event_loop ? "EventLoop" : "");
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthServiceTest,
                         ::testing::Values(Mode{Backend::kSqlite, false},
                                           Mode{Backend::kPostgres, false},
                                           Mode{Backend::kSqlite, true},
                                           Mode{Backend::kPostgres, true}),
                         mode_name);
INSTANTIATE_TEST_SUITE_P(Backends, AuthServiceLoopTest,
                         ::testing::Values(Mode{Backend::kSqlite, true},
                                           Mode{Backend::kPostgres, true}),
                         mode_name);

}  // namespace
}  // namespace authd::auth
