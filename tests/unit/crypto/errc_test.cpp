#include "authd/crypto/errc.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace authd::crypto {
namespace {

TEST(ErrcTest, EveryValueHasADistinctName) {
  std::set<std::string_view> names;
  for (int i = static_cast<int>(Errc::InitFailed); i <= static_cast<int>(Errc::IoError); ++i) {
    const auto name = to_string(static_cast<Errc>(i));
    EXPECT_FALSE(name.empty());
    EXPECT_NE(name, "unknown") << i;
    EXPECT_TRUE(names.insert(name).second) << name;
  }
}

TEST(ErrcTest, DecryptFailedName) { EXPECT_EQ(to_string(Errc::DecryptFailed), "decrypt_failed"); }

}  // namespace
}  // namespace authd::crypto
