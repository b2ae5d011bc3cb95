#pragma once
// The OpenSSL state behind a jose::Key. Internal to src/jose.

#include <cstdint>

#include "authd/jose/alg.h"
#include "jose/openssl_util.h"

namespace authd::jose::detail {

/// Created once per Key and never modified afterwards, so concurrent readers are safe.
///
/// The templates exist for speed: EVP_DigestSignInit/VerifyInit cost ~3 us per call in
/// OpenSSL 3.0 (provider and algorithm fetches, under locks), which is 15% of an RSA-2048
/// verification. EVP_MD_CTX_copy_ex from an initialised template costs ~0.3 us. The copy
/// only reads the template (const source; reference counts are atomic).
struct KeyNative {
  EvpPkeyPtr pkey;
  EvpMdCtxPtr sign_template;    // EVP_DigestSignInit'ed; null for a public key
  EvpMdCtxPtr verify_template;  // EVP_DigestVerifyInit'ed; verify_bytes() uses it for Ed25519
  // RS256/ES256 only (null for Ed25519, which has no separate hash step): EVP_PKEY_verify_init'ed
  // (ES256: SHA-256 as the signature digest; RS256: PKCS#1 v1.5 padding, no digest, as
  // verify_bytes() passes the whole DigestInfo). verify_bytes() hashes itself and verifies
  // with a per-thread copy of this context, like `openssl speed`: copying the EVP_MD_CTX
  // template and freeing it again cost about 1 us per RS256 verification.
  EvpPkeyCtxPtr verify_digest_template;
  // Distinct for every KeyNative ever made: names this key in the per-thread copies (an
  // address could be reused by a later key).
  std::uint64_t id = 0;
};

/// RS256 and ES256 hash with SHA-256; Ed25519 signs the message itself (md must be null).
inline const EVP_MD* digest_for(Alg alg) { return alg == Alg::EdDSA ? nullptr : EVP_sha256(); }

}  // namespace authd::jose::detail
