// The duplicate-rejecting JSON parser behind every header, claims set and JWK.

#include "jose/strict_json.h"

#include <gtest/gtest.h>

#include "authd/jose/jws.h"

namespace authd::jose::detail {
namespace {

using json = nlohmann::json;

Errc error_of(std::string_view text) {
  const auto res = parse_strict_json(text, Errc::BadHeaderJson);
  EXPECT_FALSE(res.has_value()) << text;
  return res.has_value() ? Errc::Internal : res.error();
}

TEST(JoseStrictJsonTest, ParsesLikeNlohmann) {
  for (const char* text :
       {R"({"a":1,"b":[true,false,null,1.5,-2,"x"],"c":{"d":{}}})", "[]", "\"s\"",
        "18446744073709551615", R"({"u":"\u00e9\ud83d\ude00"})", " { \"a\" : [ 1 , 2 ] } "}) {
    const auto res = parse_strict_json(text, Errc::BadHeaderJson);
    ASSERT_TRUE(res.has_value()) << text;
    EXPECT_EQ(*res, json::parse(text)) << text;
  }
}

TEST(JoseStrictJsonTest, DuplicateAtEveryDepthRejected) {
  EXPECT_EQ(error_of(R"({"a":1,"a":1})"), Errc::DuplicateMember);
  EXPECT_EQ(error_of(R"({"a":{"b":1,"b":2}})"), Errc::DuplicateMember);
  EXPECT_EQ(error_of(R"([{"x":[{"y":1,"y":{}}]}])"), Errc::DuplicateMember);
  EXPECT_EQ(error_of(R"({"a":1,"\u0061":2})"), Errc::DuplicateMember);  // same after unescape
}

TEST(JoseStrictJsonTest, SameNameInSiblingObjectsAllowed) {
  EXPECT_TRUE(parse_strict_json(R"([{"a":1},{"a":2}])", Errc::BadHeaderJson).has_value());
  EXPECT_TRUE(parse_strict_json(R"({"a":{"a":{"a":1}}})", Errc::BadHeaderJson).has_value());
}

TEST(JoseStrictJsonTest, SyntaxErrorsUseCallersCode) {
  for (const char* text : {"", "{", "{\"a\"}", "[1,]", "{\"a\":1}}", "nul", "'x'", "{\"a\":1} // c",
                           "\"\xff\"", "1e999"}) {
    const auto res = parse_strict_json(text, Errc::BadClaimsJson);
    ASSERT_FALSE(res.has_value()) << text;
    EXPECT_EQ(res.error(), Errc::BadClaimsJson) << text;
  }
}

TEST(JoseStrictJsonTest, DepthCapped) {
  const std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(parse_strict_json(ok, Errc::BadHeaderJson).has_value());
  const std::string deep =
      std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  EXPECT_EQ(error_of(deep), Errc::JsonTooDeep);
  EXPECT_EQ(error_of(std::string(100000, '[')), Errc::JsonTooDeep);
}

}  // namespace
}  // namespace authd::jose::detail
