// Key, JWK, JWKS and PEM: parsing, export, round trips, and every refusal.

#include "authd/jose/key.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <initializer_list>
#include <set>
#include <string_view>
#include <vector>

#include "authd/jose/jwks.h"
#include "authd/jose/jws.h"
#include "unit/jose/test_util.h"

namespace authd::jose {
namespace {

using namespace testing;  // NOLINT: test helpers
using json = nlohmann::json;

void expect_jwk_error(const std::string& text, Errc want) {
  const auto res = Key::from_jwk(text);
  ASSERT_FALSE(res.has_value()) << "expected " << to_string(want);
  EXPECT_EQ(res.error(), want) << "got " << to_string(res.error());
}
void expect_jwk_error(const json& jwk, Errc want) { expect_jwk_error(jwk.dump(), want); }

json private_jwk(Alg alg) { return *test_key(alg)->private_jwk(); }

// What `write` puts into a memory BIO, as text: "" when it fails.
template <typename Write>
std::string written_pem(Write write) {
  BIO* bio = BIO_new(BIO_s_mem());
  std::string pem;
  if (bio != nullptr && write(bio) == 1) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    pem.assign(data, static_cast<std::size_t>(len));
  }
  BIO_free(bio);
  return pem;
}

// Public members of a throwaway RSA key of `bits`, made with OpenSSL directly (our generate()
// refuses weak sizes, which is the point).
json raw_rsa_public_jwk(int bits) {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits));
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n);
  EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e);
  auto enc = [](const BIGNUM* bn) {
    std::string s(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(s.data()));
    return b64(s);
  };
  json jwk = {{"kty", "RSA"}, {"n", enc(n)}, {"e", enc(e)}};
  BN_free(n);
  BN_free(e);
  EVP_PKEY_free(pkey);
  return jwk;
}

class JoseJwkTest : public ::testing::TestWithParam<Alg> {};
INSTANTIATE_TEST_SUITE_P(AllAlgs, JoseJwkTest, ::testing::ValuesIn(kAllAlgs),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST_P(JoseJwkTest, GeneratedKeyKidIsThumbprint) {
  const auto key = Key::generate(GetParam());
  ASSERT_TRUE(key.has_value()) << to_string(key.error());
  EXPECT_EQ((*key)->alg(), GetParam());
  EXPECT_TRUE((*key)->has_private());
  EXPECT_EQ((*key)->kid(), (*key)->thumbprint());
  EXPECT_EQ((*key)->thumbprint().size(), 43u);  // base64url of 32 bytes
  EXPECT_EQ((*key)->signature_size(), GetParam() == Alg::RS256 ? 256u : 64u);
  const auto again = Key::generate(GetParam());
  ASSERT_TRUE(again.has_value());
  EXPECT_NE((*again)->kid(), (*key)->kid());
  // A fresh key signs tokens that its public half verifies.
  const std::string token = *sign(**key, good_claims());
  EXPECT_TRUE(verify(token, lookup_for(public_of(*key)), kNow, good_options()));
}

TEST_P(JoseJwkTest, JwkWithoutKidUsesThumbprint) {
  const KeyPtr key = test_key(GetParam());
  EXPECT_EQ(key->kid(), key->thumbprint());  // test_keys.json has no "kid" members
}

TEST_P(JoseJwkTest, PublicJwkHasKidAlgUseAndNoPrivateMembers) {
  const json jwk = test_key(GetParam())->public_jwk();
  EXPECT_EQ(jwk["kid"], test_key(GetParam())->kid());
  EXPECT_EQ(jwk["alg"], to_string(GetParam()));
  EXPECT_EQ(jwk["use"], "sig");
  for (const char* m : {"d", "p", "q", "dp", "dq", "qi"}) EXPECT_FALSE(jwk.contains(m)) << m;
  const char* kty = GetParam() == Alg::RS256 ? "RSA" : GetParam() == Alg::ES256 ? "EC" : "OKP";
  EXPECT_EQ(jwk["kty"], kty);
}

TEST_P(JoseJwkTest, PublicJwkRoundTrip) {
  const KeyPtr key = test_key(GetParam());
  const auto back = Key::from_jwk(key->public_jwk().dump());
  ASSERT_TRUE(back.has_value()) << to_string(back.error());
  EXPECT_FALSE((*back)->has_private());
  EXPECT_EQ((*back)->alg(), GetParam());
  EXPECT_EQ((*back)->kid(), key->kid());
  EXPECT_EQ((*back)->thumbprint(), key->thumbprint());
  EXPECT_EQ((*back)->public_jwk(), key->public_jwk());
  EXPECT_EQ((*back)->signature_size(), key->signature_size());
}

TEST_P(JoseJwkTest, PrivateJwkRoundTripSigns) {
  const KeyPtr key = test_key(GetParam());
  const auto back = Key::from_jwk(private_jwk(GetParam()).dump());
  ASSERT_TRUE(back.has_value()) << to_string(back.error());
  EXPECT_TRUE((*back)->has_private());
  EXPECT_EQ((*back)->thumbprint(), key->thumbprint());
  const std::string token = *sign(**back, good_claims());
  EXPECT_TRUE(verify(token, lookup_for(public_of(key)), kNow, good_options()));
}

TEST_P(JoseJwkTest, PublicKeyHasNoPrivateExports) {
  const KeyPtr pub = public_of(test_key(GetParam()));
  const auto pem = pub->private_pem();
  ASSERT_FALSE(pem.has_value());
  EXPECT_EQ(pem.error(), Errc::NoPrivateKey);
  const auto jwk = pub->private_jwk();
  ASSERT_FALSE(jwk.has_value());
  EXPECT_EQ(jwk.error(), Errc::NoPrivateKey);
}

TEST_P(JoseJwkTest, AlgMemberMustMatchKeyType) {
  json jwk = test_key(GetParam())->public_jwk();
  EXPECT_TRUE(Key::from_jwk(jwk.dump()).has_value());
  for (const char* alg : {"RS256", "ES256", "EdDSA", "PS256", "RS384", "ES384", "RSA-OAEP"}) {
    if (alg == to_string(GetParam())) continue;
    jwk["alg"] = alg;
    expect_jwk_error(jwk, Errc::UnsupportedKey);
  }
  jwk["alg"] = 1;
  expect_jwk_error(jwk, Errc::BadJwk);
}

TEST_P(JoseJwkTest, EncryptionKeysUnsupported) {
  json jwk = test_key(GetParam())->public_jwk();
  jwk["use"] = "enc";
  expect_jwk_error(jwk, Errc::UnsupportedKey);
  jwk.erase("use");
  jwk["key_ops"] = json::array({"encrypt", "wrapKey"});
  expect_jwk_error(jwk, Errc::UnsupportedKey);
  jwk["key_ops"] = json::array({"verify"});
  EXPECT_TRUE(Key::from_jwk(jwk.dump()).has_value());
  jwk["key_ops"] = "verify";
  expect_jwk_error(jwk, Errc::BadJwk);
}

TEST_P(JoseJwkTest, KidRules) {
  json jwk = test_key(GetParam())->public_jwk();
  jwk["kid"] = "custom-kid";
  EXPECT_EQ((*Key::from_jwk(jwk.dump()))->kid(), "custom-kid");
  jwk["kid"] = std::string(kMaxKidLength + 1, 'k');
  expect_jwk_error(jwk, Errc::KidTooLong);
  jwk["kid"] = "";
  expect_jwk_error(jwk, Errc::KidInvalid);
  jwk["kid"] = 5;
  expect_jwk_error(jwk, Errc::KidInvalid);
}

TEST_P(JoseJwkTest, DuplicateMemberRejected) {
  std::string text = test_key(GetParam())->public_jwk().dump();
  text = text.substr(0, text.size() - 1) + R"(,"kty":"RSA"})";
  expect_jwk_error(text, Errc::DuplicateMember);
}

TEST_P(JoseJwkTest, PemRoundTrip) {
  const KeyPtr key = test_key(GetParam());
  const auto pem = key->private_pem();
  ASSERT_TRUE(pem.has_value());
  EXPECT_TRUE(pem->starts_with("-----BEGIN PRIVATE KEY-----\n")) << *pem;
  const auto back = Key::from_private_pem(*pem, GetParam());
  ASSERT_TRUE(back.has_value()) << to_string(back.error());
  EXPECT_TRUE((*back)->has_private());
  EXPECT_EQ((*back)->kid(), key->kid());
  EXPECT_EQ((*back)->public_jwk(), key->public_jwk());
  const std::string token = *sign(**back, good_claims());
  EXPECT_TRUE(verify(token, lookup_for(public_of(key)), kNow, good_options()));
}

TEST_P(JoseJwkTest, PemOfOtherKeyTypeRejected) {
  const std::string pem = *test_key(GetParam())->private_pem();
  for (Alg other : kAllAlgs) {
    if (other == GetParam()) continue;
    const auto res = Key::from_private_pem(pem, other);
    ASSERT_FALSE(res.has_value());
    EXPECT_EQ(res.error(), Errc::AlgKeyMismatch);
  }
}

TEST_P(JoseJwkTest, EncryptedPemRejectedWithoutPrompt) {
  // No passphrase callback exists; encrypted PKCS#8 is refused, never prompted for.
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "prime256v1");
  const std::string pem = written_pem([pkey](BIO* bio) {
    return PEM_write_bio_PKCS8PrivateKey(bio, pkey, EVP_aes_256_cbc(), "pw", 2, nullptr, nullptr);
  });
  EVP_PKEY_free(pkey);
  ASSERT_TRUE(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
  const auto res = Key::from_private_pem(pem, GetParam());
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::BadPem);
}

TEST(JosePemTest, GarbageAndLegacyPemRejected) {
  for (const char* pem :
       {"", "not a pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}) {
    const auto res = Key::from_private_pem(pem, Alg::ES256);
    ASSERT_FALSE(res.has_value());
    EXPECT_EQ(res.error(), Errc::BadPem) << pem;
  }
  // Traditional "RSA PRIVATE KEY" (PKCS#1) is not PKCS#8.
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048});
  const std::string pem = written_pem([pkey](BIO* bio) {
    return PEM_write_bio_PrivateKey_traditional(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  });
  EVP_PKEY_free(pkey);
  ASSERT_TRUE(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
  const auto res = Key::from_private_pem(pem, Alg::RS256);
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::BadPem);
}

// A PKCS#8 PEM holding the public half of one key and the private half of another, built
// with OpenSSL directly (which writes it without complaint). Tokens signed with it would not
// verify under the kid it publishes, so it must never load. Takes (and frees) keys a and b.
std::string mismatched_pem(const char* type, std::initializer_list<const char*> public_names,
                           std::initializer_list<const char*> private_names, EVP_PKEY* a,
                           EVP_PKEY* b) {
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  std::vector<BIGNUM*> bns;
  std::vector<std::string> octets;
  octets.reserve(4);
  auto take = [&](EVP_PKEY* from, const char* name) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(from, name, &bn) == 1) {
      bns.push_back(bn);
      return OSSL_PARAM_BLD_push_BN(bld, name, bn) == 1;
    }
    std::size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(from, name, nullptr, 0, &len) != 1) return false;
    std::string& bytes = octets.emplace_back(len, '\0');
    if (EVP_PKEY_get_octet_string_param(from, name, reinterpret_cast<unsigned char*>(bytes.data()),
                                        len, &len) != 1) {
      return false;
    }
    return OSSL_PARAM_BLD_push_octet_string(bld, name, bytes.data(), len) == 1;
  };
  bool ok = true;
  if (std::string_view(type) == "EC") {
    ok = OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1;
  }
  for (const char* name : public_names) ok = ok && take(a, name);
  for (const char* name : private_names) ok = ok && take(b, name);
  OSSL_PARAM* params = ok ? OSSL_PARAM_BLD_to_param(bld) : nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* mixed = nullptr;
  if (params != nullptr && ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1) {
    EVP_PKEY_fromdata(ctx, &mixed, EVP_PKEY_KEYPAIR, params);
  }
  const std::string pem = mixed == nullptr ? "" : written_pem([mixed](BIO* bio) {
    return PEM_write_bio_PKCS8PrivateKey(bio, mixed, nullptr, nullptr, 0, nullptr, nullptr);
  });
  EVP_PKEY_free(mixed);
  EVP_PKEY_free(a);
  EVP_PKEY_free(b);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  for (BIGNUM* bn : bns) BN_clear_free(bn);
  return pem;
}

TEST(JosePemTest, EcPemWithAnotherKeysPublicHalfRejected) {
  const std::string pem =
      mismatched_pem("EC", {OSSL_PKEY_PARAM_PUB_KEY}, {OSSL_PKEY_PARAM_PRIV_KEY},
                     EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "prime256v1"),
                     EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "prime256v1"));
  ASSERT_TRUE(pem.starts_with("-----BEGIN PRIVATE KEY-----")) << pem;
  const auto res = Key::from_private_pem(pem, Alg::ES256);
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::BadPem);
}

TEST(JosePemTest, RsaPemWithAnotherKeysPrivateHalfRejected) {
  const std::string pem =
      mismatched_pem("RSA", {OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E},
                     {OSSL_PKEY_PARAM_RSA_D, OSSL_PKEY_PARAM_RSA_FACTOR1,
                      OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
                      OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
                     EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}),
                     EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}));
  ASSERT_TRUE(pem.starts_with("-----BEGIN PRIVATE KEY-----")) << pem;
  const auto res = Key::from_private_pem(pem, Alg::RS256);
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::BadPem);
}

TEST(JosePemTest, OtherCurveRejected) {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp384r1");
  const std::string pem = written_pem([pkey](BIO* bio) {
    return PEM_write_bio_PKCS8PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  });
  EVP_PKEY_free(pkey);
  ASSERT_TRUE(pem.starts_with("-----BEGIN PRIVATE KEY-----")) << pem;
  const auto res = Key::from_private_pem(pem, Alg::ES256);
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::UnsupportedKey);
}

TEST(JoseKeyGenTest, RsaSizes) {
  const auto weak = Key::generate(Alg::RS256, 1024);
  ASSERT_FALSE(weak.has_value());
  EXPECT_EQ(weak.error(), Errc::WeakKey);
  const auto huge = Key::generate(Alg::RS256, 16384);
  ASSERT_FALSE(huge.has_value());
  EXPECT_EQ(huge.error(), Errc::UnsupportedKey);
  const auto k3072 = Key::generate(Alg::RS256, 3072);
  ASSERT_TRUE(k3072.has_value());
  EXPECT_EQ((*k3072)->signature_size(), 384u);
  const std::string token = *sign(**k3072, good_claims());
  EXPECT_TRUE(verify(token, lookup_for(*k3072), kNow, good_options()));
}

// --- JWK refusals, per key type ---

TEST(JoseJwkParseTest, NotJsonOrNotObject) {
  expect_jwk_error(std::string("{"), Errc::BadJwk);
  expect_jwk_error(std::string("[]"), Errc::BadJwk);
  expect_jwk_error(std::string("\"RSA\""), Errc::BadJwk);
  expect_jwk_error(std::string(kMaxJwkBytes + 1, ' '), Errc::BadJwk);
}

TEST(JoseJwkParseTest, KtyRules) {
  expect_jwk_error(json{{"n", "AQAB"}}, Errc::BadJwk);
  expect_jwk_error(json{{"kty", 1}}, Errc::BadJwk);
  expect_jwk_error(json{{"kty", "oct"}, {"k", "AAAA"}}, Errc::UnsupportedKey);
  expect_jwk_error(json{{"kty", "rsa"}}, Errc::UnsupportedKey);
}

TEST(JoseJwkParseTest, WeakRsaRejected) {
  expect_jwk_error(raw_rsa_public_jwk(1024), Errc::WeakKey);
  expect_jwk_error(raw_rsa_public_jwk(2047), Errc::WeakKey);
}

TEST(JoseJwkParseTest, RsaExponentRules) {
  json jwk = test_key(Alg::RS256)->public_jwk();
  jwk["e"] = b64(std::string("\x01", 1));  // e = 1: signature == message
  expect_jwk_error(jwk, Errc::WeakKey);
  jwk["e"] = b64(std::string("\x01\x00\x00", 3));  // even
  expect_jwk_error(jwk, Errc::WeakKey);
  jwk["e"] = b64(std::string("\x03", 1));  // small but legitimate
  EXPECT_TRUE(Key::from_jwk(jwk.dump()).has_value());
  jwk["e"] = b64(std::string(9, '\x01'));  // > 64 bits
  expect_jwk_error(jwk, Errc::UnsupportedKey);
}

TEST(JoseJwkParseTest, RsaNonMinimalIntegersRejected) {
  json jwk = test_key(Alg::RS256)->public_jwk();
  const std::string n = *base64url::decode(jwk["n"].get<std::string>());
  jwk["n"] = b64(std::string(1, '\0') + n);
  expect_jwk_error(jwk, Errc::BadJwk);
  jwk["n"] = b64(n);
  jwk["e"] = b64(std::string("\x00\x01\x00\x01", 4));
  expect_jwk_error(jwk, Errc::BadJwk);
}

TEST(JoseJwkParseTest, RsaBadMembersRejected) {
  json jwk = test_key(Alg::RS256)->public_jwk();
  json bad = jwk;
  bad.erase("n");
  expect_jwk_error(bad, Errc::BadJwk);
  bad = jwk;
  bad["n"] = 7;
  expect_jwk_error(bad, Errc::BadJwk);
  bad = jwk;
  bad["n"] = jwk["n"].get<std::string>() + "=";
  expect_jwk_error(bad, Errc::BadJwk);
  bad = jwk;
  bad["e"] = "";
  expect_jwk_error(bad, Errc::BadJwk);
  bad = jwk;
  bad["p"] = "AQAB";  // CRT member without d
  expect_jwk_error(bad, Errc::BadJwk);
}

TEST(JoseJwkParseTest, RsaPrivateNeedsCrtMembers) {
  json jwk = private_jwk(Alg::RS256);
  jwk.erase("qi");
  expect_jwk_error(jwk, Errc::UnsupportedKey);
  jwk = private_jwk(Alg::RS256);
  jwk["oth"] = json::array();
  expect_jwk_error(jwk, Errc::UnsupportedKey);
}

TEST(JoseJwkParseTest, RsaPrivateNotMatchingPublicRejected) {
  json jwk = private_jwk(Alg::RS256);
  const json other = *other_key(Alg::RS256)->private_jwk();
  jwk["n"] = other["n"];
  expect_jwk_error(jwk, Errc::BadJwk);
  jwk = private_jwk(Alg::RS256);
  jwk["d"] = other["d"];
  expect_jwk_error(jwk, Errc::BadJwk);
}

TEST(JoseJwkParseTest, EcRules) {
  const json jwk = test_key(Alg::ES256)->public_jwk();
  json bad = jwk;
  bad["crv"] = "P-384";
  expect_jwk_error(bad, Errc::UnsupportedKey);
  bad["crv"] = "secp256k1";
  expect_jwk_error(bad, Errc::UnsupportedKey);
  bad.erase("crv");
  expect_jwk_error(bad, Errc::BadJwk);
  // Shortened coordinate (leading zero dropped) is not RFC 7518 §6.2.1.2.
  bad = jwk;
  bad["x"] = b64(base64url::decode(jwk["x"].get<std::string>())->substr(1));
  expect_jwk_error(bad, Errc::BadJwk);
  bad = jwk;
  bad.erase("y");
  expect_jwk_error(bad, Errc::BadJwk);
}

TEST(JoseJwkParseTest, EcPointNotOnCurveRejected) {
  json jwk = test_key(Alg::ES256)->public_jwk();
  std::string y = *base64url::decode(jwk["y"].get<std::string>());
  y[31] = static_cast<char>(y[31] ^ 1);
  jwk["y"] = b64(y);
  expect_jwk_error(jwk, Errc::BadJwk);
  // The point at infinity cannot be written as x,y; all-zero is off the curve.
  jwk["x"] = b64(std::string(32, '\0'));
  jwk["y"] = b64(std::string(32, '\0'));
  expect_jwk_error(jwk, Errc::BadJwk);
}

TEST(JoseJwkParseTest, EcPrivateScalarRules) {
  json jwk = private_jwk(Alg::ES256);
  jwk["d"] = other_key(Alg::ES256)->private_jwk()->at("d");
  expect_jwk_error(jwk, Errc::BadJwk);  // d does not match x,y
  jwk["d"] = b64(std::string(32, '\0'));
  expect_jwk_error(jwk, Errc::BadJwk);
  jwk["d"] = b64(std::string(32, '\xff'));  // >= n
  expect_jwk_error(jwk, Errc::BadJwk);
  jwk["d"] = b64(std::string(31, '\x01'));
  expect_jwk_error(jwk, Errc::BadJwk);
}

TEST(JoseJwkParseTest, OkpRules) {
  const json jwk = test_key(Alg::EdDSA)->public_jwk();
  json bad = jwk;
  for (const char* crv : {"Ed448", "X25519", "X448"}) {
    bad["crv"] = crv;
    expect_jwk_error(bad, Errc::UnsupportedKey);
  }
  bad = jwk;
  bad["x"] = b64(std::string(31, 'x'));
  expect_jwk_error(bad, Errc::BadJwk);
  json priv = private_jwk(Alg::EdDSA);
  priv["x"] = other_key(Alg::EdDSA)->public_jwk()["x"];
  expect_jwk_error(priv, Errc::BadJwk);  // x is not the public key of d
  priv = private_jwk(Alg::EdDSA);
  priv["d"] = b64(std::string(33, 'd'));
  expect_jwk_error(priv, Errc::BadJwk);
}

// --- JWKS ---

TEST(JoseJwksTest, ParseFindAndPublish) {
  const auto built =
      Jwks::from_keys({test_key(Alg::RS256), test_key(Alg::ES256), test_key(Alg::EdDSA)});
  ASSERT_TRUE(built.has_value());
  const std::string text = built->to_json();
  EXPECT_EQ(text.find("\"d\""), std::string::npos);  // never private members
  const auto parsed = Jwks::parse(text);
  ASSERT_TRUE(parsed.has_value()) << to_string(parsed.error());
  ASSERT_EQ(parsed->size(), 3u);
  for (Alg alg : kAllAlgs) {
    const KeyPtr k = parsed->find(test_key(alg)->kid());
    ASSERT_TRUE(k);
    EXPECT_EQ(k->alg(), alg);
    EXPECT_FALSE(k->has_private());
  }
  EXPECT_FALSE(parsed->find("unknown"));
  EXPECT_FALSE(parsed->find(""));  // several keys: no guessing
  EXPECT_EQ(parsed->to_json(), text);
}

TEST(JoseJwksTest, EmptyKidFindsSingleKey) {
  const auto one = Jwks::from_keys({test_key(Alg::EdDSA)});
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->find(""), test_key(Alg::EdDSA));
  EXPECT_FALSE(Jwks().find(""));
}

TEST(JoseJwksTest, PrivateMembersRejected) {
  const json set = {{"keys", json::array({private_jwk(Alg::ES256)})}};
  const auto res = Jwks::parse(set.dump());
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::BadJwk);
}

TEST(JoseJwksTest, DuplicateKidRejected) {
  json a = test_key(Alg::ES256)->public_jwk();
  json b = other_key(Alg::ES256)->public_jwk();
  b["kid"] = a["kid"];
  auto res = Jwks::parse(json{{"keys", json::array({a, b})}}.dump());
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::DuplicateKid);
  const KeyPtr k = test_key(Alg::ES256);
  res = Jwks::from_keys({k, k});
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::DuplicateKid);
}

TEST(JoseJwksTest, UnusableKeysSkipped) {
  json enc = other_key(Alg::RS256)->public_jwk();
  enc["use"] = "enc";
  enc["kid"] = "enc-key";
  json weak = raw_rsa_public_jwk(1024);
  weak["kid"] = "weak";
  const json set = {{"keys", json::array({enc, weak, json{{"kty", "oct"}, {"kid", "hmac"}},
                                          test_key(Alg::ES256)->public_jwk()})}};
  const auto res = Jwks::parse(set.dump());
  ASSERT_TRUE(res.has_value()) << to_string(res.error());
  EXPECT_EQ(res->size(), 1u);
  EXPECT_FALSE(res->find("enc-key"));
  EXPECT_FALSE(res->find("weak"));
  EXPECT_TRUE(res->find(test_key(Alg::ES256)->kid()));
}

TEST(JoseJwksTest, MalformedKeyFailsWholeSet) {
  json bad = test_key(Alg::ES256)->public_jwk();
  bad["x"] = "!!";
  const json set = {{"keys", json::array({test_key(Alg::EdDSA)->public_jwk(), bad})}};
  const auto res = Jwks::parse(set.dump());
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::BadJwk);
}

TEST(JoseJwksTest, ShapeRules) {
  for (const char* text : {"[]", "{}", R"({"keys":{}})", R"({"keys":[1]})", "{"}) {
    const auto res = Jwks::parse(text);
    ASSERT_FALSE(res.has_value()) << text;
    EXPECT_EQ(res.error(), Errc::BadJwk) << text;
  }
  const auto dup = Jwks::parse(R"({"keys":[],"keys":[]})");
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error(), Errc::DuplicateMember);
  EXPECT_TRUE(Jwks::parse(R"({"keys":[]})").has_value());
}

TEST(JoseJwksTest, SizeCaps) {
  json keys = json::array();
  for (std::size_t i = 0; i <= kMaxJwksKeys; ++i) keys.push_back(json{{"kty", "oct"}});
  auto res = Jwks::parse(json{{"keys", keys}}.dump());
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::JwksTooLarge);
  res = Jwks::parse(std::string(kMaxJwksBytes + 1, ' '));
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error(), Errc::JwksTooLarge);
}

TEST(JoseErrcTest, EveryCodeHasADistinctName) {
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(Errc::Internal); ++i) {
    const auto name = to_string(static_cast<Errc>(i));
    EXPECT_NE(name, "unknown");
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  EXPECT_EQ(alg_from_string("ES256"), Alg::ES256);
  EXPECT_EQ(alg_from_string("none"), std::nullopt);
  EXPECT_EQ(alg_from_string("HS256"), std::nullopt);
}

}  // namespace
}  // namespace authd::jose
