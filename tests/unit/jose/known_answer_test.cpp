// Known-answer tests: RFC 7515 A.2/A.3, RFC 8037 A.1-A.5, RFC 7638 §3.1, byte for byte.
// The vectors live in tests/testdata/jose/ (checked against jwcrypto when they were added).

#include <gtest/gtest.h>

#include "authd/jose/jws.h"
#include "authd/jose/key.h"
#include "unit/jose/test_util.h"

namespace authd::jose {
namespace {

using testing::load_vector;

// The RFC 7515 examples predate RFC 9068: no typ, no kid, and exp = 1300819380 (2011).
constexpr std::int64_t kRfc7515Now = 1300819300;

VerifyOptions rfc_options() {
  VerifyOptions o;
  o.typ = std::nullopt;
  return o;
}

KeyLookup only(const KeyPtr& key) {
  return [key](std::string_view) { return key; };
}

KeyPtr public_key_of_vector(const nlohmann::json& v) {
  nlohmann::json jwk = v["jwk"];
  for (const char* m : {"d", "p", "q", "dp", "dq", "qi"}) jwk.erase(m);
  auto key = Key::from_jwk(jwk.dump());
  EXPECT_TRUE(key.has_value());
  return key.has_value() ? *key : nullptr;
}

TEST(JoseKnownAnswerTest, Rfc7515A2Rs256Verifies) {
  const auto v = load_vector("rfc7515_a2.json");
  const KeyPtr key = public_key_of_vector(v);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->alg(), Alg::RS256);
  const auto jws = verify_jws(v["token"].get<std::string>(), only(key), rfc_options());
  ASSERT_TRUE(jws.has_value()) << to_string(jws.error());
  EXPECT_EQ(jws->payload, v["payload"].get<std::string>());
  EXPECT_EQ(jws->header, nlohmann::json({{"alg", "RS256"}}));

  const auto jwt = verify(v["token"].get<std::string>(), only(key), kRfc7515Now, rfc_options());
  ASSERT_TRUE(jwt.has_value()) << to_string(jwt.error());
  EXPECT_EQ(jwt->claims["iss"], "joe");
  EXPECT_EQ(jwt->claims["http://example.com/is_root"], true);
}

TEST(JoseKnownAnswerTest, Rfc7515A2Rs256SignReproducesToken) {
  // RSASSA-PKCS1-v1_5 is deterministic, so the private key must give the RFC's exact bytes.
  const auto v = load_vector("rfc7515_a2.json");
  const auto key = Key::from_jwk(v["jwk"].dump());
  ASSERT_TRUE(key.has_value()) << to_string(key.error());
  ASSERT_TRUE((*key)->has_private());
  const auto token = sign_jws(**key, v["payload"].get<std::string>());
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(*token, v["token"].get<std::string>());
}

TEST(JoseKnownAnswerTest, Rfc7515A2ExpiredAfterItsExp) {
  const auto v = load_vector("rfc7515_a2.json");
  const auto res = verify(v["token"].get<std::string>(), only(public_key_of_vector(v)),
                          1300819380 + 30, rfc_options());
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::Expired);
}

TEST(JoseKnownAnswerTest, Rfc7515A3Es256Verifies) {
  const auto v = load_vector("rfc7515_a3.json");
  const KeyPtr key = public_key_of_vector(v);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->alg(), Alg::ES256);
  const auto jwt = verify(v["token"].get<std::string>(), only(key), kRfc7515Now, rfc_options());
  ASSERT_TRUE(jwt.has_value()) << to_string(jwt.error());
  EXPECT_EQ(jwt->claims["iss"], "joe");
}

TEST(JoseKnownAnswerTest, Rfc7515A3PrivateKeyVerifiesAndSignsRoundTrip) {
  // ECDSA is randomised: the RFC signature cannot be reproduced, only a fresh one checked.
  const auto v = load_vector("rfc7515_a3.json");
  const auto key = Key::from_jwk(v["jwk"].dump());
  ASSERT_TRUE(key.has_value()) << to_string(key.error());
  const auto token = sign_jws(**key, v["payload"].get<std::string>());
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(token->substr(0, token->rfind('.')),
            v["token"].get<std::string>().substr(0, v["token"].get<std::string>().rfind('.')));
  EXPECT_TRUE(verify_jws(*token, only(public_key_of_vector(v)), rfc_options()).has_value());
}

TEST(JoseKnownAnswerTest, Rfc8037A4Ed25519SignIsExact) {
  const auto v = load_vector("rfc8037_a4.json");
  const auto key = Key::from_jwk(v["jwk"].dump());
  ASSERT_TRUE(key.has_value()) << to_string(key.error());
  EXPECT_EQ((*key)->alg(), Alg::EdDSA);
  const auto token = sign_jws(**key, v["payload"].get<std::string>());
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(*token, v["token"].get<std::string>());
}

TEST(JoseKnownAnswerTest, Rfc8037A5Ed25519Verifies) {
  const auto v = load_vector("rfc8037_a4.json");
  const auto jws =
      verify_jws(v["token"].get<std::string>(), only(public_key_of_vector(v)), rfc_options());
  ASSERT_TRUE(jws.has_value()) << to_string(jws.error());
  EXPECT_EQ(jws->payload, "Example of Ed25519 signing");
}

TEST(JoseKnownAnswerTest, Rfc8037A3Ed25519Thumbprint) {
  const auto v = load_vector("rfc8037_a4.json");
  const auto key = Key::from_jwk(v["jwk"].dump());
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ((*key)->thumbprint(), v["thumbprint"].get<std::string>());
  EXPECT_EQ((*key)->kid(), v["thumbprint"].get<std::string>());  // no "kid" member
}

TEST(JoseKnownAnswerTest, Rfc7638Section31Thumbprint) {
  const auto v = load_vector("rfc7638_s3_1.json");
  ASSERT_EQ(v["thumbprint"], "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  const auto key = Key::from_jwk(v["jwk"].dump());
  ASSERT_TRUE(key.has_value()) << to_string(key.error());
  EXPECT_EQ((*key)->thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  EXPECT_EQ((*key)->kid(), "2011-04-29");  // a JWK's own kid is kept for lookup
}

TEST(JoseKnownAnswerTest, VectorsRejectedWithDefaultOptions) {
  // Defaults demand typ "at+jwt": the RFC tokens have none.
  const auto v = load_vector("rfc7515_a3.json");
  const auto res =
      verify(v["token"].get<std::string>(), only(public_key_of_vector(v)), kRfc7515Now);
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::TypMismatch);
}

}  // namespace
}  // namespace authd::jose
