#include "authd/core/base64url.h"

#include <gtest/gtest.h>

namespace authd {
namespace {

TEST(Base64UrlTest, RoundTripsAllLengths) {
  std::string bytes;
  for (int n = 0; n < 70; ++n) {
    auto enc = base64url::encode(bytes);
    EXPECT_EQ(enc.find('='), std::string::npos);
    auto dec = base64url::decode(enc);
    ASSERT_TRUE(dec.has_value()) << n;
    EXPECT_EQ(*dec, bytes);
    bytes.push_back(static_cast<char>(n * 37 + 200));
  }
}

TEST(Base64UrlTest, Rfc7515Example) {
  // RFC 7515 §3.1 protected header.
  EXPECT_EQ(base64url::encode(std::string_view("{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}")),
            "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9");
}

TEST(Base64UrlTest, RejectsPadding) { EXPECT_FALSE(base64url::decode("YQ==").has_value()); }

TEST(Base64UrlTest, RejectsStandardAlphabet) {
  EXPECT_FALSE(base64url::decode("a+b/").has_value());
  EXPECT_TRUE(base64url::decode("a-b_").has_value());
}

TEST(Base64UrlTest, RejectsImpossibleLength) {
  EXPECT_FALSE(base64url::decode("abcde").has_value());
}

TEST(Base64UrlTest, RejectsNonCanonicalTrailingBits) {
  EXPECT_TRUE(base64url::decode("YQ").has_value());   // "a"
  EXPECT_FALSE(base64url::decode("YR").has_value());  // same byte, stray low bits
  EXPECT_FALSE(base64url::decode("YWJ").has_value() &&
               base64url::decode("YWJ") != std::string("ab"));
  EXPECT_FALSE(base64url::decode("YWK").has_value());
}

TEST(Base64UrlTest, RejectsWhitespace) { EXPECT_FALSE(base64url::decode("YW Jj").has_value()); }

}  // namespace
}  // namespace authd
