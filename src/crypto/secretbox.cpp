#include "authd/crypto/secretbox.h"

#include <sodium.h>

#include "authd/crypto/init.h"

namespace authd::crypto {
namespace {

static_assert(kSealKeyBytes == crypto_secretbox_KEYBYTES);
static_assert(kSealNonceBytes == crypto_secretbox_NONCEBYTES);
static_assert(kSealMacBytes == crypto_secretbox_MACBYTES);

}  // namespace

Result<std::string, Errc> seal(const Secret& key, std::string_view plaintext) {
  if (!init()) return unexpected(Errc::InitFailed);
  if (key.size() != kSealKeyBytes) return unexpected(Errc::InvalidKey);
  std::string out(kSealOverheadBytes + plaintext.size(), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  p[0] = kSealVersion;
  unsigned char* nonce = p + 1;
  randombytes_buf(nonce, kSealNonceBytes);
  crypto_secretbox_easy(nonce + kSealNonceBytes,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        nonce, key.data());
  return out;
}

Result<Secret, Errc> open(const Secret& key, std::string_view sealed) {
  if (!init()) return unexpected(Errc::InitFailed);
  if (key.size() != kSealKeyBytes) return unexpected(Errc::InvalidKey);
  if (sealed.empty()) return unexpected(Errc::Malformed);
  // The version is checked before the length so a future format with a different layout is
  // reported as what it is rather than as garbage.
  if (static_cast<std::uint8_t>(sealed[0]) != kSealVersion) {
    return unexpected(Errc::UnsupportedVersion);
  }
  if (sealed.size() < kSealOverheadBytes) return unexpected(Errc::Malformed);
  const auto* p = reinterpret_cast<const unsigned char*>(sealed.data());
  const unsigned char* nonce = p + 1;
  const unsigned char* boxed = nonce + kSealNonceBytes;
  const std::size_t boxed_len = sealed.size() - 1 - kSealNonceBytes;
  Secret plain = Secret::zeroed(boxed_len - kSealMacBytes);
  // open_easy verifies the MAC before writing anything, so a failure leaves plain all zeros.
  // A zero-length plaintext still needs a writable pointer.
  unsigned char scratch = 0;
  unsigned char* dst = plain.empty() ? &scratch : plain.data();
  if (crypto_secretbox_open_easy(dst, boxed, boxed_len, nonce, key.data()) != 0) {
    return unexpected(Errc::DecryptFailed);
  }
  return plain;
}

}  // namespace authd::crypto
