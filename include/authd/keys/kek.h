#pragma once
// The key-encryption key (KEK) and sealing signing keys under it. The KEK lives in a file
// (a Kubernetes Secret mount), never in the database, so a database dump holds no usable
// signing key.

#include <cstddef>
#include <string>

#include "authd/core/result.h"
#include "authd/crypto/secret.h"
#include "authd/crypto/secret_file.h"
#include "authd/jose/alg.h"
#include "authd/jose/key.h"
#include "authd/keys/errc.h"
#include "authd/keys/key_store.h"

namespace authd::keys {

/// A KEK is a secretbox key: exactly this many bytes.
inline constexpr std::size_t kKekBytes = 32;

/// Reads the KEK file (base64 of 32 random bytes, mode 0600; see crypto/secret_file.h).
/// @return Errc::kKekFile naming the path and the crypto reason (not_found,
///         permissions_too_open, malformed, too_short...), or when it holds more than 32 bytes.
Result<crypto::Secret, Error> load_kek(const std::string& path,
                                       const crypto::SecretFileOptions& options = {});

/// Dev mode: creates the KEK file with 32 random bytes unless it exists, then loads it.
/// @return Errc::kKekFile as load_kek().
Result<crypto::Secret, Error> load_or_create_kek(const std::string& path);

/// Generates a fresh `alg` key and seals its PKCS#8 PEM under `kek`. Timestamps are left 0
/// for plan_rotation() to set. Slow for RS256 (tens of ms): never call it on a request path.
/// @return Errc::kKeyGeneration (jose or crypto error code in the message).
Result<StoredKey, Error> generate_sealed_key(jose::Alg alg, const crypto::Secret& kek);

/// Opens and parses a stored key: decrypts sealed_private with `kek`, parses the PEM for the
/// row's alg and checks that the key's RFC 7638 thumbprint equals the row's kid.
/// @return Errc::kWrongKek when the KEK cannot decrypt the blob ("the key-encryption key
///         cannot decrypt signing key <kid>; wrong KEK file?"); Errc::kCorruptKey for an
///         unknown alg, a malformed or unknown-version blob, a bad PEM or a kid mismatch.
Result<jose::KeyPtr, Error> open_stored_key(const StoredKey& key, const crypto::Secret& kek);

}  // namespace authd::keys
