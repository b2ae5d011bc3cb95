// PKCE S256, redirect-URI matching and the protocol tables.

#include <gtest/gtest.h>

#include "authd/auth/pkce.h"
#include "authd/auth/protocol.h"
#include "authd/auth/redirect_uri.h"
#include "authd/jose/alg.h"

namespace authd::auth {
namespace {

// RFC 7636 Appendix B.
constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

TEST(PkceTest, RfcExample) {
  EXPECT_EQ(pkce::s256(kVerifier), kChallenge);
  EXPECT_TRUE(pkce::matches(kChallenge, kVerifier));
}

TEST(PkceTest, WrongVerifier) {
  std::string v = kVerifier;
  v[0] = 'e';
  EXPECT_FALSE(pkce::matches(kChallenge, v));
}

TEST(PkceTest, PlainIsNotAccepted) {
  // The verifier presented as its own challenge (method plain) never matches.
  EXPECT_FALSE(pkce::matches(kVerifier, kVerifier));
}

TEST(PkceTest, VerifierShape) {
  EXPECT_FALSE(pkce::valid_verifier(std::string(42, 'a')));
  EXPECT_TRUE(pkce::valid_verifier(std::string(43, 'a')));
  EXPECT_TRUE(pkce::valid_verifier(std::string(128, '~')));
  EXPECT_FALSE(pkce::valid_verifier(std::string(129, 'a')));
  EXPECT_FALSE(pkce::valid_verifier(std::string(43, 'a') + "+"));
  EXPECT_FALSE(pkce::valid_challenge(std::string(kChallenge) + "="));
}

TEST(RedirectUriTest, ExactMatchOnly) {
  const std::vector<std::string> reg{"https://app.example/cb"};
  EXPECT_TRUE(redirect_uri::matches(reg, "https://app.example/cb"));
  EXPECT_FALSE(redirect_uri::matches(reg, "https://app.example/cb/"));
  EXPECT_FALSE(redirect_uri::matches(reg, "https://app.example/cb?x=1"));
  EXPECT_FALSE(redirect_uri::matches(reg, "https://app.example:443/cb"));
  EXPECT_FALSE(redirect_uri::matches(reg, "https://APP.example/cb"));
  EXPECT_FALSE(redirect_uri::matches(reg, ""));
}

TEST(RedirectUriTest, LoopbackAnyPort) {
  const std::vector<std::string> reg{"http://127.0.0.1/cb", "http://[::1]:8000/cb",
                                     "http://localhost:8000/cb"};
  EXPECT_TRUE(redirect_uri::matches(reg, "http://127.0.0.1:51234/cb"));
  EXPECT_TRUE(redirect_uri::matches(reg, "http://127.0.0.1/cb"));
  EXPECT_TRUE(redirect_uri::matches(reg, "http://[::1]:1/cb"));
  EXPECT_FALSE(redirect_uri::matches(reg, "http://127.0.0.1:51234/other"));
  EXPECT_FALSE(redirect_uri::matches(reg, "http://127.0.0.1:5x/cb"));
  EXPECT_FALSE(redirect_uri::matches(reg, "http://127.0.0.1.evil.example/cb"));
  EXPECT_FALSE(redirect_uri::matches(reg, "https://127.0.0.1:51234/cb"));
  // localhost only matches exactly (a resolver may point it elsewhere).
  EXPECT_TRUE(redirect_uri::matches(reg, "http://localhost:8000/cb"));
  EXPECT_FALSE(redirect_uri::matches(reg, "http://localhost:8001/cb"));
}

TEST(RedirectUriTest, Registrable) {
  EXPECT_TRUE(redirect_uri::registrable("https://app.example/cb"));
  EXPECT_TRUE(redirect_uri::registrable("http://127.0.0.1/cb"));
  EXPECT_TRUE(redirect_uri::registrable("http://localhost:3000/cb"));
  EXPECT_TRUE(redirect_uri::registrable("com.example.app:/cb"));
  EXPECT_FALSE(redirect_uri::registrable("http://app.example/cb"));
  EXPECT_FALSE(redirect_uri::registrable("https://app.example/cb#frag"));
  EXPECT_FALSE(redirect_uri::registrable("https://user@app.example/cb"));
  EXPECT_FALSE(redirect_uri::registrable("myapp:/cb"));
  EXPECT_FALSE(redirect_uri::registrable("/relative"));
}

TEST(ProtocolTest, SigningAlgsAreJoseAlgs) {
  for (auto name : protocol::kSigningAlgs) EXPECT_TRUE(jose::alg_from_string(name)) << name;
  for (auto alg : {jose::Alg::RS256, jose::Alg::ES256, jose::Alg::EdDSA})
    EXPECT_TRUE(protocol::supports(protocol::kSigningAlgs, jose::to_string(alg)));
}

}  // namespace
}  // namespace authd::auth
