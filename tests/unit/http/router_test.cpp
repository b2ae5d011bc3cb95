// The router's matching rules: literal and "{name}" segments, the first registered route wins,
// HEAD is served by GET, and a path known under other methods is a 405 with their names.

#include "authd/http/router.h"

#include <gtest/gtest.h>

namespace authd::http {
namespace {

Response answer(std::string body) { return Response::text(200, std::move(body)); }

Handler says(std::string what) {
  return [what](const Request&, RequestContext&) { return answer(what); };
}

std::string which(const Router& router, std::string_view method, std::string_view path) {
  auto m = router.match(method, path);
  if (!m.route) return "none";
  Request r;
  RequestContext ctx;
  return m.route->handler(r, ctx).body;
}

TEST(RouterTest, LiteralPathsMatchExactly) {
  Router router;
  router.add("GET", "/healthz", says("healthz"));
  router.add("GET", "/.well-known/jwks.json", says("jwks"));
  router.add("GET", "/a/", says("a-slash"));
  EXPECT_EQ(which(router, "GET", "/healthz"), "healthz");
  EXPECT_EQ(which(router, "GET", "/.well-known/jwks.json"), "jwks");
  EXPECT_EQ(which(router, "GET", "/healthz/"), "none") << "a trailing slash is significant";
  EXPECT_EQ(which(router, "GET", "/a"), "none");
  EXPECT_EQ(which(router, "GET", "/a/"), "a-slash");
  EXPECT_EQ(which(router, "GET", "/HEALTHZ"), "none") << "paths are case-sensitive";
  EXPECT_EQ(which(router, "GET", ""), "none");
  EXPECT_EQ(which(router, "GET", "healthz"), "none");
}

TEST(RouterTest, PlaceholdersCaptureOneNonEmptySegment) {
  Router router;
  router.add("DELETE", "/sessions/{id}", says("one"));
  router.add("GET", "/clients/{client}/keys/{kid}", says("key"));
  auto m = router.match("DELETE", "/sessions/s-42");
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.params, (std::map<std::string, std::string>{{"id", "s-42"}}));
  m = router.match("GET", "/clients/web/keys/k1");
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.params, (std::map<std::string, std::string>{{"client", "web"}, {"kid", "k1"}}));
  EXPECT_FALSE(router.match("DELETE", "/sessions/").route) << "an empty segment is no value";
  EXPECT_FALSE(router.match("DELETE", "/sessions/a/b").route);
  EXPECT_FALSE(router.match("DELETE", "/sessions").route);
  EXPECT_FALSE(router.match("GET", "/clients/web/keys").route);
}

TEST(RouterTest, TheFirstRegisteredRouteWinsWhetherLiteralOrNot) {
  Router router;
  router.add("GET", "/sessions/{id}", says("placeholder"));
  router.add("GET", "/sessions/current", says("literal"));
  router.add("GET", "/users/me", says("me"));
  router.add("GET", "/users/{id}", says("user"));
  EXPECT_EQ(which(router, "GET", "/sessions/current"), "placeholder");
  EXPECT_EQ(which(router, "GET", "/users/me"), "me");
  EXPECT_EQ(which(router, "GET", "/users/7"), "user");
}

TEST(RouterTest, HeadIsServedByGetAndOtherMethodsAreListedInOrder) {
  Router router;
  router.add("POST", "/token", says("post"));
  router.add("GET", "/token", says("get"));
  router.add("DELETE", "/things/{id}", says("delete"));
  router.add("PUT", "/things/7", says("put"));
  EXPECT_EQ(which(router, "HEAD", "/token"), "get");
  auto m = router.match("PATCH", "/token");
  EXPECT_FALSE(m.route);
  EXPECT_TRUE(m.path_known);
  EXPECT_EQ(m.allow, "POST, GET");
  m = router.match("GET", "/things/7");
  EXPECT_FALSE(m.route);
  EXPECT_EQ(m.allow, "DELETE, PUT") << "literal and placeholder routes, in registration order";
  m = router.match("GET", "/nothing");
  EXPECT_FALSE(m.path_known);
  EXPECT_TRUE(m.allow.empty());
  EXPECT_EQ(unmatched_response(m).status, 404);
}

// A path named exactly keeps the list of every route that can match it: a placeholder route
// added after the literal one joins that list, in its place in the order.
TEST(RouterTest, APlaceholderRouteAddedLaterStillAnswersALiteralPath) {
  Router router;
  router.add("GET", "/things/7", says("seven"));
  router.add("DELETE", "/things/{id}", says("delete"));
  router.add("GET", "/things/{id}", says("thing"));
  EXPECT_EQ(which(router, "GET", "/things/7"), "seven");
  auto m = router.match("DELETE", "/things/7");
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.params, (std::map<std::string, std::string>{{"id", "7"}}));
  m = router.match("PUT", "/things/7");
  EXPECT_EQ(m.allow, "GET, DELETE, GET");
  EXPECT_EQ(which(router, "GET", "/things/8"), "thing");
}

TEST(RouterTest, ALaterMatchFillsNoParamsOfAnEarlierMiss) {
  Router router;
  router.add("POST", "/sessions/{id}", says("post"));
  router.add("GET", "/sessions/{sid}", says("get"));
  auto m = router.match("GET", "/sessions/x");
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.params, (std::map<std::string, std::string>{{"sid", "x"}}));
}

}  // namespace
}  // namespace authd::http
