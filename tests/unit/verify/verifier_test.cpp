// The verifier through the library's public API: typed claims, and the attack list (every
// refusal with its exact error), for each algorithm.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "test_util.h"

namespace authd::verify {
namespace {

using jose::testing::b64;
using jose::testing::header_for;
using jose::testing::make_token;
using jose::testing::other_key;
using jose::testing::public_of;
using jose::testing::split;
using jose::testing::test_key;
using testing::Clock;
using testing::json;
using testing::jwks_of;
using testing::kNow;
using testing::options_for;
using testing::token_for;

class VerifyApiTest : public ::testing::TestWithParam<jose::Alg> {
 protected:
  jose::KeyPtr key() const { return test_key(GetParam()); }
  Verifier verifier(Options o) const {
    return Verifier::with_jwks(std::move(o), jwks_of({public_of(test_key(jose::Alg::RS256)),
                                                      public_of(test_key(jose::Alg::ES256)),
                                                      public_of(test_key(jose::Alg::EdDSA))}));
  }
  Verifier verifier() const { return verifier(options_for(clock_)); }
  Error refused(const std::string& token) const {
    auto r = verifier().verify(token);
    EXPECT_FALSE(r.ok());
    return r.error();
  }
  Clock clock_;
};

INSTANTIATE_TEST_SUITE_P(AllAlgs, VerifyApiTest, ::testing::ValuesIn(jose::testing::kAllAlgs),
                         [](const auto& info) { return std::string(jose::to_string(info.param)); });

TEST_P(VerifyApiTest, GoodTokenGivesTypedClaims) {
  auto r = verifier().verify(token_for(*key(), kNow, {{"roles", {"admin", "user"}}}));
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  EXPECT_EQ(r->iss, testing::kIssuer);
  EXPECT_EQ(r->sub, "user-42");
  EXPECT_EQ(r->aud, std::vector<std::string>{testing::kAudience});
  EXPECT_EQ(r->client_id, "orders");
  EXPECT_EQ(r->jti, "2f6c0a4e");
  EXPECT_EQ(r->exp, kNow + 600);
  EXPECT_EQ(r->iat, kNow);
  EXPECT_EQ(r->nbf, kNow);
  EXPECT_EQ(r->kid, key()->kid());
  EXPECT_TRUE(r->has_scope("orders:write"));
  EXPECT_FALSE(r->has_scope("orders"));
  EXPECT_EQ(r->claim_json("roles"), R"(["admin","user"])");
  EXPECT_EQ(r->claim_string("client_id"), "orders");
  EXPECT_EQ(r->claim_json("tenant_id"), std::nullopt);
}

// The hot path decodes claims of up to 4 KiB in place and longer ones on the heap: a token
// of each size verifies, gives its claims, and is refused when its signature is altered.
TEST_P(VerifyApiTest, ClaimsOnEitherSideOfTheInlineBufferVerify) {
  for (std::size_t n : {std::size_t{3500}, std::size_t{4096}, std::size_t{5000}}) {
    const std::string note(n, 'x');
    const std::string token = token_for(*key(), kNow, {{"note", note}});
    auto r = verifier().verify(token);
    ASSERT_TRUE(r.ok()) << n << ": " << to_string(r.error());
    EXPECT_EQ(r->sub, "user-42");
    EXPECT_EQ(r->claim_string("note"), note);
    std::string forged = token;
    forged[forged.rfind('.') + 1] = forged[forged.rfind('.') + 1] == 'A' ? 'B' : 'A';
    EXPECT_EQ(refused(forged), Error::kBadSignature) << n;
  }
}

// This test verifies that an unsecured token (alg none) is refused before any key is used.
TEST_P(VerifyApiTest, AlgNoneRefused) {
  const std::string payload = split(token_for(*key())).payload;
  EXPECT_EQ(refused(b64(R"({"alg":"none","typ":"at+jwt"})") + "." + payload + "."),
            Error::kAlgNotAllowed);
  EXPECT_EQ(refused(b64(R"({"alg":"NoNe","typ":"at+jwt"})") + "." + payload + "."),
            Error::kAlgNotAllowed);
}

// This test verifies that HS256 keyed with the published public key (alg confusion) fails.
TEST_P(VerifyApiTest, Hs256WithThePublicKeyAsSecretRefused) {
  const std::string secret = key()->public_jwk().dump();
  const std::string input = b64(R"({"alg":"HS256","typ":"at+jwt","kid":")" + key()->kid() + "\"}") +
                            "." + split(token_for(*key())).payload;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  EXPECT_EQ(refused(input + "." + b64(std::string(reinterpret_cast<char*>(mac), len))),
            Error::kAlgNotAllowed);
}

// This test verifies that a header naming another algorithm than its key's is refused even
// when the signature is valid for the header's algorithm.
TEST_P(VerifyApiTest, HeaderAlgOfAnotherKeyTypeRefused) {
  const jose::Alg other = GetParam() == jose::Alg::ES256 ? jose::Alg::RS256 : jose::Alg::ES256;
  const json header = {{"alg", jose::to_string(other)}, {"kid", key()->kid()}, {"typ", "at+jwt"}};
  const std::string payload = *base64url::decode(split(token_for(*key())).payload);
  EXPECT_EQ(refused(make_token(*test_key(other), header.dump(), payload)), Error::kAlgKeyMismatch);
}

TEST_P(VerifyApiTest, AlgorithmOutsideTheAllowedListRefused) {
  Options o = options_for(clock_);
  o.algorithms.clear();
  for (Alg a : {Alg::RS256, Alg::ES256, Alg::EdDSA})
    if (static_cast<int>(a) != static_cast<int>(GetParam())) o.algorithms.push_back(a);
  auto r = verifier(o).verify(token_for(*key()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Error::kAlgNotAllowed);
}

TEST_P(VerifyApiTest, SignatureOfAnotherKeyRefused) {
  const json header = {
      {"alg", jose::to_string(GetParam())}, {"kid", key()->kid()}, {"typ", "at+jwt"}};
  const std::string payload = *base64url::decode(split(token_for(*key())).payload);
  EXPECT_EQ(refused(make_token(*other_key(GetParam()), header.dump(), payload)),
            Error::kBadSignature);
}

TEST_P(VerifyApiTest, TamperedPayloadRefused) {
  auto parts = split(token_for(*key()));
  std::string payload = *base64url::decode(parts.payload);
  payload.replace(payload.find("user-42"), 7, "admin-1");
  EXPECT_EQ(refused(parts.header + "." + b64(payload) + "." + parts.signature),
            Error::kBadSignature);
}

TEST_P(VerifyApiTest, WrongIssuerRefused) {
  EXPECT_EQ(refused(token_for(*key(), kNow, {{"iss", "https://evil.example"}})),
            Error::kIssuerMismatch);
}

TEST_P(VerifyApiTest, WrongAudienceRefused) {
  EXPECT_EQ(refused(token_for(*key(), kNow, {{"aud", "api://billing"}})), Error::kAudienceMismatch);
  EXPECT_EQ(refused(token_for(*key(), kNow, {{"aud", {"api://a", "api://b"}}})),
            Error::kAudienceMismatch);
}

TEST_P(VerifyApiTest, AnyConfiguredAudienceInAnArrayAccepted) {
  Options o = options_for(clock_);
  o.audiences = {"api://billing", testing::kAudience};
  EXPECT_TRUE(verifier(o).verify(token_for(*key(), kNow, {{"aud", {"x", "api://billing"}}})));
}

TEST_P(VerifyApiTest, MissingAudienceRefused) {
  auto parts = split(token_for(*key()));
  json c = json::parse(*base64url::decode(parts.payload));
  c.erase("aud");
  EXPECT_EQ(refused(make_token(*key(), header_for(*key()), c.dump())), Error::kMissingClaim);
}

TEST_P(VerifyApiTest, ExpiredRefusedAfterLeeway) {
  const std::string token = token_for(*key(), kNow - 700);  // exp = kNow - 100
  EXPECT_EQ(refused(token), Error::kExpired);
  clock_.set(kNow - 100 - 29);
  EXPECT_TRUE(verifier().verify(token)) << "within the 30 s leeway";
}

TEST_P(VerifyApiTest, NotYetValidRefused) {
  EXPECT_EQ(refused(token_for(*key(), kNow, {{"nbf", kNow + 120}})), Error::kNotYetValid);
  EXPECT_EQ(refused(token_for(*key(), kNow + 120)), Error::kNotYetValid);
}

TEST_P(VerifyApiTest, MissingKidRefusedWhenSeveralKeysArePublished) {
  const json header = {{"alg", jose::to_string(GetParam())}, {"typ", "at+jwt"}};
  const std::string payload = *base64url::decode(split(token_for(*key())).payload);
  EXPECT_EQ(refused(make_token(*key(), header.dump(), payload)), Error::kUnknownKid);
}

TEST_P(VerifyApiTest, UnknownKidRefused) {
  EXPECT_EQ(refused(token_for(*other_key(GetParam()))), Error::kUnknownKid);
}

TEST_P(VerifyApiTest, TypJwtRefusedUnlessConfigured) {
  const std::string token = token_for(*key(), kNow, json::object(), 600, "JWT");
  EXPECT_EQ(refused(token), Error::kTypMismatch);
  Options o = options_for(clock_);
  o.typ = "JWT";
  EXPECT_TRUE(verifier(o).verify(token));
}

TEST_P(VerifyApiTest, MissingSubRefused) {
  auto parts = split(token_for(*key()));
  json c = json::parse(*base64url::decode(parts.payload));
  c.erase("sub");
  EXPECT_EQ(refused(make_token(*key(), header_for(*key()), c.dump())), Error::kMissingClaim);
}

TEST_P(VerifyApiTest, CritAndEmbeddedJwkRefusedOrIgnored) {
  const std::string payload = *base64url::decode(split(token_for(*key())).payload);
  EXPECT_EQ(
      refused(make_token(*key(), header_for(*key(), {{"crit", {"exp"}}, {"exp", 1}}), payload)),
      Error::kHeaderRejected);
  // A key carried by the token is never used: signed by an attacker's key it names.
  const auto evil = other_key(GetParam());
  EXPECT_EQ(refused(make_token(*evil, header_for(*key(), {{"jwk", public_of(evil)->public_jwk()}}),
                               payload)),
            Error::kBadSignature);
}

TEST_P(VerifyApiTest, GarbageRefusedAsMalformed) {
  for (const std::string bad : {"", "abc", "a.b", "a.b.c.d", "!!.!!.!!"})
    EXPECT_EQ(refused(bad), Error::kMalformed) << bad;
  EXPECT_EQ(refused(std::string(9000, 'a')), Error::kMalformed);
}

TEST(VerifyApiStaticTest, MalformedJwksRefusesEveryTokenAsKeysUnavailable) {
  Clock clock;
  auto v = Verifier::with_jwks(options_for(clock), "{not json");
  EXPECT_FALSE(v.keys_ok());
  auto r = v.verify(token_for(*test_key(jose::Alg::ES256)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Error::kKeysUnavailable);
}

TEST(VerifyApiStaticTest, EveryErrorHasANameAndAMessageWithoutTokenText) {
  for (int e = 0; e <= static_cast<int>(Error::kInternal); ++e) {
    const auto err = static_cast<Error>(e);
    EXPECT_FALSE(to_string(err).empty());
    EXPECT_NE(message(err).find("token"), std::string_view::npos);
  }
  EXPECT_EQ(to_string(Error::kUnknownKid), "unknown_kid");
}

}  // namespace
}  // namespace authd::verify
