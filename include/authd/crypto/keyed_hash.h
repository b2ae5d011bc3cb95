#pragma once
// Keyed BLAKE2b (libsodium crypto_generichash) for storing refresh tokens as peppered hashes.

#include <cstddef>
#include <string>
#include <string_view>

#include "authd/core/result.h"
#include "authd/crypto/errc.h"
#include "authd/crypto/secret.h"

namespace authd::crypto {

/// BLAKE2b keyed with a server-side pepper, 32-byte output.
///
/// A database dump alone does not let an attacker test candidate tokens: every stored digest
/// depends on the pepper, which lives outside the database.
///
/// Move-only (it owns the key). All member functions are const and thread-safe.
class KeyedHasher {
 public:
  static constexpr std::size_t kMinKeyBytes = 32;
  static constexpr std::size_t kMaxKeyBytes = 64;  // crypto_generichash_KEYBYTES_MAX
  static constexpr std::size_t kDigestBytes = 32;  // crypto_generichash_BYTES

  /// Validating factory.
  /// @return Errc::InvalidKey unless kMinKeyBytes <= key.size() <= kMaxKeyBytes.
  static Result<KeyedHasher, Errc> create(Secret key);

  /// Precondition: kMinKeyBytes <= key.size() <= kMaxKeyBytes. A violation aborts the
  /// process, because hashing under a short or truncated pepper would silently weaken every
  /// stored token. Use create() when the key comes from outside the program.
  explicit KeyedHasher(Secret key);

  /// BLAKE2b-256(key, data): 32 raw bytes. Deterministic for a given key.
  std::string hash(std::string_view data) const;

  /// BLAKE2b-256(key, context || 0x00 || data): a digest bound to a purpose, so the same
  /// data hashed for two purposes (e.g. "refresh-token-store" and "refresh-successor") gives
  /// unrelated outputs. @p context must not contain a NUL byte (that keeps the encoding
  /// unambiguous); use fixed string literals. Returns 32 raw bytes.
  std::string derive(std::string_view context, std::string_view data) const;

 private:
  Secret key_;
};

}  // namespace authd::crypto
