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

// decode() takes 16 characters at a time where it can; every alphabet character, and every
// byte outside it, must be judged as one at a time would, wherever it falls.
TEST(Base64UrlTest, DecodesLongTextsAsOneCharacterAtATime) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string bytes;
  for (int i = 0; i < 300; ++i) bytes += static_cast<char>((i * 151 + 7) & 0xFF);
  const std::string enc = base64url::encode(bytes);
  for (char c : alphabet) EXPECT_NE(enc.find(c), std::string::npos) << c;
  EXPECT_EQ(base64url::decode(enc), bytes);
  auto twice = base64url::decode(alphabet + alphabet);
  ASSERT_TRUE(twice.has_value());
  EXPECT_EQ(base64url::encode(*twice), alphabet + alphabet);

  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const bool in_alphabet = alphabet.find(c) != std::string::npos;
    for (std::size_t pos : {std::size_t{0}, std::size_t{5}, std::size_t{15}, std::size_t{16},
                            std::size_t{31}, std::size_t{40}, enc.size() - 1}) {
      std::string t = enc;
      t[pos] = c;
      if (in_alphabet && pos != enc.size() - 1) {
        EXPECT_TRUE(base64url::decode(t).has_value()) << b << " at " << pos;
      } else if (!in_alphabet) {
        EXPECT_FALSE(base64url::decode(t).has_value()) << b << " at " << pos;
      }
    }
  }
}

TEST(Base64UrlTest, DecodeIntoWritesWhatDecodeReturns) {
  for (int n = 0; n < 100; ++n) {
    std::string bytes;
    for (int i = 0; i < n; ++i) bytes += static_cast<char>((i * 37 + n) & 0xFF);
    const std::string enc = base64url::encode(bytes);
    ASSERT_EQ(base64url::decoded_size(enc.size()), bytes.size());
    std::string out(bytes.size(), '\0');
    const auto len = base64url::decode_into(enc, reinterpret_cast<unsigned char*>(out.data()));
    ASSERT_TRUE(len.has_value()) << n;
    EXPECT_EQ(*len, bytes.size());
    EXPECT_EQ(out, bytes);
  }
  unsigned char buf[8];
  EXPECT_FALSE(base64url::decode_into("YW Jj", buf).has_value());
  EXPECT_FALSE(base64url::decode_into("YR", buf).has_value());  // non-canonical
}

TEST(Base64UrlTest, RejectsWhitespace) { EXPECT_FALSE(base64url::decode("YW Jj").has_value()); }

}  // namespace
}  // namespace authd
