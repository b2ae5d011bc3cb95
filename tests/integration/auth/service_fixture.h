#pragma once
// The auth service's use cases run against both real stores (SQLite and Postgres), from
// worker threads and from an event loop, with a pinned clock. Each use case's suite derives
// from AuthServiceTest and instantiates itself with AUTHD_INSTANTIATE_SERVICE_MODES.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "app/ring_keys.h"
#include "authd/auth/client_secret.h"
#include "authd/auth/service.h"
#include "authd/crypto/init.h"
#include "authd/crypto/password.h"
#include "authd/crypto/secret.h"
#include "authd/jose/jws.h"
#include "authd/keys/key_ring.h"
#include "support/backends.h"
#include "support/counting_limiter.h"
#include "support/event_loop.h"
#include "support/fake_clock.h"

namespace authd::auth::testing_support {

using app::RingKeys;
using testing::Backend;
using testing::FakeClock;

struct RecordingEvents final : Events {
  std::atomic<int> logins_ok{0}, logins_failed{0}, reuse{0}, password_hashes{0};
  std::mutex mu;
  std::vector<std::string> revoked_ids;
  void login(bool ok) override { (ok ? logins_ok : logins_failed)++; }
  void refresh(RotateOutcome) override {}
  void reuse_detected(const Session&) override { reuse++; }
  void password_hashed() override { password_hashes++; }
  void revoked(const std::string& id, std::int64_t) override {
    std::lock_guard l(mu);
    revoked_ids.push_back(id);
  }
};

using testing::ThreadedLimiter;

inline constexpr const char* kPassword = "correct horse battery";
inline const crypto::PasswordParams kFastParams{1, 8 * 1024};

// Each case runs with the calls made from worker threads (refresh()), and from an event loop
// as the daemon's /refresh does (refresh_async(), falling back to refresh() on a worker).
struct Mode {
  Backend backend;
  bool event_loop;
};
inline void PrintTo(const Mode& m, std::ostream* os) {
  *os << testing::to_string(m.backend) << (m.event_loop ? " from an event loop" : "");
}

class AuthServiceTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::init());
    tdb_ = std::make_unique<testing::TestDatabase>(GetParam().backend);
    ASSERT_TRUE(tdb_->ok()) << tdb_->error();
    // One key chain, so that no test pays for an RSA key it does not use (tests/unit/keys
    // covers the separate ID-token chain).
    key_settings_.id_token_alg = key_settings_.alg;
    ring_ = std::make_unique<keys::KeyRing>(tdb_->db().keys(), crypto::Secret::random(32), clock_,
                                            key_settings_);
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

  /// The fixture's keys, clock, randomness, pepper and events over the stores of `db`; tests
  /// that need a service of their own (another replica, another port) start from these.
  AuthService::Deps deps_over(store::Database& db) {
    return AuthService::Deps{db.users(), db.sessions(), db.clients(), *ring_keys_,
                             clock_,     random_,       *hasher_,     &events_};
  }

  void build_service(RateLimiter* refresh_limiter, RateLimiter* limiter = nullptr) {
    AuthService::Deps deps = deps_over(tdb_->db());
    deps.refresh_limiter = refresh_limiter;
    deps.limiter = limiter;
    deps.codes = &tdb_->db().codes();
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

  /// A client with `grants`; confidential (with this secret, stored as authctl stores the
  /// secrets it generates) unless `secret` is empty.
  Client add_client(const std::string& id, const std::string& secret,
                    std::vector<std::string> grants, std::vector<std::string> scopes = {},
                    std::vector<std::string> permissions = {}, bool legacy_hash = false) {
    Client c;
    c.id = id;
    c.permissions = std::move(permissions);
    if (!secret.empty())
      c.secret_hash = legacy_hash ? *crypto::hash_password(secret, kFastParams)
                                  : ClientSecretCodec(*hasher_).store_hash(id, secret);
    c.grant_types = std::move(grants);
    c.scopes = std::move(scopes);
    c.created_at = clock_.now_unix();
    EXPECT_TRUE(tdb_->db().clients().upsert(c));
    return c;
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
  keys::Settings key_settings_;  ///< the ring's (its algorithm); set before SetUp()
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

inline std::string mode_name(const ::testing::TestParamInfo<Mode>& info) {
  return testing::to_string(info.param.backend) + (info.param.event_loop ? "EventLoop" : "");
}

}  // namespace authd::auth::testing_support

/// Runs `suite` in the four modes: {SQLite, Postgres} × {worker threads, an event loop}.
#define AUTHD_INSTANTIATE_SERVICE_MODES(suite)                                               \
  INSTANTIATE_TEST_SUITE_P(                                                                  \
      Backends, suite,                                                                       \
      ::testing::Values(                                                                     \
          ::authd::auth::testing_support::Mode{::authd::testing::Backend::kSqlite, false},   \
          ::authd::auth::testing_support::Mode{::authd::testing::Backend::kPostgres, false}, \
          ::authd::auth::testing_support::Mode{::authd::testing::Backend::kSqlite, true},    \
          ::authd::auth::testing_support::Mode{::authd::testing::Backend::kPostgres, true}), \
      ::authd::auth::testing_support::mode_name)
