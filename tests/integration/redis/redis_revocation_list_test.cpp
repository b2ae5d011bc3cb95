// RedisRevocationList against a real redis-server: a revocation on one replica reaches the
// others' local sets through pub/sub, Redis answers for sessions not seen locally, keys
// expire with the session, other events are forwarded.

#include "authd/cache/redis_revocation_list.h"

#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "support/redis_server.h"

namespace authd::cache {
namespace {

using namespace std::chrono_literals;
using testing::connect_or_fail;
using testing::eventually;
using testing::shared_redis_options;

std::string unique_sid() {
  static std::atomic<int> n{0};
  return "sid-" + std::to_string(::getpid()) + "-" + std::to_string(++n) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

/// An events channel of this test alone: other test processes may share the server.
std::string test_channel() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string("authd:test:events:") + info->name() + ":" + std::to_string(::getpid());
}

/// One "replica": its own client and list, subscribed before the test goes on.
struct Replica {
  explicit Replica(const Clock& clock, RedisOptions options = shared_redis_options()) {
    client = connect_or_fail(std::move(options));
    if (!client) return;
    RedisRevocationListOptions o;
    o.channel = test_channel();
    // Registered on the client before the list subscribes: registered after, the first
    // "subscribed" could fire before the callback exists and never be seen.
    reconnect = client->on_resubscribed([this] { ++resubscribed; });
    list = std::make_unique<RedisRevocationList>(*client, clock, o);
    subscribed = eventually([this] { return resubscribed.load() > 0; }, 10s);
  }
  std::unique_ptr<RedisClient> client;
  std::unique_ptr<RedisRevocationList> list;
  std::atomic<int> resubscribed{0};
  CallbackHandle reconnect;
  bool subscribed = false;
};

class RedisRevocationListTest : public ::testing::Test {
 protected:
  SystemClock clock_;
};

TEST_F(RedisRevocationListTest, RevocationReachesAnotherReplica) {
  Replica a(clock_), b(clock_);
  ASSERT_TRUE(a.subscribed && b.subscribed);
  std::vector<double> ms;
  for (int i = 0; i < 10; ++i) {
    const std::string sid = unique_sid();
    ASSERT_FALSE(b.list->local().contains(sid));
    const auto t0 = std::chrono::steady_clock::now();
    a.list->revoke_session(sid, clock_.now_unix() + 600);
    ASSERT_TRUE(eventually([&] { return b.list->local().contains(sid); }, 1s)) << sid;
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    EXPECT_EQ(a.list->is_session_revoked(sid), true);
    EXPECT_EQ(b.list->is_session_revoked(sid), true);
  }
  std::sort(ms.begin(), ms.end());
  std::cout << "[ MEASURE  ] revoke_session on A → in B's local set: median " << ms[5]
            << " ms, max " << ms.back() << " ms (10 revocations; includes SET + PUBLISH)\n";
}

TEST_F(RedisRevocationListTest, RedisAnswersForSessionsNotSeenLocally) {
  Replica a(clock_);
  ASSERT_TRUE(a.client);
  const std::string sid = unique_sid();
  a.list->revoke_session(sid, clock_.now_unix() + 600);
  // A replica that started later (and so missed the event) asks Redis.
  auto late_client = connect_or_fail(shared_redis_options());
  RedisRevocationList late(*late_client, clock_);
  EXPECT_FALSE(late.local().contains(sid));
  EXPECT_EQ(late.is_session_revoked(sid), true);
  EXPECT_TRUE(late.local().contains(sid));  // cached from the PTTL answer
  EXPECT_EQ(late.is_session_revoked(unique_sid()), false);
}

TEST_F(RedisRevocationListTest, KeyExpiresWhenTheSessionsTokensDo) {
  Replica a(clock_);
  ASSERT_TRUE(a.client);
  const std::string sid = unique_sid();
  const std::int64_t until = clock_.now_unix() + 300;
  a.list->revoke_session(sid, until);
  auto t = a.client->command({"EXPIRETIME", "authd:rev:sid:" + sid});
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->integer, until);
  // Already expired: nothing to store anywhere.
  const std::string old = unique_sid();
  a.list->revoke_session(old, clock_.now_unix() - 1);
  EXPECT_EQ(a.client->command({"EXISTS", "authd:rev:sid:" + old})->integer, 0);
  EXPECT_EQ(a.list->is_session_revoked(old), false);
  // Short-lived: gone from Redis after its until.
  const std::string brief = unique_sid();
  a.list->revoke_session(brief, clock_.now_unix() + 1);
  EXPECT_TRUE(eventually(
      [&] {
        return a.client->command({"EXISTS", "authd:rev:sid:" + brief})->integer == 0;
      },
      2500ms));
}

TEST_F(RedisRevocationListTest, UnknownWhenRedisIsDownUnlessRevokedLocally) {
  RedisOptions dead;
  dead.endpoint = {"127.0.0.1", 1};
  auto client = RedisClient::create(dead);
  ASSERT_TRUE(client);
  RedisRevocationList list(**client, clock_);
  EXPECT_EQ(list.is_session_revoked("x"), std::nullopt);
  list.revoke_session("y", clock_.now_unix() + 60);
  EXPECT_EQ(list.is_session_revoked("y"), true);
  EXPECT_EQ(list.pending(), 1u);  // to be written when Redis is back
  list.mark_revoked_local("z", clock_.now_unix() + 60);
  EXPECT_EQ(list.is_session_revoked("z"), true);
}

TEST_F(RedisRevocationListTest, OtherEventsAreForwarded) {
  Replica a(clock_), b(clock_);
  ASSERT_TRUE(a.subscribed && b.subscribed);
  std::mutex m;
  std::vector<std::pair<std::string, std::string>> events;
  auto handle = b.list->on_event([&](const std::string& type, const std::string& json) {
    std::lock_guard lock(m);
    events.emplace_back(type, json);
  });
  ASSERT_TRUE(eventually(
      [&] {
        return testing::receivers(a.list->publish_event(R"({"type":"keys_changed","kid":"k1"})")) >=
               2;
      },
      2s));
  a.list->revoke_session(unique_sid(), clock_.now_unix() + 60);  // not forwarded
  ASSERT_TRUE(a.list->publish_event("not json"));                // ignored
  ASSERT_TRUE(a.list->publish_event(R"({"type":"ping"})"));
  ASSERT_TRUE(eventually(
      [&] {
        std::lock_guard lock(m);
        return !events.empty() && events.back().first == "ping";
      },
      1s));
  std::lock_guard lock(m);
  for (const auto& [type, json] : events) EXPECT_NE(type, "session_revoked");
  EXPECT_EQ(events.front().first, "keys_changed");
  EXPECT_EQ(events.front().second, R"({"type":"keys_changed","kid":"k1"})");
}

TEST_F(RedisRevocationListTest, MalformedEventsAreIgnored) {
  Replica a(clock_), b(clock_);
  ASSERT_TRUE(a.subscribed && b.subscribed);
  for (const char* bad :
       {R"({"type":"session_revoked"})", R"({"type":"session_revoked","sid":1,"until":2})",
        R"({"type":"session_revoked","sid":"s","until":"soon"})", "[]", "{", ""}) {
    ASSERT_TRUE(a.client->publish(test_channel(), bad));
  }
  const std::string sid = unique_sid();
  a.list->revoke_session(sid, clock_.now_unix() + 60);
  EXPECT_TRUE(eventually([&] { return b.list->local().contains(sid); }, 1s));
  EXPECT_EQ(b.list->local().size(), 1u);
}

}  // namespace
}  // namespace authd::cache
