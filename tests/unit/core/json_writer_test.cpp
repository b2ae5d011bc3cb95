#include "authd/core/json_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

namespace authd {
namespace {

using njson = nlohmann::json;

TEST(JsonWriterTest, WritesEveryMemberKindAsParsableJson) {
  json::ObjectWriter w;
  w.str("sub", "user-1").num("iat", 1'800'000'000).num("neg", -5).boolean("yes", true);
  w.str_array("roles", {"admin", "ops"}).str_array("none", {});
  ASSERT_TRUE(w.ok());
  const std::string text = w.finish();
  EXPECT_EQ(
      text,
      R"({"sub":"user-1","iat":1800000000,"neg":-5,"yes":true,"roles":["admin","ops"],"none":[]})");
  const njson parsed = njson::parse(text);
  EXPECT_EQ(parsed["roles"], njson::array({"admin", "ops"}));
}

TEST(JsonWriterTest, EmptyObject) { EXPECT_EQ(json::ObjectWriter().finish(), "{}"); }

TEST(JsonWriterTest, EscapesWhatRfc8259Requires) {
  std::string out;
  ASSERT_TRUE(json::append_quoted(out, "a\"b\\c\nd\te\x01\x1f/\x7f"));
  EXPECT_EQ(out, R"("a\"b\\c\nd\te\u0001\u001f/)"
                 "\x7f\"");
  EXPECT_EQ(njson::parse(out).get<std::string>(), "a\"b\\c\nd\te\x01\x1f/\x7f");
}

TEST(JsonWriterTest, PassesValidUtf8Through) {
  std::string out;
  const std::string s = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x91";  // é € 🔑
  ASSERT_TRUE(json::append_quoted(out, s));
  EXPECT_EQ(out, "\"" + s + "\"");
}

TEST(JsonWriterTest, RefusesInvalidUtf8AndLeavesOutputUntouched) {
  for (const std::string bad : {"\x80", "\xC0\x80", "\xC3", "\xE0\x80\x80", "\xED\xA0\x80",
                                "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "ok\xFF"}) {
    std::string out = "prefix";
    EXPECT_FALSE(json::append_quoted(out, bad)) << testing::PrintToString(bad);
    EXPECT_EQ(out, "prefix");
    json::ObjectWriter w;
    w.str("k", bad);
    EXPECT_FALSE(w.ok());
  }
}

// Differential: for random byte strings the writer agrees with nlohmann (ensure_ascii off)
// byte for byte, and refuses exactly the strings nlohmann refuses as invalid UTF-8.
TEST(JsonWriterTest, AgreesWithNlohmannOnRandomStrings) {
  std::mt19937 rng(20261202);
  const std::string alphabet_hint =
      "\"\\/\b\f\n\r\t\x01\x7f aZ\xC3\xA9\xE2\x82\xAC\xF0\x9F\x94\x91";
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    const int len = static_cast<int>(rng() % 12);
    for (int i = 0; i < len; ++i) {
      s.push_back(rng() % 2 ? alphabet_hint[rng() % alphabet_hint.size()]
                            : static_cast<char>(rng() % 256));
    }
    std::string ours;
    const bool ok = json::append_quoted(ours, s);
    std::string theirs;
    bool their_ok = true;
    try {
      theirs = njson(s).dump();
    } catch (const njson::type_error&) {
      their_ok = false;
    }
    ASSERT_EQ(ok, their_ok) << testing::PrintToString(s);
    if (ok) {
      ASSERT_EQ(ours, theirs) << testing::PrintToString(s);
    }
  }
}

TEST(JsonWriterTest, LossyQuotingReplacesEachIllFormedByteAndKeepsTheRest) {
  std::string out;
  json::append_quoted_lossy(out, "a\xFF\"b\xC3");
  EXPECT_EQ(out, "\"a\xEF\xBF\xBD\\\"b\xEF\xBF\xBD\"");
  out.clear();
  json::append_quoted_lossy(out, "caf\xC3\xA9\n");
  EXPECT_EQ(out, "\"caf\xC3\xA9\\n\"");
}

// Whatever the bytes, lossy output is one valid JSON string, and for valid UTF-8 it is exactly
// what append_quoted writes.
TEST(JsonWriterTest, LossyQuotingAlwaysParsesOnRandomStrings) {
  std::mt19937 rng(20261205);
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    const int len = static_cast<int>(rng() % 12);
    for (int i = 0; i < len; ++i) s.push_back(static_cast<char>(rng() % 256));
    std::string lossy, strict;
    json::append_quoted_lossy(lossy, s);
    const auto parsed = njson::parse(lossy, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(parsed.is_string()) << testing::PrintToString(s);
    if (json::append_quoted(strict, s)) {
      ASSERT_EQ(lossy, strict) << testing::PrintToString(s);
    }
  }
}

}  // namespace
}  // namespace authd
