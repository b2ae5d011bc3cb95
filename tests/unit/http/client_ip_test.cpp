#include "authd/http/client_ip.h"

#include <gtest/gtest.h>

namespace authd::http {
namespace {

TrustedProxies proxies(std::vector<std::string> cidrs) { return *TrustedProxies::parse(cidrs); }

TEST(ClientIpTest, UntrustedPeerIgnoresHeaders) {
  auto t = proxies({"10.0.0.0/8"});
  EXPECT_EQ(client_address("203.0.113.5", "198.51.100.1", "", t), "203.0.113.5");
  EXPECT_EQ(client_address("203.0.113.5", "", "for=198.51.100.1", t), "203.0.113.5");
}

TEST(ClientIpTest, NoTrustedProxiesMeansSocketPeer) {
  EXPECT_EQ(client_address("10.1.2.3", "198.51.100.1", "", TrustedProxies{}), "10.1.2.3");
}

TEST(ClientIpTest, TrustedPeerYieldsNearestUntrustedHop) {
  auto t = proxies({"10.0.0.0/8"});
  // A client may prepend anything; only hops added by our proxies count.
  EXPECT_EQ(client_address("10.0.0.1", "1.1.1.1, 198.51.100.7, 10.0.0.9", "", t), "198.51.100.7");
  EXPECT_EQ(client_address("10.0.0.1", "198.51.100.7", "", t), "198.51.100.7");
}

TEST(ClientIpTest, AllHopsTrustedGivesOutermost) {
  auto t = proxies({"10.0.0.0/8"});
  EXPECT_EQ(client_address("10.0.0.1", "10.0.0.3, 10.0.0.2", "", t), "10.0.0.3");
}

TEST(ClientIpTest, GarbageHopStopsTheWalk) {
  auto t = proxies({"10.0.0.0/8"});
  EXPECT_EQ(client_address("10.0.0.1", "198.51.100.7, not-an-ip", "", t), "10.0.0.1");
}

TEST(ClientIpTest, ForwardedHeaderWithIpv6AndPort) {
  auto t = proxies({"10.0.0.0/8", "::1"});
  EXPECT_EQ(client_address("::1", "", "for=\"[2001:db8::17]:4711\";proto=https", t),
            "2001:db8::17");
  EXPECT_EQ(client_address("10.0.0.1", "", "for=192.0.2.60;proto=http, for=10.0.0.5", t),
            "192.0.2.60");
}

TEST(ClientIpTest, CidrMatching) {
  auto t = proxies({"192.168.0.0/16", "2001:db8::/32", "127.0.0.1"});
  EXPECT_TRUE(t.contains("192.168.200.1"));
  EXPECT_FALSE(t.contains("192.169.0.1"));
  EXPECT_TRUE(t.contains("2001:db8:ffff::1"));
  EXPECT_FALSE(t.contains("2001:db9::1"));
  EXPECT_TRUE(t.contains("127.0.0.1"));
  EXPECT_FALSE(t.contains("127.0.0.2"));
  EXPECT_FALSE(t.contains("garbage"));
}

TEST(ClientIpTest, BadCidrIsReported) {
  std::string bad;
  EXPECT_FALSE(TrustedProxies::parse({"10.0.0.0/8", "10.0.0.0/40"}, &bad));
  EXPECT_EQ(bad, "10.0.0.0/40");
}

}  // namespace
}  // namespace authd::http
