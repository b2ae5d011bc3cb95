// libjwt 1.10 (Debian 12's libjwt-dev), the C library, verifying authd's access tokens.

#include <jwt.h>

#include <cerrno>

#include "integration/legacy_typ/legacy_typ_fixture.h"

namespace authd::auth::testing_support {
namespace {

struct Decoded {
  int rc = -1;
  std::string alg, aud, sub;
};

Decoded decode(const std::string& token, const std::string& pem) {
  jwt_t* jwt = nullptr;
  Decoded d;
  d.rc = jwt_decode(&jwt, token.c_str(), reinterpret_cast<const unsigned char*>(pem.data()),
                    static_cast<int>(pem.size()));
  if (d.rc == 0 && jwt != nullptr) {
    d.alg = jwt_alg_str(jwt_get_alg(jwt));
    const char* aud = jwt_get_grant(jwt, "aud");
    const char* sub = jwt_get_grant(jwt, "sub");
    d.aud = aud != nullptr ? aud : "";
    d.sub = sub != nullptr ? sub : "";
  }
  jwt_free(jwt);
  return d;
}

void refuses_at_jwt_and_accepts_jwt(LegacyTypTest& t, const std::string& pem,
                                    const std::string& alg) {
  const std::string modern = t.token_for(kModernAudience);
  EXPECT_EQ(decode(modern, pem).rc, EINVAL) << "libjwt 1.10 refuses typ at+jwt";

  const std::string legacy = t.token_for(kLegacyAudience);
  const Decoded ok = decode(legacy, pem);
  ASSERT_EQ(ok.rc, 0) << "libjwt accepts the typ JWT token";
  EXPECT_EQ(ok.alg, alg);
  EXPECT_EQ(ok.aud, kLegacyAudience);
  EXPECT_EQ(ok.sub, "svc");

  // And it did check the signature: a changed one, or another key, is refused.
  std::string tampered = legacy;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_NE(decode(tampered, pem).rc, 0);
  auto other = jose::Key::generate(alg == "RS256" ? jose::Alg::RS256 : jose::Alg::ES256);
  ASSERT_TRUE(other);
  EXPECT_NE(decode(legacy, public_pem(**other)).rc, 0);
}

TEST_P(LegacyTypTest, LibjwtRefusesAtJwtAndAcceptsTypJwtEs256) {
  refuses_at_jwt_and_accepts_jwt(*this, pem_, "ES256");
}
TEST_P(LegacyTypRs256Test, LibjwtRefusesAtJwtAndAcceptsTypJwtRs256) {
  refuses_at_jwt_and_accepts_jwt(*this, pem_, "RS256");
}

AUTHD_INSTANTIATE_LEGACY_TYP(LegacyTypTest);
AUTHD_INSTANTIATE_LEGACY_TYP(LegacyTypRs256Test);

}  // namespace
}  // namespace authd::auth::testing_support
