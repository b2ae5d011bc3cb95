// Log lines: one JSON object each, whatever a field holds.

#include "authd/obs/log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace authd::log {
namespace {

// Defect: the log's own escaper passed ill-formed UTF-8 through, so a field cut mid-character
// (a User-Agent, a store message) made the whole line invalid JSON for the log pipeline.
TEST(LogTest, InvalidUtf8InAFieldStillGivesAValidJsonLine) {
  const std::string line = format_line(Level::kWarn, "http.request",
                                       {{"user_agent", std::string_view("Mozilla\xE2\x82")},
                                        {"cause", "bad \xFF byte \"quoted\"\n"},
                                        {"status", 500}},
                                       Format::kJson);
  const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(j.is_object()) << line;
  EXPECT_EQ(j["event"], "http.request");
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["user_agent"], "Mozilla\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(j["cause"], "bad \xEF\xBF\xBD byte \"quoted\"\n");
  EXPECT_EQ(j["status"], 500);
}

TEST(LogTest, TextLinesQuoteValuesWithSpacesOrQuotes) {
  const std::string line =
      format_line(Level::kInfo, "authd.started",
                  {{"public", "http://127.0.0.1:8080"}, {"note", "a b"}}, Format::kText);
  EXPECT_NE(line.find(" info authd.started public=http://127.0.0.1:8080 note=\"a b\""),
            std::string::npos)
      << line;
}

}  // namespace
}  // namespace authd::log
