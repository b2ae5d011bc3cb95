#include "authd/keys/kek.h"

#include <sodium.h>

#include <utility>

#include "authd/crypto/secretbox.h"

namespace authd::keys {
namespace {

Unexpected<Error> kek_file_error(const std::string& path, crypto::Errc e) {
  return fail(Errc::kKekFile, "cannot read the key-encryption key file " + path + ": " +
                                  std::string(crypto::to_string(e)));
}

Result<crypto::Secret, Error> exact_size(const std::string& path, crypto::Secret kek) {
  // A longer file is refused rather than truncated: it is most likely some other secret.
  if (kek.size() != kKekBytes) {
    return fail(Errc::kKekFile, "the key-encryption key file " + path + " holds " +
                                    std::to_string(kek.size()) + " bytes; it must hold exactly " +
                                    std::to_string(kKekBytes) + " (base64)");
  }
  return kek;
}

}  // namespace

Result<crypto::Secret, Error> load_kek(const std::string& path,
                                       const crypto::SecretFileOptions& options) {
  auto kek = crypto::load_secret_file(path, kKekBytes, options);
  if (!kek) return kek_file_error(path, kek.error());
  return exact_size(path, std::move(kek).value());
}

Result<crypto::Secret, Error> load_or_create_kek(const std::string& path) {
  auto kek = crypto::load_or_create_secret_file(path, kKekBytes);
  if (!kek) return kek_file_error(path, kek.error());
  return exact_size(path, std::move(kek).value());
}

Result<StoredKey, Error> generate_sealed_key(jose::Alg alg, const crypto::Secret& kek) {
  auto key = jose::Key::generate(alg);
  if (!key) {
    return fail(Errc::kKeyGeneration,
                "generating a " + std::string(jose::to_string(alg)) +
                    " key failed: " + std::string(jose::to_string(key.error())));
  }
  auto pem = (*key)->private_pem();
  if (!pem) {
    return fail(Errc::kKeyGeneration,
                "exporting the new key failed: " + std::string(jose::to_string(pem.error())));
  }
  // The PEM leaves this function only sealed; the plaintext is wiped as soon as it is.
  auto sealed = crypto::seal(kek, *pem);
  sodium_memzero(pem->data(), pem->size());
  if (!sealed) {
    return fail(Errc::kKeyGeneration, "sealing the new key with the key-encryption key failed: " +
                                          std::string(crypto::to_string(sealed.error())));
  }
  StoredKey out;
  out.kid = (*key)->kid();
  out.alg = std::string(jose::to_string(alg));
  out.public_jwk = (*key)->public_jwk().dump();
  out.sealed_private = std::move(sealed).value();
  return out;
}

Result<jose::KeyPtr, Error> open_stored_key(const StoredKey& key, const crypto::Secret& kek) {
  const auto alg = jose::alg_from_string(key.alg);
  if (!alg) {
    return fail(Errc::kCorruptKey, "signing key " + key.kid + " has an unknown alg");
  }
  auto pem = crypto::open(kek, key.sealed_private);
  if (!pem) {
    if (pem.error() == crypto::Errc::DecryptFailed) {
      return fail(Errc::kWrongKek, "the key-encryption key cannot decrypt signing key " + key.kid +
                                       "; wrong KEK file?");
    }
    return fail(Errc::kCorruptKey, "signing key " + key.kid + " cannot be opened: " +
                                       std::string(crypto::to_string(pem.error())));
  }
  auto parsed = jose::Key::from_private_pem(pem->view(), *alg);
  if (!parsed) {
    return fail(Errc::kCorruptKey, "signing key " + key.kid + " does not parse: " +
                                       std::string(jose::to_string(parsed.error())));
  }
  // The kid is the key's own thumbprint: a row whose kid names another key would make
  // verifiers pick the wrong public key.
  if ((*parsed)->kid() != key.kid) {
    return fail(Errc::kCorruptKey,
                "signing key " + key.kid + " holds a different key (" + (*parsed)->kid() + ")");
  }
  return std::move(parsed).value();
}

}  // namespace authd::keys
