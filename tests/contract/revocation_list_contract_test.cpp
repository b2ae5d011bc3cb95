// auth::RevocationList contract: a revoked session or token is revoked until its `until`,
// an unknown one is not, sessions and tokens do not mix, and an `until` already past is a
// no-op. Runs against LocalRevocationList (on a FakeClock) and RedisRevocationList (keys
// expiring in Redis in real time). Redis-only behaviour (pub/sub events between replicas,
// answers for sessions not seen locally, outages) is in
// tests/integration/redis/redis_revocation_list_test.cpp; the local memory bounds in
// tests/unit/cache/local_revocation_list_test.cpp.

#include <memory>

#include "authd/cache/local_revocation_list.h"
#include "authd/cache/redis_revocation_list.h"
#include "contract/cache_backend.h"
#include "support/fake_clock.h"

namespace authd::contract {
namespace {

using namespace std::chrono_literals;

class RevocationListContract : public ::testing::TestWithParam<CacheImpl> {
 protected:
  void SetUp() override {
    if (GetParam() == CacheImpl::kLocal) {
      list_ = std::make_unique<cache::LocalRevocationList>(fake_clock_);
      return;
    }
    client_ = testing::connect_or_fail(testing::shared_redis_options());
    ASSERT_TRUE(client_);
    cache::RedisRevocationListOptions options;
    // A channel of this test alone: other test processes may share the server.
    options.channel = unique_name("authd:test:events");
    list_ = std::make_unique<cache::RedisRevocationList>(*client_, system_clock_, options);
  }

  auth::RevocationList& list() { return *list_; }

  std::int64_t now() const {
    return GetParam() == CacheImpl::kLocal ? fake_clock_.now_unix() : system_clock_.now_unix();
  }

  /// Brings the local list's fake clock to `unix_s`. Redis keys expire in real time, which
  /// the tests wait for by polling the answer.
  void advance_to(std::int64_t unix_s) {
    if (GetParam() == CacheImpl::kLocal) fake_clock_.set(unix_s);
  }

  authd::testing::FakeClock fake_clock_;
  SystemClock system_clock_;
  std::unique_ptr<cache::RedisClient> client_;
  std::unique_ptr<auth::RevocationList> list_;
};

TEST_P(RevocationListContract, UnknownSessionOrTokenIsNotRevoked) {
  EXPECT_EQ(list().is_session_revoked(unique_name("sid")), false);
  EXPECT_EQ(list().is_token_revoked(unique_name("jti")), false);
}

TEST_P(RevocationListContract, RevokedSessionIsRevokedAndOthersAreNot) {
  const std::string sid = unique_name("sid");
  list().revoke_session(sid, now() + 600);
  EXPECT_EQ(list().is_session_revoked(sid), true);
  EXPECT_EQ(list().is_session_revoked(unique_name("other")), false);
}

TEST_P(RevocationListContract, RevokedTokenIsRevokedApartFromSessions) {
  const std::string jti = unique_name("jti");
  const std::string sid = unique_name("sid");
  list().revoke_token(jti, now() + 600);
  list().revoke_session(sid, now() + 600);
  EXPECT_EQ(list().is_token_revoked(jti), true);
  EXPECT_EQ(list().is_session_revoked(jti), false) << "a jti is not a session id";
  EXPECT_EQ(list().is_token_revoked(sid), false) << "a session id is not a jti";
}

TEST_P(RevocationListContract, RevocationEndsAtItsUntil) {
  const std::string sid = unique_name("sid");
  const std::string jti = unique_name("jti");
  // Two seconds: at least one whole second of Redis' EXAT granularity is left.
  const std::int64_t until = now() + 2;
  list().revoke_session(sid, until);
  list().revoke_token(jti, until);
  EXPECT_EQ(list().is_session_revoked(sid), true);
  advance_to(until - 1);
  EXPECT_EQ(list().is_session_revoked(sid), true);
  EXPECT_EQ(list().is_token_revoked(jti), true);
  advance_to(until);
  EXPECT_TRUE(testing::eventually([&] { return list().is_session_revoked(sid) == false; }, 5s));
  EXPECT_TRUE(testing::eventually([&] { return list().is_token_revoked(jti) == false; }, 5s));
}

TEST_P(RevocationListContract, UntilNotAfterNowIsIgnored) {
  const std::string at_now = unique_name("sid");
  const std::string past = unique_name("sid");
  list().revoke_session(at_now, now());
  list().revoke_session(past, now() - 10);
  EXPECT_EQ(list().is_session_revoked(at_now), false);
  EXPECT_EQ(list().is_session_revoked(past), false);
}

AUTHD_INSTANTIATE_CACHE_CONTRACT(RevocationListContract);

}  // namespace
}  // namespace authd::contract
