#pragma once
// RAII owners for the OpenSSL handles jose uses, and a guard that keeps OpenSSL's
// thread-local error queue clean. Internal to src/jose.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include <memory>

namespace authd::jose::detail {

template <class T, void (*Free)(T*)>
struct FreeWith {
  void operator()(T* p) const noexcept { Free(p); }
};

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, FreeWith<EVP_PKEY, EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, FreeWith<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, FreeWith<EVP_MD_CTX, EVP_MD_CTX_free>>;
// Bignums here may hold private exponents or scalars: always wipe on free.
using BignumPtr = std::unique_ptr<BIGNUM, FreeWith<BIGNUM, BN_clear_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, FreeWith<ECDSA_SIG, ECDSA_SIG_free>>;
using BioPtr = std::unique_ptr<BIO, FreeWith<BIO, BIO_free_all>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, FreeWith<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, FreeWith<OSSL_PARAM, OSSL_PARAM_free>>;

/// Drops whatever OpenSSL pushed on this thread's error queue while the guard lived.
/// A failed verification pushes errors; left there, they would surface in unrelated code
/// on the same thread (e.g. the TLS layer reading ERR_get_error()).
class ErrorQueueGuard {
 public:
  ErrorQueueGuard() noexcept { ERR_set_mark(); }
  ~ErrorQueueGuard() { ERR_pop_to_mark(); }
  ErrorQueueGuard(const ErrorQueueGuard&) = delete;
  ErrorQueueGuard& operator=(const ErrorQueueGuard&) = delete;
};

}  // namespace authd::jose::detail

namespace authd::jose::detail {

/// Order n of the P-256 group, big-endian (SEC 2 v2 §2.4.2). ES256 scalars must lie in [1, n-1].
inline constexpr unsigned char kP256Order[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
inline constexpr std::size_t kP256ScalarBytes = 32;

/// True when the 32-byte big-endian `v` is in [1, n-1] for the P-256 order n.
/// Variable time: fine for signatures (public) and for the one-off check of an imported d.
inline bool p256_scalar_in_range(const unsigned char* v) noexcept {
  bool all_zero = true;
  for (std::size_t i = 0; i < kP256ScalarBytes; ++i) all_zero = all_zero && v[i] == 0;
  if (all_zero) return false;
  for (std::size_t i = 0; i < kP256ScalarBytes; ++i) {
    if (v[i] != kP256Order[i]) return v[i] < kP256Order[i];
  }
  return false;  // equal to n
}

}  // namespace authd::jose::detail
