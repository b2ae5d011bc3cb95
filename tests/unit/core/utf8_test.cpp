// UTF-8 well-formedness and sanitizing for text from outside that is written back as JSON.

#include "authd/core/utf8.h"

#include <gtest/gtest.h>

namespace authd::utf8 {
namespace {

TEST(Utf8Test, ValidAcceptsWellFormedAndRefusesIllFormed) {
  EXPECT_TRUE(valid(""));
  EXPECT_TRUE(valid("plain ascii"));
  EXPECT_TRUE(valid("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x91"));
  EXPECT_FALSE(valid("\xC3"));              // cut
  EXPECT_FALSE(valid("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(valid("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(valid("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(valid("\xFF"));
}

// A User-Agent cut at 256 bytes in the middle of a character made GET /sessions answer 500.
TEST(Utf8Test, SanitizeNeverCutsInsideACharacter) {
  const std::string euro = "\xE2\x82\xAC";  // 3 bytes
  std::string ua;
  for (int i = 0; i < 100; ++i) ua += euro;
  for (std::size_t max = 0; max < 20; ++max) {
    const std::string out = sanitize(ua, max);
    EXPECT_TRUE(valid(out)) << max;
    EXPECT_LE(out.size(), max);
    EXPECT_EQ(out.size(), max / 3 * 3);
  }
}

TEST(Utf8Test, SanitizeReplacesIllFormedBytes) {
  EXPECT_EQ(sanitize("a\xFF"
                     "b",
                     100),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(sanitize("\xC3", 100), "\xEF\xBF\xBD");
  EXPECT_EQ(sanitize("ok", 100), "ok");
}

}  // namespace
}  // namespace authd::utf8
