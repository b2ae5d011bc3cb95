#include "authd/crypto/secret.h"

#include <gtest/gtest.h>

#include <sstream>
#include <type_traits>
#include <utility>

namespace authd::crypto {
namespace {

// Printing or copying a Secret must not compile; these checks keep it that way.
template <class T, class = void>
struct IsStreamable : std::false_type {};
template <class T>
struct IsStreamable<T, std::void_t<decltype(std::declval<std::ostream&>() << std::declval<T>())>>
    : std::true_type {};
static_assert(!IsStreamable<const Secret&>::value, "Secret must not be printable");
static_assert(!std::is_copy_constructible_v<Secret>);
static_assert(!std::is_copy_assignable_v<Secret>);
static_assert(std::is_nothrow_move_constructible_v<Secret>);
static_assert(!std::is_convertible_v<Secret, std::string_view>);

TEST(SecretTest, HoldsCopyOfBytes) {
  const Secret s(std::string_view("k\0ey", 4));
  EXPECT_EQ(s.size(), 4u);
  EXPECT_EQ(s.view(), std::string_view("k\0ey", 4));
}

TEST(SecretTest, DefaultIsEmpty) {
  const Secret s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.view(), "");
}

TEST(SecretTest, MoveConstructionEmptiesSource) {
  Secret a("pepper-bytes");
  const unsigned char* block = a.data();
  Secret b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the point of the test
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(b.view(), "pepper-bytes");
  // The block was handed over, not copied: no second copy exists to wipe.
  EXPECT_EQ(b.data(), block);
}

TEST(SecretTest, MoveAssignmentEmptiesSourceAndReplacesTarget) {
  Secret a("first");
  Secret b("second");
  b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.view(), "first");
}

TEST(SecretTest, RandomHasRequestedSizeAndDiffers) {
  const Secret a = Secret::random(32);
  const Secret b = Secret::random(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_FALSE(a.equals(b));
}

TEST(SecretTest, EqualsComparesContents) {
  const Secret a("same");
  EXPECT_TRUE(a.equals(Secret("same")));
  EXPECT_TRUE(a.equals(std::string_view("same")));
  EXPECT_FALSE(a.equals(Secret("samf")));
  EXPECT_FALSE(a.equals(Secret("same-but-longer")));
  EXPECT_TRUE(Secret().equals(Secret()));
}

TEST(SecretTest, CloneIsIndependentCopy) {
  Secret a("original");
  Secret b = a.clone();
  EXPECT_TRUE(a.equals(b));
  EXPECT_NE(a.data(), b.data());
}

TEST(SecretTest, TruncateKeepsPrefixAndWipesTail) {
  Secret s("abcdef");
  unsigned char* block = s.data();
  s.truncate(2);
  EXPECT_EQ(s.view(), "ab");
  // Reading the still-owned block past size() is fine here: truncate keeps the allocation.
  EXPECT_EQ(block[2], 0);
  EXPECT_EQ(block[5], 0);
}

TEST(SecretTest, GTestPrinterRedacts) {
  const Secret s("hunter2");
  const std::string printed = ::testing::PrintToString(s);
  EXPECT_EQ(printed.find("hunter2"), std::string::npos);
  EXPECT_NE(printed.find("7 bytes"), std::string::npos);
}

}  // namespace
}  // namespace authd::crypto
