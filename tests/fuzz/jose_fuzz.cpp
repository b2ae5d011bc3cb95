// The JOSE parsers and the strict verifier on untrusted bytes: the input is tried as a JWKS, a
// single JWK and a compact token (verified against fixed keys, so that signed seeds reach the
// claims checks), and as the payload of a token signed here, which puts arbitrary claims
// behind a good signature.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "authd/core/strict_json.h"
#include "authd/jose/jwks.h"
#include "authd/jose/jws.h"

namespace {

using namespace authd::jose;

constexpr std::int64_t kNow = 1800000000;

struct Fixture {
  Jwks keys;
  KeyPtr eddsa;
  VerifyOptions strict;  // authd's access tokens: issuer, audience, at+jwt
  VerifyOptions plain;   // a plain JWS: no typ, no exp required

  Fixture() {
    // The private keys of the signed seeds (jose_keys.inc); a JWKS holds public keys only, so
    // each key is read on its own.
    auto set = authd::parse_strict_json(
#include "jose_keys.inc"
    );
    if (!set) std::abort();
    std::vector<KeyPtr> all;
    for (const auto& jwk : (*set)["keys"]) {
      auto k = Key::from_jwk_object(jwk);
      if (!k) std::abort();
      if ((*k)->alg() == Alg::EdDSA) eddsa = *k;
      all.push_back(*k);
    }
    auto jwks = Jwks::from_keys(std::move(all));
    if (!jwks || !eddsa) std::abort();
    keys = std::move(*jwks);
    strict.issuer = "https://authd.test";
    strict.audience = "authd";
    plain.typ = std::nullopt;
    plain.require_exp = false;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Fixture f;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto set = Jwks::parse(text)) {
    // What a resource server publishes again must parse again, to the same kids.
    auto again = Jwks::parse(set->to_json());
    if (!again || again->size() != set->size()) std::abort();
  }
  if (auto key = Key::from_jwk(text)) {
    auto again = Key::from_jwk_object((*key)->public_jwk());
    if (!again || (*again)->thumbprint() != (*key)->thumbprint()) std::abort();
  }

  (void)verify(text, f.keys, kNow, f.strict);
  (void)verify_jws(
      text, [&](std::string_view kid) { return f.keys.find(kid); }, f.plain);

  // Arbitrary claims behind a good signature: only the claims checks can refuse them.
  if (size > 0 && size <= 4096) {
    auto token =
        sign_jws(*f.eddsa, text, {{"alg", "EdDSA"}, {"kid", "fuzz-ed"}, {"typ", "at+jwt"}});
    if (!token) std::abort();
    auto jws = verify_jws(
        *token, [&](std::string_view kid) { return f.keys.find(kid); }, f.plain);
    if (!jws || jws->payload != text) std::abort();
    (void)verify(*token, f.keys, kNow, f.strict);
  }
  return 0;
}
