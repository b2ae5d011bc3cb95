// The verifier's negative suite: one test per attack or malformation, each asserting the
// exact Errc. Tokens are correctly signed unless the test is about the signature, so that
// each rejection can only come from the property under test.

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "authd/jose/jws.h"
#include "jose/fast_verify.h"
#include "unit/jose/test_util.h"

namespace authd::jose {
namespace {

using namespace testing;  // NOLINT: test helpers
using json = nlohmann::json;

class JoseJwsVerifyTest : public ::testing::TestWithParam<Alg> {
 protected:
  KeyPtr priv() const { return test_key(GetParam()); }
  KeyPtr pub() const { return public_of(priv()); }
  std::string good_token() const { return *sign(*priv(), good_claims()); }
  // verify(), and the hot path the installed verifier takes first (jose/fast_verify.h) on the
  // same token: whenever the hot path takes a token, it must reach verify()'s verdict, so
  // every case of this suite checks both.
  Result<Verified, Errc> check(const std::string& token,
                               const VerifyOptions& opts = good_options()) const {
    auto res = verify(token, lookup_for(pub()), kNow, opts);
    detail::FastVerified fast;
    if (const auto f = detail::fast_verify(token, lookup_for(pub()), kNow, opts, fast)) {
      EXPECT_EQ(f->has_value(), res.has_value()) << "the hot path disagrees";
      if (!f->has_value() && !res.has_value()) {
        EXPECT_EQ(f->error(), res.error())
            << "hot path " << to_string(f->error()) << ", verify() " << to_string(res.error());
      }
      if (f->has_value() && res.has_value()) {
        EXPECT_EQ(fast.claims.dump(), res->claims.dump());
      }
    }
    return res;
  }
  // Asserts rejection with exactly `want`.
  void expect_error(const std::string& token, Errc want,
                    const VerifyOptions& opts = good_options()) const {
    const auto res = check(token, opts);
    ASSERT_FALSE(res.has_value()) << "expected " << to_string(want);
    EXPECT_EQ(res.error(), want) << "got " << to_string(res.error()) << ", expected "
                                 << to_string(want);
  }
};

INSTANTIATE_TEST_SUITE_P(AllAlgs, JoseJwsVerifyTest, ::testing::ValuesIn(kAllAlgs),
                         [](const auto& info) { return std::string(to_string(info.param)); });

// --- baseline ---

// The suite's agreement checks (check()) would prove nothing if the hot path never ran.
TEST_P(JoseJwsVerifyTest, HotPathTakesTheUsualToken) {
  detail::FastVerified fast;
  const auto f = detail::fast_verify(good_token(), lookup_for(pub()), kNow, good_options(), fast);
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE(f->has_value());
  EXPECT_EQ(fast.claims.dump(), good_claims().dump());
}

TEST_P(JoseJwsVerifyTest, GoodTokenVerifies) {
  const auto res = check(good_token());
  ASSERT_TRUE(res.has_value()) << to_string(res.error());
  EXPECT_EQ(res->claims, good_claims());
  EXPECT_EQ(res->header["alg"], to_string(GetParam()));
  EXPECT_EQ(res->header["typ"], "at+jwt");
  EXPECT_EQ(res->key->kid(), priv()->kid());
}

TEST_P(JoseJwsVerifyTest, SignatureHasExactWireSize) {
  const std::string sig = raw_signature(good_token());
  EXPECT_EQ(sig.size(), GetParam() == Alg::RS256 ? 256u : 64u);
}

// --- signature tampering ---

TEST_P(JoseJwsVerifyTest, EveryBitFlippedInSignatureRejected) {
  const std::string token = good_token();
  const std::string sig = raw_signature(token);
  for (std::size_t bit = 0; bit < sig.size() * 8; ++bit) {
    std::string bad = sig;
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
    const auto res = check(with_signature(token, bad));
    ASSERT_FALSE(res.has_value()) << "bit " << bit;
    // Flipping a high bit of r or s can push it to >= n, caught before OpenSSL.
    if (GetParam() == Alg::ES256 && res.error() == Errc::EcdsaRangeInvalid) continue;
    ASSERT_EQ(res.error(), Errc::SignatureInvalid)
        << "bit " << bit << ": " << to_string(res.error());
  }
}

TEST_P(JoseJwsVerifyTest, TruncatedSignatureRejected) {
  const std::string token = good_token();
  const std::string sig = raw_signature(token);
  expect_error(with_signature(token, sig.substr(0, sig.size() - 1)), Errc::BadSignatureLength);
  expect_error(with_signature(token, sig.substr(0, sig.size() / 2)), Errc::BadSignatureLength);
}

TEST_P(JoseJwsVerifyTest, ExtendedSignatureRejected) {
  const std::string token = good_token();
  const std::string sig = raw_signature(token);
  expect_error(with_signature(token, sig + '\0'), Errc::BadSignatureLength);
  expect_error(with_signature(token, std::string(1, '\0') + sig), Errc::BadSignatureLength);
  expect_error(with_signature(token, sig + sig), Errc::BadSignatureLength);
}

TEST_P(JoseJwsVerifyTest, EmptySignatureRejected) {
  const Parts p = split(good_token());
  expect_error(p.header + "." + p.payload + ".", Errc::BadSignatureLength);
}

TEST_P(JoseJwsVerifyTest, PayloadBitFlipRejected) {
  const Parts p = split(good_token());
  json claims = good_claims();
  claims["sub"] = "admin";
  expect_error(p.header + "." + b64(claims.dump()) + "." + p.signature, Errc::SignatureInvalid);
}

TEST_P(JoseJwsVerifyTest, OtherKeySignatureRejected) {
  // Same kid, same alg, signed by an unrelated key.
  const std::string token =
      make_token(*other_key(GetParam()), header_for(*priv()), good_claims().dump());
  expect_error(token, Errc::SignatureInvalid);
}

// --- algorithm confusion ---

TEST_P(JoseJwsVerifyTest, AlgNoneRejected) {
  CountingLookup lookup{pub()};
  for (const char* none : {"none", "None", "NONE", "nOnE"}) {
    const json header = {{"alg", none}, {"kid", pub()->kid()}, {"typ", "at+jwt"}};
    const std::string token = b64(header.dump()) + "." + b64(good_claims().dump()) + ".";
    const auto res = verify(token, lookup, kNow, good_options());
    ASSERT_FALSE(res.has_value());
    EXPECT_EQ(res.error(), Errc::AlgNone) << none;
  }
  EXPECT_EQ(lookup.calls->load(), 0);  // rejected before any key is looked up
}

TEST_P(JoseJwsVerifyTest, Hs256WithPublicKeyAsHmacSecretRejected) {
  // The classic confusion: HMAC-SHA256 keyed with the public key the verifier holds.
  const std::string secret = pub()->public_jwk().dump();
  const json header = {{"alg", "HS256"}, {"kid", pub()->kid()}, {"typ", "at+jwt"}};
  const std::string input = b64(header.dump()) + "." + b64(good_claims().dump());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  ASSERT_NE(HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                 reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len),
            nullptr);
  CountingLookup lookup{pub()};
  const auto res = verify(input + "." + b64(std::string(reinterpret_cast<char*>(mac), mac_len)),
                          lookup, kNow, good_options());
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::AlgNotAllowed);
  EXPECT_EQ(lookup.calls->load(), 0);
}

TEST_P(JoseJwsVerifyTest, UnimplementedAlgsRejected) {
  for (const char* alg : {"HS384", "HS512", "RS384", "RS512", "PS256", "ES384", "ES512", "Ed25519",
                          "rs256", "es256", "EDDSA", ""}) {
    const json header = {{"alg", alg}, {"kid", pub()->kid()}, {"typ", "at+jwt"}};
    expect_error(make_token(*priv(), header.dump(), good_claims().dump()), Errc::AlgNotAllowed);
  }
}

TEST_P(JoseJwsVerifyTest, MissingOrNonStringAlgRejected) {
  const json no_alg = {{"kid", pub()->kid()}, {"typ", "at+jwt"}};
  expect_error(make_token(*priv(), no_alg.dump(), good_claims().dump()), Errc::AlgNotAllowed);
  json num_alg = no_alg;
  num_alg["alg"] = 256;
  expect_error(make_token(*priv(), num_alg.dump(), good_claims().dump()), Errc::AlgNotAllowed);
}

TEST_P(JoseJwsVerifyTest, HeaderAlgDiffersFromKeyAlgRejected) {
  // Header claims another (allowed) algorithm than the one the key is bound to.
  for (Alg other : kAllAlgs) {
    if (other == GetParam()) continue;
    const json header = {{"alg", to_string(other)}, {"kid", pub()->kid()}, {"typ", "at+jwt"}};
    const std::string token =
        b64(header.dump()) + "." + b64(good_claims().dump()) + "." + b64(std::string(64, 'x'));
    expect_error(token, Errc::AlgKeyMismatch);
  }
}

TEST_P(JoseJwsVerifyTest, EmbeddedJwkHeaderIsNeverUsed) {
  // CVE-2018-0114 style: the attacker signs with their key and ships it in "jwk" (and points
  // jku/x5u at it). The verifier must still use only its own key for that kid.
  const KeyPtr attacker = other_key(GetParam());
  const json extra = {{"jwk", attacker->public_jwk()},
                      {"jku", "https://evil.example/jwks.json"},
                      {"x5u", "https://evil.example/cert.pem"}};
  expect_error(make_token(*attacker, header_for(*priv(), extra), good_claims().dump()),
               Errc::SignatureInvalid);
}

TEST_P(JoseJwsVerifyTest, KeySourceHeadersIgnoredOnGoodToken) {
  // Documented policy: jku/x5u/jwk/x5c are ignored, not rejected.
  const json extra = {{"jku", "https://evil.example/jwks.json"},
                      {"x5c", json::array({"MIIB"})},
                      {"jwk", other_key(GetParam())->public_jwk()}};
  const auto res = check(make_token(*priv(), header_for(*priv(), extra), good_claims().dump()));
  EXPECT_TRUE(res.has_value());
}

// --- header policy ---

TEST_P(JoseJwsVerifyTest, UnknownCritRejected) {
  json extra = {{"crit", json::array({"exp"})}, {"exp", kNow + 600}};
  expect_error(make_token(*priv(), header_for(*priv(), extra), good_claims().dump()),
               Errc::CritUnsupported);
  extra = {{"crit", json::array()}};
  expect_error(make_token(*priv(), header_for(*priv(), extra), good_claims().dump()),
               Errc::CritUnsupported);
  extra = {{"crit", "b64"}};
  expect_error(make_token(*priv(), header_for(*priv(), extra), good_claims().dump()),
               Errc::CritUnsupported);
}

TEST_P(JoseJwsVerifyTest, B64FalseRejected) {
  expect_error(make_token(*priv(), header_for(*priv(), {{"b64", false}}), good_claims().dump()),
               Errc::B64False);
  // RFC 7797 form: b64 listed in crit. Refused as an unsupported extension.
  expect_error(
      make_token(*priv(), header_for(*priv(), {{"b64", false}, {"crit", json::array({"b64"})}}),
                 good_claims().dump()),
      Errc::CritUnsupported);
  // b64 must be a boolean.
  expect_error(make_token(*priv(), header_for(*priv(), {{"b64", "false"}}), good_claims().dump()),
               Errc::BadHeaderJson);
}

TEST_P(JoseJwsVerifyTest, B64TrueAccepted) {
  EXPECT_TRUE(
      check(make_token(*priv(), header_for(*priv(), {{"b64", true}}), good_claims().dump())));
}

TEST_P(JoseJwsVerifyTest, DuplicateHeaderMemberRejected) {
  const std::string alg(to_string(GetParam()));
  const std::string kid = pub()->kid();
  // A second "alg" that a last-wins parser would believe.
  const std::string header =
      R"({"alg":")" + alg + R"(","kid":")" + kid + R"(","typ":"at+jwt","alg":"none"})";
  expect_error(make_token(*priv(), header, good_claims().dump()), Errc::DuplicateMember);
  const std::string dup_kid =
      R"({"alg":")" + alg + R"(","kid":"other","kid":")" + kid + R"(","typ":"at+jwt"})";
  expect_error(make_token(*priv(), dup_kid, good_claims().dump()), Errc::DuplicateMember);
  const std::string nested =
      R"({"alg":")" + alg + R"(","kid":")" + kid + R"(","typ":"at+jwt","x":{"a":1,"a":2}})";
  expect_error(make_token(*priv(), nested, good_claims().dump()), Errc::DuplicateMember);
}

TEST_P(JoseJwsVerifyTest, DuplicateClaimRejected) {
  const std::string claims = good_claims().dump();
  // {"aud":...,"sub":"user-42",...,"sub":"admin"}
  const std::string dup = claims.substr(0, claims.size() - 1) + R"(,"sub":"admin"})";
  expect_error(make_token(*priv(), header_for(*priv()), dup), Errc::DuplicateMember);
  // Duplicate "exp": a last-wins parser would see the later, larger one.
  const std::string dup_exp =
      claims.substr(0, claims.size() - 1) + R"(,"exp":)" + std::to_string(kNow + 999999) + "}";
  expect_error(make_token(*priv(), header_for(*priv()), dup_exp), Errc::DuplicateMember);
}

TEST_P(JoseJwsVerifyTest, NestedDuplicateClaimRejected) {
  json claims = good_claims();
  claims["roles"] = json::array({"reader"});
  std::string text = claims.dump();
  text = text.substr(0, text.size() - 1) +
         R"(,"ext":[{"tenant":"a","x":{"tenant":"b","tenant":"c"}}]})";
  expect_error(make_token(*priv(), header_for(*priv()), text), Errc::DuplicateMember);
}

TEST_P(JoseJwsVerifyTest, TooDeepJsonRejected) {
  const std::string deep = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  std::string claims = good_claims().dump();
  claims = claims.substr(0, claims.size() - 1) + R"(,"deep":)" + deep + "}";
  expect_error(make_token(*priv(), header_for(*priv()), claims), Errc::JsonTooDeep);
  // One level less fits (the claims object itself is one level).
  const std::string ok_deep =
      std::string(kMaxJsonDepth - 1, '[') + std::string(kMaxJsonDepth - 1, ']');
  claims = good_claims().dump();
  claims = claims.substr(0, claims.size() - 1) + R"(,"deep":)" + ok_deep + "}";
  EXPECT_TRUE(check(make_token(*priv(), header_for(*priv()), claims)));
}

TEST_P(JoseJwsVerifyTest, WrongTypRejected) {
  for (const char* typ :
       {"JWT", "jwt", "at+jws", "application/jwt", "application/at+jwt/x", "text/at+jwt", ""}) {
    expect_error(make_token(*priv(), header_for(*priv(), {{"typ", typ}}), good_claims().dump()),
                 Errc::TypMismatch);
  }
}

TEST_P(JoseJwsVerifyTest, MissingOrNonStringTypRejected) {
  json header = json::parse(header_for(*priv()));
  header.erase("typ");
  expect_error(make_token(*priv(), header.dump(), good_claims().dump()), Errc::TypMismatch);
  header["typ"] = 1;
  expect_error(make_token(*priv(), header.dump(), good_claims().dump()), Errc::TypMismatch);
}

TEST_P(JoseJwsVerifyTest, TypComparedCaseInsensitivelyWithOptionalPrefix) {
  for (const char* typ :
       {"at+jwt", "AT+JWT", "At+Jwt", "application/at+jwt", "Application/AT+JWT"}) {
    EXPECT_TRUE(
        check(make_token(*priv(), header_for(*priv(), {{"typ", typ}}), good_claims().dump())))
        << typ;
  }
}

TEST_P(JoseJwsVerifyTest, TypCheckCanBeDisabled) {
  VerifyOptions opts = good_options();
  opts.typ = std::nullopt;
  EXPECT_TRUE(check(
      make_token(*priv(), header_for(*priv(), {{"typ", "JWT"}}), good_claims().dump()), opts));
}

TEST_P(JoseJwsVerifyTest, HeaderNotObjectRejected) {
  expect_error(make_token(*priv(), R"(["alg","ES256"])", good_claims().dump()),
               Errc::BadHeaderJson);
  expect_error(make_token(*priv(), R"("x")", good_claims().dump()), Errc::BadHeaderJson);
}

TEST_P(JoseJwsVerifyTest, HeaderNotJsonRejected) {
  for (const char* text : {"{", "{\"alg\":}", "{'alg':'ES256'}", "{\"alg\":\"ES256\"} x",
                           "{\"alg\":\"ES256\",}", "{\"a\":\"\xff\"}"}) {
    SCOPED_TRACE(text);
    expect_error(make_token(*priv(), text, good_claims().dump()), Errc::BadHeaderJson);
  }
}

// --- kid ---

TEST_P(JoseJwsVerifyTest, OverlongKidRejected) {
  CountingLookup lookup{pub()};
  const std::string kid(kMaxKidLength + 1, 'k');
  const auto res =
      verify(make_token(*priv(), header_for(*priv(), {{"kid", kid}}), good_claims().dump()), lookup,
             kNow, good_options());
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::KidTooLong);
  EXPECT_EQ(lookup.calls->load(), 0);
  // At the cap it reaches the lookup (and is merely unknown).
  expect_error(make_token(*priv(), header_for(*priv(), {{"kid", std::string(kMaxKidLength, 'k')}}),
                          good_claims().dump()),
               Errc::UnknownKid);
}

TEST_P(JoseJwsVerifyTest, NonStringOrEmptyKidRejected) {
  expect_error(make_token(*priv(), header_for(*priv(), {{"kid", 7}}), good_claims().dump()),
               Errc::KidInvalid);
  expect_error(make_token(*priv(), header_for(*priv(), {{"kid", ""}}), good_claims().dump()),
               Errc::KidInvalid);
  expect_error(make_token(*priv(), header_for(*priv(), {{"kid", json::array({pub()->kid()})}}),
                          good_claims().dump()),
               Errc::KidInvalid);
}

TEST_P(JoseJwsVerifyTest, UnknownKidRejected) {
  expect_error(make_token(*priv(), header_for(*priv(), {{"kid", "nope"}}), good_claims().dump()),
               Errc::UnknownKid);
}

TEST_P(JoseJwsVerifyTest, MissingKidUsesOnlyKeyOfSingleKeySet) {
  json header = json::parse(header_for(*priv()));
  header.erase("kid");
  const std::string token = make_token(*priv(), header.dump(), good_claims().dump());
  const auto one = *Jwks::from_keys({pub()});
  EXPECT_TRUE(verify(token, one, kNow, good_options()).has_value());
  const auto two = *Jwks::from_keys({pub(), public_of(other_key(GetParam()))});
  const auto res = verify(token, two, kNow, good_options());
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::UnknownKid);
}

// --- shape, size and encoding ---

TEST_P(JoseJwsVerifyTest, TwoSegmentFormRejected) {
  const Parts p = split(good_token());
  expect_error(p.header + "." + p.payload, Errc::Malformed);
  expect_error(p.header + p.payload + p.signature, Errc::Malformed);
  expect_error("", Errc::Malformed);
}

TEST_P(JoseJwsVerifyTest, ExtraSegmentsRejected) {
  const std::string token = good_token();
  expect_error(token + ".", Errc::Malformed);
  expect_error(token + ".AAAA", Errc::Malformed);
  const Parts p = split(token);
  // JWE compact has five segments.
  expect_error(p.header + ".." + p.payload + ".." + p.signature, Errc::Malformed);
}

TEST_P(JoseJwsVerifyTest, JsonSerializationRejected) {
  const Parts p = split(good_token());
  const json flattened = {
      {"protected", p.header}, {"payload", p.payload}, {"signature", p.signature}};
  expect_error(flattened.dump(), Errc::Malformed);
  const json general = {
      {"payload", p.payload},
      {"signatures", json::array({{{"protected", p.header}, {"signature", p.signature}}})}};
  expect_error(general.dump(), Errc::Malformed);
}

TEST_P(JoseJwsVerifyTest, EmptyHeaderOrPayloadSegmentRejected) {
  const Parts p = split(good_token());
  expect_error("." + p.payload + "." + p.signature, Errc::Malformed);
  expect_error(p.header + ".." + p.signature, Errc::Malformed);
}

TEST_P(JoseJwsVerifyTest, BadBase64InEachSegmentRejected) {
  const Parts p = split(good_token());
  // Standard-alphabet characters, padding, whitespace, and a length of 1 mod 4.
  for (const std::string& junk : {std::string("+"), std::string("/"), std::string("="),
                                  std::string(" "), std::string("\n"), std::string("*")}) {
    expect_error(junk + p.header + "." + p.payload + "." + p.signature, Errc::BadBase64);
    expect_error(p.header + "." + p.payload + junk + "." + p.signature, Errc::BadBase64);
    expect_error(p.header + "." + p.payload + "." + p.signature + junk, Errc::BadBase64);
  }
  expect_error(p.header + "=." + p.payload + "." + p.signature, Errc::BadBase64);
  expect_error(p.header + "." + p.payload + "." + p.signature + "==", Errc::BadBase64);
}

TEST_P(JoseJwsVerifyTest, OversizedTokenRejected) {
  json claims = good_claims();
  claims["pad"] = std::string(kDefaultMaxTokenBytes, 'a');
  const std::string token = *sign(*priv(), claims);
  ASSERT_GT(token.size(), kDefaultMaxTokenBytes);
  CountingLookup lookup{pub()};
  const auto res = verify(token, lookup, kNow, good_options());
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::TokenTooLarge);
  EXPECT_EQ(lookup.calls->load(), 0);
  // The cap is configurable.
  VerifyOptions big = good_options();
  big.max_token_bytes = 64 * 1024;
  EXPECT_TRUE(check(token, big));
  VerifyOptions tiny = good_options();
  tiny.max_token_bytes = good_token().size() - 1;
  expect_error(good_token(), Errc::TokenTooLarge, tiny);
}

TEST_P(JoseJwsVerifyTest, OversizedHeaderRejected) {
  VerifyOptions big = good_options();
  big.max_token_bytes = 64 * 1024;
  const std::string header = header_for(*priv(), {{"pad", std::string(kMaxHeaderSegment, 'a')}});
  expect_error(make_token(*priv(), header, good_claims().dump()), Errc::HeaderTooLarge, big);
}

// --- claims ---

TEST_P(JoseJwsVerifyTest, ClaimsNotObjectRejected) {
  for (const char* payload : {"[]", "\"sub\"", "42", "null"}) {
    expect_error(make_token(*priv(), header_for(*priv()), payload), Errc::BadClaimsJson);
  }
}

TEST_P(JoseJwsVerifyTest, ClaimsNotJsonRejected) {
  for (const char* payload : {"{", "not json", "{\"exp\":1}garbage", "{\"sub\":\"\xc3\"}"}) {
    expect_error(make_token(*priv(), header_for(*priv()), payload), Errc::BadClaimsJson);
  }
}

TEST_P(JoseJwsVerifyTest, ClaimsParsedOnlyAfterSignature) {
  // A forged token with garbage claims is refused for its signature, not its claims.
  const Parts p = split(good_token());
  expect_error(p.header + "." + b64("{\"sub\":1,\"sub\":2}") + "." + p.signature,
               Errc::SignatureInvalid);
}

TEST_P(JoseJwsVerifyTest, VerifyJwsReturnsRawPayload) {
  VerifyOptions opts;
  opts.typ = std::nullopt;
  const std::string token = *sign_jws(*priv(), "not json at all", {{"kid", priv()->kid()}});
  const auto res = verify_jws(token, lookup_for(pub()), opts);
  ASSERT_TRUE(res.has_value()) << to_string(res.error());
  EXPECT_EQ(res->payload, "not json at all");
}

TEST_P(JoseJwsVerifyTest, FailuresLeaveOpenSslErrorQueueAsFound) {
  // OpenSSL queues errors per thread; a rejected token must not leave any behind for the next
  // TLS call on this thread, nor eat errors that were already there.
  ERR_clear_error();
  const std::string sig = raw_signature(good_token());
  std::string bad = sig;
  bad[5] = static_cast<char>(bad[5] ^ 0x10);
  expect_error(with_signature(good_token(), bad), Errc::SignatureInvalid);
  EXPECT_EQ(ERR_peek_error(), 0ul);
  ERR_raise(ERR_LIB_USER, 42);
  expect_error(with_signature(good_token(), bad), Errc::SignatureInvalid);
  EXPECT_EQ(ERR_GET_REASON(ERR_get_error()), 42);
  EXPECT_EQ(ERR_get_error(), 0ul);
}

TEST_P(JoseJwsVerifyTest, ConcurrentVerifyWithSharedKey) {
  // A Key is shared across threads read-only; run verifications in parallel.
  const std::string token = good_token();
  const KeyLookup lookup = lookup_for(pub());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (verify(token, lookup, kNow, good_options())) ++ok;
        if (sign(*priv(), good_claims())) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4 * 50 * 2);
}

// Time and claims checks do not depend on the algorithm: one key is enough.
class JoseJwtClaimsTest : public ::testing::Test {
 protected:
  static KeyPtr priv() { return test_key(Alg::ES256); }
  static std::string token(const json& claims) { return *sign(*priv(), claims); }
  static Result<Verified, Errc> check(const json& claims,
                                      const VerifyOptions& opts = good_options()) {
    return verify(token(claims), lookup_for(public_of(priv())), kNow, opts);
  }
  static void expect_error(const json& claims, Errc want,
                           const VerifyOptions& opts = good_options()) {
    const auto res = check(claims, opts);
    ASSERT_FALSE(res.has_value()) << "expected " << to_string(want);
    EXPECT_EQ(res.error(), want) << "got " << to_string(res.error());
  }
  static json with(const char* name, const json& value) {
    json c = good_claims();
    c[name] = value;
    return c;
  }
  static json without(const char* name) {
    json c = good_claims();
    c.erase(name);
    return c;
  }
};

TEST_F(JoseJwtClaimsTest, ExpiredRejected) {
  expect_error(with("exp", kNow - 31), Errc::Expired);
  expect_error(with("exp", kNow - 30), Errc::Expired);  // now >= exp + leeway
  expect_error(with("exp", 0), Errc::Expired);
  expect_error(with("exp", -5), Errc::Expired);
}

TEST_F(JoseJwtClaimsTest, ExpWithinLeewayAccepted) {
  EXPECT_TRUE(check(with("exp", kNow - 29)));
  EXPECT_TRUE(check(with("exp", kNow)));
  VerifyOptions strict = good_options();
  strict.leeway_s = 0;
  expect_error(with("exp", kNow), Errc::Expired, strict);
  EXPECT_TRUE(check(with("exp", kNow + 1), strict));
}

TEST_F(JoseJwtClaimsTest, NegativeLeewayCountsAsZero) {
  VerifyOptions opts = good_options();
  opts.leeway_s = -1000;
  EXPECT_TRUE(check(with("exp", kNow + 1), opts));
}

TEST_F(JoseJwtClaimsTest, FractionalDatesAccepted) {
  EXPECT_TRUE(check(with("exp", static_cast<double>(kNow) + 0.5)));
  expect_error(with("exp", static_cast<double>(kNow) - 30.5), Errc::Expired);
}

TEST_F(JoseJwtClaimsTest, NotYetValidRejected) {
  expect_error(with("nbf", kNow + 31), Errc::NotYetValid);
  EXPECT_TRUE(check(with("nbf", kNow + 30)));
}

TEST_F(JoseJwtClaimsTest, IssuedInFutureRejected) {
  expect_error(with("iat", kNow + 31), Errc::IssuedInFuture);
  EXPECT_TRUE(check(with("iat", kNow + 30)));
}

TEST_F(JoseJwtClaimsTest, NumericDatesMustBeNumbers) {
  for (const char* claim : {"exp", "nbf", "iat"}) {
    expect_error(with(claim, std::to_string(kNow + 600)), Errc::InvalidClaim);
    expect_error(with(claim, nullptr), Errc::InvalidClaim);
    expect_error(with(claim, true), Errc::InvalidClaim);
    expect_error(with(claim, json::array({kNow + 600})), Errc::InvalidClaim);
  }
}

TEST_F(JoseJwtClaimsTest, MissingExpRejected) {
  expect_error(without("exp"), Errc::MissingClaim);
  VerifyOptions opts = good_options();
  opts.require_exp = false;
  EXPECT_TRUE(check(without("exp"), opts));
}

TEST_F(JoseJwtClaimsTest, WrongIssuerRejected) {
  expect_error(with("iss", "https://evil.example.com"), Errc::IssuerMismatch);
  expect_error(with("iss", "https://auth.example.com/"), Errc::IssuerMismatch);
  expect_error(with("iss", "HTTPS://AUTH.EXAMPLE.COM"), Errc::IssuerMismatch);
  expect_error(without("iss"), Errc::MissingClaim);
  expect_error(with("iss", json::array({kIssuer})), Errc::InvalidClaim);
}

TEST_F(JoseJwtClaimsTest, WrongAudienceRejected) {
  expect_error(with("aud", "api://billing"), Errc::AudienceMismatch);
  expect_error(with("aud", json::array({"api://billing", "api://users"})), Errc::AudienceMismatch);
  expect_error(with("aud", json::array()), Errc::AudienceMismatch);
  expect_error(without("aud"), Errc::MissingClaim);
  expect_error(with("aud", 7), Errc::InvalidClaim);
  expect_error(with("aud", json::array({kAudience, 7})), Errc::InvalidClaim);
}

TEST_F(JoseJwtClaimsTest, AudienceArrayAccepted) {
  EXPECT_TRUE(check(with("aud", json::array({"api://billing", kAudience}))));
  EXPECT_TRUE(check(with("aud", json::array({kAudience}))));
}

TEST_F(JoseJwtClaimsTest, UncheckedWhenOptionsUnset) {
  VerifyOptions opts;  // no issuer, no audience
  EXPECT_TRUE(check(with("iss", "anyone"), opts));
  EXPECT_TRUE(check(without("aud"), opts));
}

TEST(JoseJwsSignTest, SignRefusesNonObjectClaims) {
  const auto res = sign(*test_key(Alg::EdDSA), json::array({1, 2}));
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::BadClaims);
}

TEST(JoseJwsSignTest, SignRefusesInvalidUtf8) {
  const auto res = sign(*test_key(Alg::EdDSA), json{{"sub", "\xff\xfe"}});
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::BadClaims);
}

TEST(JoseJwsSignTest, PublicKeyCannotSign) {
  for (Alg alg : kAllAlgs) {
    const auto res = sign(*public_of(test_key(alg)), good_claims());
    ASSERT_FALSE(res.has_value());
    EXPECT_EQ(res.error(), Errc::NoPrivateKey);
  }
}

TEST(JoseJwsSignTest, HeaderIsAlgKidTyp) {
  const KeyPtr key = test_key(Alg::ES256);
  const std::string token = *sign(*key, good_claims());
  const json header = json::parse(*base64url::decode(split(token).header));
  EXPECT_EQ(header, json({{"alg", "ES256"}, {"kid", key->kid()}, {"typ", "at+jwt"}}));
  const std::string no_typ = *sign(*key, good_claims(), "");
  EXPECT_FALSE(json::parse(*base64url::decode(split(no_typ).header)).contains("typ"));
}

TEST(JoseJwsSignTest, SignJwsRefusesOtherAlgInHeader) {
  const auto res = sign_jws(*test_key(Alg::ES256), "x", json{{"alg", "RS256"}});
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::AlgKeyMismatch);
}

// --- ES256 specifics: CVE-2022-21449 and r/s range ---

class JoseEcdsaRangeTest : public ::testing::Test {
 protected:
  static std::string order() {
    return {reinterpret_cast<const char*>(kP256OrderBytes), sizeof(kP256OrderBytes)};
  }
  static void expect_range_error(const std::string& raw_sig) {
    const KeyPtr key = public_of(test_key(Alg::ES256));
    const std::string token = *sign(*test_key(Alg::ES256), good_claims());
    const auto res = verify(with_signature(token, raw_sig), lookup_for(key), kNow, good_options());
    ASSERT_FALSE(res.has_value());
    EXPECT_EQ(res.error(), Errc::EcdsaRangeInvalid);
    // Also at the primitive level.
    const auto low = verify_bytes(*key, "anything", raw_sig);
    ASSERT_FALSE(low.has_value());
    EXPECT_EQ(low.error(), Errc::EcdsaRangeInvalid);
  }
  static constexpr unsigned char kP256OrderBytes[32] = {
      0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17,
      0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
};

TEST_F(JoseEcdsaRangeTest, PsychicSignatureRejected) {
  expect_range_error(std::string(64, '\0'));  // r = s = 0
}

TEST_F(JoseEcdsaRangeTest, ZeroROrSRejected) {
  const std::string good = raw_signature(*sign(*test_key(Alg::ES256), good_claims()));
  expect_range_error(std::string(32, '\0') + good.substr(32));
  expect_range_error(good.substr(0, 32) + std::string(32, '\0'));
}

TEST_F(JoseEcdsaRangeTest, ROrSAtLeastOrderRejected) {
  const std::string good = raw_signature(*sign(*test_key(Alg::ES256), good_claims()));
  std::string n_plus_1 = order();
  n_plus_1[31] = static_cast<char>(n_plus_1[31] + 1);
  const std::string all_ff(32, '\xff');
  for (const std::string& big : {order(), n_plus_1, all_ff}) {
    expect_range_error(big + good.substr(32));
    expect_range_error(good.substr(0, 32) + big);
  }
  // r = s = n: the "psychic" variant for implementations that reduce mod n first.
  expect_range_error(order() + order());
}

TEST_F(JoseEcdsaRangeTest, NMinusOneIsInRangeButInvalid) {
  std::string n_minus_1 = order();
  n_minus_1[31] = static_cast<char>(n_minus_1[31] - 1);
  const KeyPtr key = public_of(test_key(Alg::ES256));
  const auto res = verify_bytes(*key, "anything", n_minus_1 + n_minus_1);
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::SignatureInvalid);
}

}  // namespace
}  // namespace authd::jose
