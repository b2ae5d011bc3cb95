// cpp-jwt 1.4 (Debian 12's libcpp-jwt-dev, header-only), verifying authd's access tokens.

#include <jwt/jwt.hpp>
#include <system_error>

#include "integration/legacy_typ/legacy_typ_fixture.h"

namespace authd::auth::testing_support {
namespace {

struct Decoded {
  std::error_code ec;
  std::string sub, aud;
};

Decoded decode(const std::string& token, const std::string& pem, const std::string& alg,
               const std::string& audience) {
  Decoded d;
  auto obj = jwt::decode(token, jwt::params::algorithms({alg}), d.ec, jwt::params::secret(pem),
                         jwt::params::issuer("https://auth.test"), jwt::params::aud(audience),
                         jwt::params::verify(true));
  if (!d.ec) {
    d.sub = obj.payload().get_claim_value<std::string>("sub");
    d.aud = obj.payload().get_claim_value<std::string>("aud");
  }
  return d;
}

void refuses_at_jwt_and_accepts_jwt(LegacyTypTest& t, const std::string& pem,
                                    const std::string& alg) {
  const Decoded modern = decode(t.token_for(kModernAudience), pem, alg, kModernAudience);
  EXPECT_EQ(modern.ec, jwt::DecodeErrc::TypMismatch)
      << "cpp-jwt 1.4 refuses typ at+jwt: " << modern.ec.message();

  const std::string legacy = t.token_for(kLegacyAudience);
  const Decoded ok = decode(legacy, pem, alg, kLegacyAudience);
  ASSERT_FALSE(ok.ec) << "cpp-jwt accepts the typ JWT token: " << ok.ec.message();
  EXPECT_EQ(ok.sub, "svc");
  EXPECT_EQ(ok.aud, kLegacyAudience);

  // And it did check the signature and the audience.
  std::string tampered = legacy;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(decode(tampered, pem, alg, kLegacyAudience).ec);
  auto other = jose::Key::generate(alg == "RS256" ? jose::Alg::RS256 : jose::Alg::ES256);
  ASSERT_TRUE(other);
  EXPECT_TRUE(decode(legacy, public_pem(**other), alg, kLegacyAudience).ec);
  EXPECT_TRUE(decode(legacy, pem, alg, kModernAudience).ec);
}

TEST_P(LegacyTypTest, CppJwtRefusesAtJwtAndAcceptsTypJwtEs256) {
  refuses_at_jwt_and_accepts_jwt(*this, pem_, "ES256");
}
TEST_P(LegacyTypRs256Test, CppJwtRefusesAtJwtAndAcceptsTypJwtRs256) {
  refuses_at_jwt_and_accepts_jwt(*this, pem_, "RS256");
}

AUTHD_INSTANTIATE_LEGACY_TYP(LegacyTypTest);
AUTHD_INSTANTIATE_LEGACY_TYP(LegacyTypRs256Test);

}  // namespace
}  // namespace authd::auth::testing_support
