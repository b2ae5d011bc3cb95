// Strict JSON: what nlohmann resolves silently (duplicate members, a byte-order mark) is refused.

#include "authd/core/strict_json.h"

#include <gtest/gtest.h>

namespace authd {
namespace {

TEST(StrictJsonTest, ParsesWhatNlohmannParses) {
  auto j = parse_strict_json(R"({"a":[1,2,{"b":"c"}],"d":null})");
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["a"][2]["b"], "c");
}

// Request bodies accepted duplicate JSON members (the last won) and a BOM (issue #15).
TEST(StrictJsonTest, DuplicateMembersAndByteOrderMarkAreRefused) {
  auto dup = parse_strict_json(R"({"password":"a","password":"b"})");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error(), StrictJsonError::kDuplicateMember);
  auto nested = parse_strict_json(R"({"x":{"k":1,"k":2}})");
  ASSERT_FALSE(nested);
  EXPECT_EQ(nested.error(), StrictJsonError::kDuplicateMember);
  auto bom = parse_strict_json("\xEF\xBB\xBF{}");
  ASSERT_FALSE(bom);
  EXPECT_EQ(bom.error(), StrictJsonError::kSyntax);
}

TEST(StrictJsonTest, InvalidUtf8AndDeepNestingAreRefused) {
  EXPECT_FALSE(parse_strict_json("{\"a\":\"\xC3\"}"));
  auto deep = parse_strict_json(std::string(40, '[') + std::string(40, ']'), 32);
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error(), StrictJsonError::kTooDeep);
}

}  // namespace
}  // namespace authd
