// RedisClient against real redis-server processes: commands, errors, timeouts, scripts,
// AUTH/SELECT, pub/sub and resubscription, and many threads at once.

#include "authd/cache/redis_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
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
using testing::RedisServer;
using testing::shared_redis_options;
using Ms = std::chrono::milliseconds;

std::string unique(const std::string& base) {
  static std::atomic<int> n{0};
  return "authd:test:" + base + ":" + std::to_string(::getpid()) + ":" + std::to_string(++n);
}

TEST(RedisClientTest, CommandsRoundTripBinarySafe) {
  auto client = connect_or_fail(shared_redis_options());
  ASSERT_TRUE(client);
  auto pong = client->command({"PING"});
  ASSERT_TRUE(pong) << pong.error().message;
  EXPECT_EQ(pong->type, Reply::Type::kStatus);
  EXPECT_EQ(pong->str, "PONG");

  const std::string key = unique("bin");
  const std::string value("a\0b\r\n$3\xff", 8);
  auto set = client->command({"SET", key, value, "PX", "10000"});
  ASSERT_TRUE(set);
  auto get = client->command({"GET", key});
  ASSERT_TRUE(get);
  EXPECT_EQ(get->type, Reply::Type::kString);
  EXPECT_EQ(get->str, value);
  auto missing = client->command({"GET", key + ":none"});
  ASSERT_TRUE(missing);
  EXPECT_TRUE(missing->is_nil());
  auto arr = client->command({"MGET", key, key + ":none"});
  ASSERT_TRUE(arr);
  ASSERT_EQ(arr->elements.size(), 2u);
  EXPECT_EQ(arr->elements[0].str, value);
  EXPECT_TRUE(arr->elements[1].is_nil());
  EXPECT_NE(client->endpoint(), "");
}

TEST(RedisClientTest, HostNamesAreResolvedOffTheIoThread) {
  RedisOptions o = shared_redis_options();
  o.endpoint.host = "localhost";
  auto client = connect_or_fail(o);
  ASSERT_TRUE(client);
  EXPECT_TRUE(client->command({"PING"}));
  o.endpoint.host = "no-such-host.invalid";
  auto bad = RedisClient::create(o);
  ASSERT_TRUE(bad);
  EXPECT_FALSE((*bad)->wait_until_available(300ms));
  EXPECT_NE((*bad)->last_error().find("cannot resolve"), std::string::npos) << (*bad)->last_error();
}

TEST(RedisClientTest, ErrorReplyIsReplyErrorAndConnectionStaysUsable) {
  auto client = connect_or_fail(shared_redis_options());
  ASSERT_TRUE(client);
  const std::string key = unique("str");
  ASSERT_TRUE(client->command({"SET", key, "not a number", "PX", "10000"}));
  auto r = client->command({"INCR", key});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kReplyError);
  EXPECT_NE(r.error().message.find("not an integer"), std::string::npos);
  EXPECT_TRUE(client->command({"PING"}));
  EXPECT_TRUE(client->available());
}

TEST(RedisClientTest, TimeoutIsBoundedAndTheClientRecovers) {
  authd::testing::TempDir dir;
  RedisServer server(dir.path(), "slow", {});
  ASSERT_TRUE(server.start());
  auto client = connect_or_fail(server.options());
  ASSERT_TRUE(client);
  // The server's sleep is the behaviour under test. Sent on the same pipelined connection,
  // it is certain to come before the PING, which then waits behind it.
  auto awake = std::make_shared<std::atomic<bool>>(false);
  client->command_async({"DEBUG", "SLEEP", "0.3"}, [awake](CacheResult<Reply>) { *awake = true; });
  auto r = client->command({"PING"}, 50ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kTimeout) << "the deadline, not the late PONG, answered";
  ASSERT_TRUE(eventually([&] { return awake->load(); }, 5s));
  // The late PONG is discarded; the next caller gets its own reply.
  auto r2 = client->command({"ECHO", "after"});
  ASSERT_TRUE(r2) << r2.error().message;
  EXPECT_EQ(r2->str, "after");
  EXPECT_EQ(client->stats().timeouts, 1u);
}

TEST(RedisClientTest, EvalLoadsTheScriptOnNoScript) {
  auto client = connect_or_fail(shared_redis_options());
  ASSERT_TRUE(client);
  // A script unique to this run, so it cannot be cached already.
  RedisScript script("return {KEYS[1], ARGV[1], " + std::to_string(::getpid()) + "}");
  auto r = client->eval(script, {"k"}, {"v"});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->elements.size(), 3u);
  EXPECT_EQ(r->elements[0].str, "k");
  EXPECT_EQ(r->elements[1].str, "v");
  EXPECT_EQ(r->elements[2].integer, ::getpid());
  EXPECT_EQ(client->stats().noscript_reloads, 1u);
  ASSERT_TRUE(client->eval(script, {"k"}, {"v"}));
  EXPECT_EQ(client->stats().noscript_reloads, 1u);  // cached now: EVALSHA hit

  RedisScript broken("return redis.call('NOSUCHCOMMAND')");
  auto e = client->eval(broken, {}, {});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, Errc::kReplyError);
}

// eval() without waiting: the reply on the I/O thread, kUnavailable at once while
// disconnected, kTimeout when the server sleeps past the deadline (and a late reply is dropped).
TEST(RedisClientTest, EvalAsyncAnswersOnceOnTheIoThread) {
  authd::testing::TempDir dir;
  RedisServer server(dir.path(), "async", {});
  ASSERT_TRUE(server.start());
  auto client = connect_or_fail(server.options());
  ASSERT_TRUE(client);
  RedisScript script("return {KEYS[1], ARGV[1]}");
  struct Answer {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<CacheResult<Reply>> replies;
    std::vector<std::thread::id> threads;
    void add(CacheResult<Reply> r) {
      std::lock_guard lock(mu);
      replies.push_back(std::move(r));
      threads.push_back(std::this_thread::get_id());
      cv.notify_all();
    }
    bool wait_for(std::size_t n, Ms t) {
      std::unique_lock lock(mu);
      return cv.wait_for(lock, t, [&] { return replies.size() >= n; });
    }
  };
  auto ok = std::make_shared<Answer>();
  client->eval_async(script, {"k"}, {"v"}, std::nullopt,
                     [ok](CacheResult<Reply> r) { ok->add(std::move(r)); });
  ASSERT_TRUE(ok->wait_for(1, 2s));
  ASSERT_TRUE(ok->replies[0]) << ok->replies[0].error().message;
  ASSERT_EQ(ok->replies[0]->elements.size(), 2u);
  EXPECT_EQ(ok->replies[0]->elements[1].str, "v");
  EXPECT_NE(ok->threads[0], std::this_thread::get_id());

  auto slow = std::make_shared<Answer>();
  // As above: the sleep is the behaviour under test, pipelined ahead of the call.
  auto awake = std::make_shared<std::atomic<bool>>(false);
  client->command_async({"DEBUG", "SLEEP", "0.3"}, [awake](CacheResult<Reply>) { *awake = true; });
  client->eval_async(script, {"k"}, {"late"}, 50ms,
                     [slow](CacheResult<Reply> r) { slow->add(std::move(r)); });
  ASSERT_TRUE(slow->wait_for(1, 2s));
  ASSERT_FALSE(slow->replies[0]) << "the deadline, not the late reply, answered";
  ASSERT_TRUE(eventually([&] { return awake->load(); }, 5s));
  EXPECT_EQ(slow->replies[0].error().code, Errc::kTimeout);
  // The late reply finds its call answered already: still one answer, and the next call works.
  auto after = std::make_shared<Answer>();
  client->eval_async(script, {"k"}, {"after"}, std::nullopt,
                     [after](CacheResult<Reply> r) { after->add(std::move(r)); });
  ASSERT_TRUE(after->wait_for(1, 2s));
  ASSERT_TRUE(after->replies[0]) << after->replies[0].error().message;
  EXPECT_EQ(after->replies[0]->elements[1].str, "after");
  EXPECT_EQ(slow->replies.size(), 1u);

  server.stop();
  ASSERT_TRUE(eventually([&] { return !client->available(); }, 3s));
  auto down = std::make_shared<Answer>();
  client->eval_async(script, {"k"}, {"v"}, std::nullopt,
                     [down](CacheResult<Reply> r) { down->add(std::move(r)); });
  ASSERT_EQ(down->replies.size(), 1u) << "answered before eval_async returned";
  EXPECT_EQ(down->replies[0].error().code, Errc::kUnavailable);
}

TEST(RedisClientTest, AuthWithPasswordAndTheWrongPassword) {
  authd::testing::TempDir dir;
  RedisServer::Config config;
  config.password = "correct-horse";
  RedisServer server(dir.path(), "auth", config);
  ASSERT_TRUE(server.start());
  auto good = connect_or_fail(server.options());
  ASSERT_TRUE(good);
  EXPECT_TRUE(good->command({"SET", "k", "v"}));

  RedisOptions wrong = server.options();
  wrong.password = "battery-staple";
  auto bad = RedisClient::create(wrong);
  ASSERT_TRUE(bad);
  EXPECT_FALSE((*bad)->wait_until_available(300ms));
  const std::string err = (*bad)->last_error();
  EXPECT_NE(err.find("AUTH failed"), std::string::npos) << err;
  EXPECT_EQ(err.find("battery-staple"), std::string::npos) << err;

  RedisOptions none = server.options();
  none.password.clear();
  auto anon = RedisClient::create(none);
  ASSERT_TRUE(anon);
  EXPECT_FALSE((*anon)->wait_until_available(300ms));  // PING → NOAUTH: never "up"
}

// A client whose first connection attempt failed never announced a state: available() was
// false from the start, so nothing "changed", and authd never logged that Redis was down.
TEST(RedisClientTest, FailedFirstAttemptIsAStateChangeToDown) {
  RedisOptions options;
  options.endpoint = {"127.0.0.1", testing::free_port()};  // nobody listens there
  auto client = RedisClient::create(options);
  ASSERT_TRUE(client);
  testing::StateLog early, late;
  auto early_handle = (*client)->on_state_change(early.recorder());
  ASSERT_TRUE(eventually([&] { return !(*client)->last_error().empty(); }, 3s));
  // Registered after the state became known: told it once.
  auto late_handle = (*client)->on_state_change(late.recorder());
  ASSERT_TRUE(eventually([&] { return !early.seen().empty() && !late.seen().empty(); }, 3s));
  std::this_thread::sleep_for(300ms);  // retries keep failing: no further news
  EXPECT_EQ(early.seen(), std::vector<bool>{false});
  EXPECT_EQ(late.seen(), std::vector<bool>{false});
}

TEST(RedisClientTest, CallbackRegisteredWhileUpIsToldUpOnce) {
  auto client = connect_or_fail(shared_redis_options());
  ASSERT_TRUE(client);
  testing::StateLog log;
  auto handle = client->on_state_change(log.recorder());
  ASSERT_TRUE(eventually([&] { return !log.seen().empty(); }, 3s));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(log.seen(), std::vector<bool>{true});
}

TEST(RedisClientTest, SelectsTheDatabaseOfTheUrl) {
  RedisOptions o3 = shared_redis_options();
  o3.db = 3;
  auto db3 = connect_or_fail(o3);
  auto db0 = connect_or_fail(shared_redis_options());
  ASSERT_TRUE(db3 && db0);
  const std::string key = unique("db");
  ASSERT_TRUE(db3->command({"SET", key, "three", "PX", "10000"}));
  auto in0 = db0->command({"GET", key});
  ASSERT_TRUE(in0);
  EXPECT_TRUE(in0->is_nil());
  auto again3 = connect_or_fail(o3);
  auto in3 = again3->command({"GET", key});
  ASSERT_TRUE(in3);
  EXPECT_EQ(in3->str, "three");
}

TEST(RedisClientTest, ManyThreadsShareOneConnection) {
  auto client = connect_or_fail(shared_redis_options());
  ASSERT_TRUE(client);
  const std::string key = unique("counter");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (!client->command({"INCR", key}, 2s)) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto total = client->command({"GET", key});
  ASSERT_TRUE(total);
  EXPECT_EQ(total->str, "4000");
  EXPECT_TRUE(client->command({"DEL", key}));
}

TEST(RedisClientTest, PubSubDeliversToAnotherClientQuickly) {
  auto publisher = connect_or_fail(shared_redis_options());
  auto subscriber = connect_or_fail(shared_redis_options());
  ASSERT_TRUE(publisher && subscriber);
  const std::string channel = unique("chan");
  std::atomic<bool> subscribed{false};
  auto resub = subscriber->on_resubscribed([&] { subscribed = true; });
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> got;
  auto sub = subscriber->subscribe(channel, [&](const std::string& msg) {
    std::lock_guard lock(m);
    got.emplace_back(msg, std::chrono::steady_clock::now());
    cv.notify_all();
  });
  ASSERT_TRUE(eventually([&] { return subscribed.load(); }, 2s));

  std::vector<double> latencies_ms;
  for (int i = 0; i < 20; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto n = publisher->publish(channel, "m" + std::to_string(i));
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 1);
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, 1s, [&] { return got.size() == static_cast<size_t>(i + 1); }));
    EXPECT_EQ(got.back().first, "m" + std::to_string(i));
    latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(got.back().second - t0).count());
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  std::cout << "[ MEASURE  ] pub/sub publish→callback: median " << latencies_ms[10] << " ms, max "
            << latencies_ms.back() << " ms (20 messages)\n";
  EXPECT_GE(subscriber->stats().messages, 20u);

  // After the handle goes, nothing more is delivered to it.
  sub.reset();
  const auto received = subscriber->stats().messages;
  ASSERT_TRUE(publisher->publish(channel, "late"));
  // The server-side subscription stays until a reconnect: the client receives "late" (and
  // counts it) but has no callback left to give it to.
  ASSERT_TRUE(eventually([&] { return subscriber->stats().messages > received; }, 2s));
  std::lock_guard lock(m);
  EXPECT_EQ(got.size(), 20u);
}

TEST(RedisClientTest, SubscriberResubscribesAfterItsConnectionIsKilled) {
  authd::testing::TempDir dir;
  RedisServer server(dir.path(), "pubsub", {});
  ASSERT_TRUE(server.start());
  auto publisher = connect_or_fail(server.options());
  auto subscriber = connect_or_fail(server.options());
  ASSERT_TRUE(publisher && subscriber);
  std::atomic<int> resubscribed{0};
  std::atomic<int> received{0};
  auto resub = subscriber->on_resubscribed([&] { ++resubscribed; });
  auto sub = subscriber->subscribe("events", [&](const std::string&) { ++received; });
  ASSERT_TRUE(eventually([&] { return resubscribed.load() == 1; }, 2s));
  ASSERT_TRUE(publisher->publish("events", "one"));
  ASSERT_TRUE(eventually([&] { return received.load() == 1; }, 1s));

  auto killed = server.cli({"CLIENT", "KILL", "TYPE", "pubsub"});
  ASSERT_TRUE(killed);
  EXPECT_EQ(*killed, "1");
  ASSERT_TRUE(eventually([&] { return resubscribed.load() == 2; }, 2s));
  ASSERT_TRUE(publisher->publish("events", "two"));
  EXPECT_TRUE(eventually([&] { return received.load() == 2; }, 1s));
  EXPECT_TRUE(publisher->available());  // the command connection was not touched
}

TEST(RedisClientTest, ChannelsAddedLaterAreSubscribedToo) {
  auto publisher = connect_or_fail(shared_redis_options());
  auto subscriber = connect_or_fail(shared_redis_options());
  ASSERT_TRUE(publisher && subscriber);
  const std::string a = unique("a");
  const std::string b = unique("b");
  std::atomic<int> got_a{0}, got_b{0};
  auto sa = subscriber->subscribe(a, [&](const std::string&) { ++got_a; });
  ASSERT_TRUE(eventually([&] { return testing::receivers(publisher->publish(a, "x")) == 1; }, 2s));
  auto sb = subscriber->subscribe(b, [&](const std::string&) { ++got_b; });
  ASSERT_TRUE(eventually([&] { return testing::receivers(publisher->publish(b, "y")) == 1; }, 2s));
  EXPECT_TRUE(eventually([&] { return got_a.load() >= 1 && got_b.load() >= 1; }, 1s));
}

TEST(RedisClientTest, BlockingCallFromTheIoThreadIsRefusedNotDeadlocked) {
  auto client = connect_or_fail(shared_redis_options());
  ASSERT_TRUE(client);
  const std::string channel = unique("io");
  std::atomic<int> code{-1};
  std::atomic<bool> async_ok{false};
  auto sub = client->subscribe(channel, [&](const std::string&) {
    auto r = client->command({"PING"});
    code = r ? 0 : static_cast<int>(r.error().code);
    client->command_async({"PING"}, [&](CacheResult<Reply> a) { async_ok = a.has_value(); });
  });
  ASSERT_TRUE(
      eventually([&] { return testing::receivers(client->publish(channel, "x")) == 1; }, 2s));
  ASSERT_TRUE(eventually([&] { return code.load() != -1; }, 1s));
  EXPECT_EQ(code.load(), static_cast<int>(Errc::kInternal));
  EXPECT_TRUE(eventually([&] { return async_ok.load(); }, 1s));
}

}  // namespace
}  // namespace authd::cache
