// parse_redis_url / describe: the one configuration string of the Redis connection.

#include <gtest/gtest.h>

#include "authd/cache/redis_client.h"

namespace authd::cache {
namespace {

TEST(CacheRedisUrlTest, PlainHostPort) {
  auto o = parse_redis_url("redis://10.0.0.5:6380");
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->endpoint.host, "10.0.0.5");
  EXPECT_EQ(o->endpoint.port, 6380);
  EXPECT_EQ(o->db, 0);
  EXPECT_TRUE(o->password.empty());
  EXPECT_TRUE(o->sentinels.empty());
}

TEST(CacheRedisUrlTest, DefaultPortAndDatabase) {
  auto o = parse_redis_url("redis://cache.internal/3");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->endpoint.host, "cache.internal");
  EXPECT_EQ(o->endpoint.port, 6379);
  EXPECT_EQ(o->db, 3);
  EXPECT_TRUE(parse_redis_url("redis://h/"));
}

TEST(CacheRedisUrlTest, PasswordAndUser) {
  auto o = parse_redis_url("redis://:s3cr%40t@h:1");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->password, "s3cr@t");
  EXPECT_TRUE(o->username.empty());
  o = parse_redis_url("redis://authd:pw@h:1/2");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->username, "authd");
  EXPECT_EQ(o->password, "pw");
  EXPECT_EQ(o->db, 2);
  o = parse_redis_url("redis://onlypw@h");  // no colon: a password (requirepass)
  ASSERT_TRUE(o);
  EXPECT_EQ(o->password, "onlypw");
}

TEST(CacheRedisUrlTest, Ipv6InBrackets) {
  auto o = parse_redis_url("redis://[::1]:7000");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->endpoint.host, "::1");
  EXPECT_EQ(o->endpoint.port, 7000);
  EXPECT_FALSE(parse_redis_url("redis://::1:7000"));
}

TEST(CacheRedisUrlTest, SentinelList) {
  auto o = parse_redis_url("redis-sentinel://:pw@s1:26380,s2,[::1]:5/authredis/1");
  ASSERT_TRUE(o) << o.error().message;
  ASSERT_EQ(o->sentinels.size(), 3u);
  EXPECT_EQ(o->sentinels[0].host, "s1");
  EXPECT_EQ(o->sentinels[0].port, 26380);
  EXPECT_EQ(o->sentinels[1].port, 26379);
  EXPECT_EQ(o->sentinels[2].host, "::1");
  EXPECT_EQ(o->master_name, "authredis");
  EXPECT_EQ(o->db, 1);
  EXPECT_EQ(o->password, "pw");
  EXPECT_TRUE(parse_redis_url("redis+sentinel://s1/m"));
}

TEST(CacheRedisUrlTest, Rejected) {
  for (const char* bad :
       {"", "http://h", "redis://", "redis://h:0", "redis://h:65536", "redis://h:x", "redis://h/-1",
        "redis://h/db", "redis://h?x=1", "redis://:%zz@h", "redis-sentinel://s1",
        "redis-sentinel://s1/", "redis://h:"}) {
    auto o = parse_redis_url(bad);
    EXPECT_FALSE(o) << bad;
    if (!o) {
      EXPECT_EQ(o.error().code, Errc::kInvalidArgument);
    }
  }
}

TEST(CacheRedisUrlTest, ErrorsAndDescriptionNeverShowThePassword) {
  auto bad = parse_redis_url("redis://:hunter2@h:99999");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.find("hunter2"), std::string::npos);
  auto o = parse_redis_url("redis://u:hunter2@h:1/4");
  ASSERT_TRUE(o);
  EXPECT_EQ(describe(*o), "redis://u:***@h:1/4");
  auto s = parse_redis_url("redis-sentinel://:hunter2@a:1,b:2/m");
  ASSERT_TRUE(s);
  EXPECT_EQ(describe(*s), "redis-sentinel://:***@a:1,b:2/m/0");
}

TEST(CacheRedisClientOptionsTest, InvalidOptionsAreRejectedByCreate) {
  RedisOptions o;
  o.sentinels.push_back({"127.0.0.1", 26379});  // no master name
  auto c = RedisClient::create(o);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::kInvalidArgument);
  RedisOptions t;
  t.command_timeout = std::chrono::milliseconds(0);
  EXPECT_FALSE(RedisClient::create(t));
}

TEST(CacheRedisClientOptionsTest, UnreachableServerFailsFastAndNeverThrows) {
  RedisOptions o;
  o.endpoint = {"127.0.0.1", 1};  // nothing listens on port 1
  auto c = RedisClient::create(o);
  ASSERT_TRUE(c);
  auto r = (*c)->command({"PING"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnavailable) << "at once, not after the timeout";
  EXPECT_FALSE((*c)->available());
  EXPECT_FALSE((*c)->wait_until_available(std::chrono::milliseconds(100)));
  EXPECT_NE((*c)->last_error(), "");
}

TEST(CacheRedisScriptTest, Sha1OfTheSource) {
  RedisScript s("return 1");
  EXPECT_EQ(s.sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

}  // namespace
}  // namespace authd::cache
