#include "authd/http/message.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace authd::http {
namespace {

TEST(ResponseTest, ErrorBodyIsTheRfc6749Shape) {
  const Response r = Response::error(400, "invalid_request", "missing \"username\"");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  const auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["error"], "invalid_request");
  EXPECT_EQ(body["error_description"], "missing \"username\"");
}

// A description may quote client input; invalid UTF-8 in it must not make the body invalid JSON
// (the replacement character stands in for the bad bytes).
TEST(ResponseTest, ErrorBodyStaysValidJsonForInvalidUtf8) {
  const Response r = Response::error(400, "invalid_request", "bad \xff\xfe byte\n");
  nlohmann::json body;
  ASSERT_NO_THROW(body = nlohmann::json::parse(r.body)) << r.body;
  EXPECT_EQ(body["error_description"], "bad \xEF\xBF\xBD\xEF\xBF\xBD byte\n");
}

// Shared headers are read like the answer's own; setting one of them gives the answer its own
// copy of the list and leaves the shared one, which other answers are sending, unchanged.
TEST(ResponseTest, SettingASharedHeaderChangesThisAnswerOnly) {
  const auto shared = share_headers({{"ETag", "\"a\""}, {"Cache-Control", "public"}});
  Response r;
  r.shared_headers = shared;
  r.set_header("X-Extra", "1");
  EXPECT_EQ(r.header("etag"), "\"a\"");
  EXPECT_TRUE(r.shared_headers) << "a new name keeps the list shared";
  r.set_header("cache-control", "no-store");
  EXPECT_FALSE(r.shared_headers);
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  EXPECT_EQ(r.header("ETag"), "\"a\"");
  EXPECT_EQ(r.headers.size(), 3u);
  EXPECT_EQ((*shared)[1].value, "public");
}

// A cookie is found by its whole name: "authd_refresh" must not read "x_authd_refresh" or a
// name without a value; the first of two wins.
TEST(RequestTest, CookieIsFoundByItsWholeName) {
  Request r;
  r.headers = {
      {"Cookie", "x_authd_refresh=no; authd_refresh; a=1;authd_refresh=yes; authd_refresh=2"}};
  EXPECT_EQ(r.cookie("authd_refresh"), "yes");
  EXPECT_EQ(r.cookie("a"), "1");
  EXPECT_EQ(r.cookie("missing"), "");
  EXPECT_EQ(Request{}.cookie("a"), "");
}

TEST(RequestTest, BearerTokenIsCaseInsensitiveAndNeverEmpty) {
  Request r;
  r.headers = {{"authorization", "bearer   abc.def"}};
  EXPECT_EQ(r.bearer_token(), "abc.def");
  r.headers = {{"Authorization", "Bearer    "}};
  EXPECT_EQ(r.bearer_token(), std::nullopt);
  r.headers = {{"Authorization", "Basic YTpi"}};
  EXPECT_EQ(r.bearer_token(), std::nullopt);
}

}  // namespace
}  // namespace authd::http
