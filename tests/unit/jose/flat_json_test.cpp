// The hot path's JSON reader (jose/flat_json.h) against the strict parser: every text it
// takes must be one the strict parser accepts with the same members, and everything outside
// its subset (or invalid) must be left to the strict parser.

#include "jose/flat_json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "authd/jose/jws.h"
#include "jose/strict_json.h"

namespace authd::jose {
namespace {

using detail::FlatKind;
using detail::FlatObject;
using detail::scan_flat_object;

// Taken: the strict parser agrees, member by member, and dump() is nlohmann's.
void expect_taken(const std::string& text) {
  FlatObject flat;
  ASSERT_TRUE(scan_flat_object(text, flat)) << text;
  const auto strict = detail::parse_strict_json(text, Errc::BadClaimsJson);
  ASSERT_TRUE(strict.has_value()) << text;
  ASSERT_TRUE(strict->is_object());
  EXPECT_EQ(flat.size, strict->size()) << text;
  EXPECT_EQ(flat.dump(), strict->dump()) << text;
  for (const auto& [name, value] : strict->items()) {
    const auto* v = flat.find(name);
    ASSERT_NE(v, nullptr) << name;
    if (value.is_string()) {
      EXPECT_EQ(std::string_view(v->text), value.get<std::string>());
    }
    if (value.is_number()) {
      EXPECT_EQ(static_cast<double>(v->integer), value.get<double>());
    }
  }
}

TEST(FlatJsonTest, TakesTheUsualClaims) {
  expect_taken(R"({"iss":"https://a.example","sub":"u-1","aud":"api","exp":1700000600,)"
               R"("iat":1700000000,"nbf":1700000000,"scope":"a b","jti":"x","client_id":"c"})");
  expect_taken(R"({"alg":"ES256","kid":"k1","typ":"at+jwt"})");
  expect_taken(R"({"aud":["a","b"],"n":-5,"z":0,"t":true,"f":false,"u":null,"e":[]})");
  expect_taken(" \t\r\n{ \"b\" : 1 , \"a\" : [ 1 , \"x\" ] } \n");
  expect_taken("{}");
  expect_taken(R"({"big":999999999999999999,"neg":-999999999999999999})");
}

TEST(FlatJsonTest, LeavesEverythingElseToTheStrictParser) {
  const std::vector<std::string> left = {
      "",
      "[]",
      "\"s\"",
      "\xEF\xBB\xBF{}",         // BOM
      R"({"a":1,"a":2})",       // duplicate
      R"({"a":1,"\u0061":2})",  // duplicate after unescaping
      R"({"a":"\u0041"})",      // escape
      R"({"a":"caf\u00e9"})",
      "{\"a\":\"caf\xC3\xA9\"}",  // non-ASCII
      "{\"a\":\"\xFF\"}",         // invalid UTF-8
      "{\"a\":\"x\ty\"}",         // control character
      R"({"a":1.5})",
      R"({"a":1e3})",
      R"({"a":-0})",
      R"({"a":01})",
      R"({"a":+1})",
      R"({"a":1000000000000000000})",  // 19 digits
      R"({"a":{"b":1}})",              // nested object
      R"({"a":[[1]]})",                // nested array
      R"({"a":1,})",
      R"({"a":[1,]})",
      R"({"a":tru})",
      R"({"a":1}x)",
      R"({"a":1}{})",
      R"({"a" 1})",
      R"({'a':1})",
      R"({"a":1)",
  };
  for (const auto& text : left) {
    FlatObject flat;
    EXPECT_FALSE(scan_flat_object(text, flat)) << text;
  }
}

TEST(FlatJsonTest, LeavesObjectsBeyondItsCapacityToTheStrictParser) {
  std::string many = "{";
  for (std::size_t i = 0; i <= FlatObject::kMaxMembers; ++i)
    many += (i ? ",\"m" : "\"m") + std::to_string(i) + "\":1";
  many += "}";
  FlatObject flat;
  EXPECT_FALSE(scan_flat_object(many, flat));
  std::string long_array = "{\"a\":[";
  for (std::size_t i = 0; i <= FlatObject::kMaxElements; ++i) long_array += i ? ",1" : "1";
  long_array += "]}";
  EXPECT_FALSE(scan_flat_object(long_array, flat));
}

// Strings are scanned sixteen bytes at a time where they can be: a byte outside the subset
// (an escape, a control, a non-ASCII byte) must send the text to the strict parser wherever
// it falls, and long plain strings, names included, are taken as they are.
TEST(FlatJsonTest, JudgesEveryByteOfLongStrings) {
  const std::string plain = "https://auth.example.com/tenants/acme-corp/v1?x=1&y=2";
  expect_taken(R"({")" + plain + R"(":")" + plain + R"(","aud":[")" + plain + R"("]})");
  for (const char bad : {'\\', '\x01', '\x1f', '\x7f', '\x80', '\xff'}) {
    for (std::size_t pos = 0; pos < plain.size(); ++pos) {
      std::string s = plain;
      s[pos] = bad;
      FlatObject flat;
      EXPECT_FALSE(scan_flat_object(R"({"v":")" + s + R"("})", flat)) << int(bad) << " at " << pos;
      EXPECT_FALSE(scan_flat_object(R"({")" + s + R"(":1})", flat)) << int(bad) << " at " << pos;
    }
  }
}

}  // namespace
}  // namespace authd::jose
