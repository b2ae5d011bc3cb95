#pragma once
// The OpenSSL state behind a jose::Key. Internal to src/jose.

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
  EvpMdCtxPtr verify_template;  // EVP_DigestVerifyInit'ed
};

/// RS256 and ES256 hash with SHA-256; Ed25519 signs the message itself (md must be null).
inline const EVP_MD* digest_for(Alg alg) { return alg == Alg::EdDSA ? nullptr : EVP_sha256(); }

}  // namespace authd::jose::detail
