#pragma once
// Debian 12's C and C++ JWT libraries (libjwt 1.10, cpp-jwt 1.4) against access tokens issued
// by authd's service: both refuse RFC 9068's `typ: at+jwt` and accept `typ: JWT`, which
// auth.legacy_typ_audiences gives the audiences listed there. One binary per library: their
// headers cannot share a translation unit (libjwt's `struct jwt` vs cpp-jwt's `namespace jwt`).

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <memory>
#include <string>

#include "integration/auth/service_fixture.h"

namespace authd::auth::testing_support {

inline constexpr const char* kLegacyAudience = "https://legacy.example.com";
inline constexpr const char* kModernAudience = "https://api.example.com";

// SubjectPublicKeyInfo PEM of `key`, as both libraries take verification keys.
inline std::string public_pem(const jose::Key& key) {
  auto priv = key.private_pem();
  if (!priv) return "";
  std::unique_ptr<BIO, decltype(&BIO_free)> in(
      BIO_new_mem_buf(priv->data(), static_cast<int>(priv->size())), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), &BIO_free);
  if (!pkey || !out || PEM_write_bio_PUBKEY(out.get(), pkey.get()) != 1) return "";
  char* data = nullptr;
  const long n = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// The service on SQLite with `auth.legacy_typ_audiences: [kLegacyAudience]`, a confidential
// client allowed both audiences, and the real time (the libraries check exp and nbf against
// the system clock).
class LegacyTypTest : public AuthServiceTest {
 protected:
  void SetUp() override {
    clock_.set(std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count());
    AuthServiceTest::SetUp();
    settings_.legacy_typ_audiences = {kLegacyAudience};
    build_service(nullptr);
    Client svc = add_client("svc", "svc-secret", {"client_credentials"}, {"read"});
    svc.audiences = {kLegacyAudience, kModernAudience};
    ASSERT_TRUE(tdb_->db().clients().upsert(svc));
    auto key = ring_->signing_key();
    ASSERT_TRUE(key);
    pem_ = public_pem(**key);
    ASSERT_FALSE(pem_.empty());
  }

 public:
  // A client_credentials access token for `audience`, as /oauth2/token issues it.
  std::string token_for(const std::string& audience) {
    auto svc = service_->authenticate_client({"svc", "svc-secret", "192.0.2.1"});
    EXPECT_TRUE(svc);
    if (!svc) return "";
    auto t = service_->client_credentials(*svc, "read", {audience});
    EXPECT_TRUE(t) << (t ? "" : t.error().description);
    return t ? t->access_token : "";
  }

  std::string pem_;  ///< the signing key's public PEM
};

// The same with RS256 keys.
class LegacyTypRs256Test : public LegacyTypTest {
 protected:
  void SetUp() override {
    key_settings_.alg = jose::Alg::RS256;
    LegacyTypTest::SetUp();
  }
};

}  // namespace authd::auth::testing_support

#define AUTHD_INSTANTIATE_LEGACY_TYP(suite)                                        \
  INSTANTIATE_TEST_SUITE_P(Sqlite, suite,                                          \
                           ::testing::Values(::authd::auth::testing_support::Mode{ \
                               ::authd::testing::Backend::kSqlite, false}),        \
                           ::authd::auth::testing_support::mode_name)
