// Cross-checks with implementations we did not write: PyJWT and jwcrypto (through
// interop.py). Our tokens must verify there, theirs here, and a flipped bit must fail in
// both. Skipped when /usr/bin/python3 lacks PyJWT or jwcrypto.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "authd/jose/jws.h"
#include "unit/jose/test_util.h"

namespace authd::jose {
namespace {

using namespace testing;  // NOLINT: test helpers
using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kPython = "/usr/bin/python3";

struct RunResult {
  int status = -1;
  std::vector<std::string> lines;
};

// Runs interop.py with arguments that are all our own temp paths or fixed words, so plain
// single quoting is enough.
RunResult run_interop(const std::vector<std::string>& args) {
  std::string cmd = std::string(kPython) + " '" + AUTHD_JOSE_TEST_DIR + "/interop.py'";
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>/dev/null";
  RunResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::string out;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), buf.size(), pipe) != nullptr) out += buf.data();
  const int rc = pclose(pipe);
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  std::size_t start = 0;
  while (start < out.size()) {
    const std::size_t end = out.find('\n', start);
    r.lines.push_back(out.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return r;
}

class JoseInteropTest : public ::testing::TestWithParam<Alg> {
 protected:
  void SetUp() override {
    // scripts/deps installs both libraries: their absence fails the test rather than hiding it.
    ASSERT_TRUE(fs::exists(kPython)) << kPython << " not found";
    ASSERT_EQ(std::system("/usr/bin/python3 -c 'import jwt, jwcrypto, cryptography' 2>/dev/null"),
              0)
        << "python3-jwt / python3-jwcrypto not installed (scripts/deps test)";
    // Parameterised test names contain '/'; ctest may run tests in parallel.
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '_');
    dir_ = fs::temp_directory_path() /
           ("authd_jose_interop_" + std::to_string(::getpid()) + "_" + name);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::string write(const std::string& name, const std::string& content) const {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

  // {"pyjwt": ok?, "jwcrypto": ok?} for `token` against `jwk`.
  std::pair<bool, bool> python_verifies(const json& jwk, const std::string& token) const {
    const RunResult r =
        run_interop({"verify", std::string(to_string(GetParam())), write("pub.json", jwk.dump()),
                     write("token.txt", token), kIssuer, kAudience});
    EXPECT_EQ(r.status, 0);
    bool pyjwt = false, jwcrypto = false;
    for (const auto& l : r.lines) {
      pyjwt = pyjwt || l == "pyjwt=ok";
      jwcrypto = jwcrypto || l == "jwcrypto=ok";
    }
    return {pyjwt, jwcrypto};
  }

  Result<Verified, Errc> ours(const std::string& token, const KeyPtr& key) const {
    return verify(token, lookup_for(key), kNow, good_options());
  }

  fs::path dir_;
};

INSTANTIATE_TEST_SUITE_P(AllAlgs, JoseInteropTest, ::testing::ValuesIn(kAllAlgs),
                         [](const auto& info) { return std::string(to_string(info.param)); });

std::string flip_bit(const std::string& token, std::size_t byte) {
  std::string sig = raw_signature(token);
  sig[byte % sig.size()] = static_cast<char>(sig[byte % sig.size()] ^ 0x01);
  return with_signature(token, sig);
}

TEST_P(JoseInteropTest, OurTokensVerifyInPyJwtAndJwcrypto) {
  const KeyPtr key = test_key(GetParam());
  const std::string token = *sign(*key, good_claims());
  const auto [pyjwt, jwcrypto] = python_verifies(key->public_jwk(), token);
  EXPECT_TRUE(pyjwt);
  EXPECT_TRUE(jwcrypto);
}

// This test verifies that a token authd signs verifies in PyJWT and jwcrypto against the JWKS
// document authd publishes (all three algorithms in one set, the key picked by kid), and that
// every single-bit flip of its signature is refused by both.
TEST_P(JoseInteropTest, OurTokensVerifyAgainstOurJwksAndNoBitFlipPasses) {
  std::vector<KeyPtr> published;
  for (Alg a : kAllAlgs) published.push_back(public_of(test_key(a)));
  auto jwks = Jwks::from_keys(published);
  ASSERT_TRUE(jwks);
  const std::string jwks_file = write("jwks.json", jwks->to_json());
  const std::string token_file = write("token.txt", *sign(*test_key(GetParam()), good_claims()));
  const std::string alg(to_string(GetParam()));
  const RunResult ok = run_interop({"verify-jwks", alg, jwks_file, token_file, kIssuer, kAudience});
  ASSERT_EQ(ok.status, 0);
  EXPECT_EQ(ok.lines, (std::vector<std::string>{"pyjwt=ok", "jwcrypto=ok"}));
  const RunResult flips = run_interop({"flips", alg, jwks_file, token_file, kIssuer, kAudience});
  ASSERT_EQ(flips.status, 0);
  ASSERT_EQ(flips.lines.size(), 1u);
  const std::size_t sig_bits =
      raw_signature(*sign(*test_key(GetParam()), good_claims())).size() * 8;
  EXPECT_EQ(flips.lines[0],
            "tried=" + std::to_string(sig_bits) + " pyjwt_accepted=0 jwcrypto_accepted=0");
}

TEST_P(JoseInteropTest, OurFlippedBitFailsInPyJwtAndJwcrypto) {
  const KeyPtr key = test_key(GetParam());
  const std::string bad = flip_bit(*sign(*key, good_claims()), 40);
  const auto [pyjwt, jwcrypto] = python_verifies(key->public_jwk(), bad);
  EXPECT_FALSE(pyjwt);
  EXPECT_FALSE(jwcrypto);
  EXPECT_FALSE(ours(bad, public_of(key)));
}

TEST_P(JoseInteropTest, PyJwtAndJwcryptoTokensVerifyInOurs) {
  // They sign with a key handed over in our private JWK format.
  const KeyPtr key = test_key(GetParam());
  const RunResult r = run_interop({"sign", std::string(to_string(GetParam())),
                                   write("priv.json", key->private_jwk()->dump()),
                                   write("claims.json", good_claims().dump())});
  ASSERT_EQ(r.status, 0);
  ASSERT_GE(r.lines.size(), 2u);
  const KeyPtr pub = public_of(key);
  for (int i = 0; i < 2; ++i) {
    const std::string& token = r.lines[static_cast<std::size_t>(i)];
    SCOPED_TRACE(i == 0 ? "pyjwt" : "jwcrypto");
    const auto res = ours(token, pub);
    ASSERT_TRUE(res.has_value()) << to_string(res.error()) << " " << token;
    EXPECT_EQ(res->claims, good_claims());
    // And a flipped bit fails here too, with the precise code.
    const auto bad = ours(flip_bit(token, 7), pub);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error(), Errc::SignatureInvalid);
  }
}

TEST_P(JoseInteropTest, PemLoadsInCryptographyAndItsTokensVerifyInOurs) {
  const KeyPtr key = test_key(GetParam());
  const RunResult r = run_interop({"sign-pem", std::string(to_string(GetParam())),
                                   write("key.pem", *key->private_pem()), key->kid(),
                                   write("claims.json", good_claims().dump())});
  ASSERT_EQ(r.status, 0);
  ASSERT_GE(r.lines.size(), 1u);
  const auto res = ours(r.lines[0], public_of(key));
  EXPECT_TRUE(res.has_value()) << to_string(res.error());
}

TEST_P(JoseInteropTest, JwcryptoKeysParseWithMatchingThumbprint) {
  const RunResult r = run_interop({"genkey", std::string(to_string(GetParam()))});
  ASSERT_EQ(r.status, 0);
  ASSERT_GE(r.lines.size(), 2u);
  const auto key = Key::from_jwk(r.lines[0]);
  ASSERT_TRUE(key.has_value()) << to_string(key.error());
  EXPECT_EQ((*key)->alg(), GetParam());
  EXPECT_TRUE((*key)->has_private());
  EXPECT_EQ((*key)->thumbprint(), r.lines[1]);
  // Their key, our token, their verifier.
  const std::string token = *sign(**key, good_claims());
  const auto [pyjwt, jwcrypto] = python_verifies((*key)->public_jwk(), token);
  EXPECT_TRUE(pyjwt);
  EXPECT_TRUE(jwcrypto);
}

}  // namespace
}  // namespace authd::jose
