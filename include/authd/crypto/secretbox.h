#pragma once
// Authenticated encryption at rest (libsodium crypto_secretbox: XSalsa20-Poly1305).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "authd/core/result.h"
#include "authd/crypto/errc.h"
#include "authd/crypto/secret.h"

namespace authd::crypto {

/// Sealed format, version 1:  0x01 || nonce (24 random bytes) || secretbox(ciphertext || MAC 16).
/// The version byte lets a later build change algorithm without guessing what a blob is.
inline constexpr std::uint8_t kSealVersion = 1;
inline constexpr std::size_t kSealKeyBytes = 32;    // crypto_secretbox_KEYBYTES
inline constexpr std::size_t kSealNonceBytes = 24;  // crypto_secretbox_NONCEBYTES
inline constexpr std::size_t kSealMacBytes = 16;    // crypto_secretbox_MACBYTES
/// Size of a sealed empty plaintext; every valid blob is at least this long.
inline constexpr std::size_t kSealOverheadBytes = 1 + kSealNonceBytes + kSealMacBytes;

/// Encrypts and authenticates @p plaintext under @p key with a fresh random nonce.
/// Random 192-bit nonces make key reuse across any realistic number of messages safe.
///
/// @return plaintext.size() + kSealOverheadBytes bytes; Errc::InvalidKey unless the key is
///   exactly 32 bytes; Errc::InitFailed when libsodium is unusable. Thread-safe.
Result<std::string, Errc> seal(const Secret& key, std::string_view plaintext);

/// Decrypts a blob produced by seal().
///
/// @return the plaintext as a Secret (it is usually a private key);
///   Errc::InvalidKey unless the key is exactly 32 bytes;
///   Errc::Malformed when the blob is empty or shorter than kSealOverheadBytes;
///   Errc::UnsupportedVersion when the first byte is not kSealVersion;
///   Errc::DecryptFailed on any authentication failure (tampered data or wrong key).
/// Thread-safe.
Result<Secret, Errc> open(const Secret& key, std::string_view sealed);

}  // namespace authd::crypto
