#pragma once
// Password hashing with Argon2id (libsodium crypto_pwhash, PHC string format).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "authd/core/result.h"
#include "authd/crypto/errc.h"

namespace authd::crypto {

/// Argon2id cost. Defaults are the OWASP minimum (m = 19 MiB, t = 2, p = 1); libsodium always
/// uses p = 1. The encoded hash records its own cost, so raising these later only affects new
/// hashes; needs_rehash() tells the login path when to upgrade an old one.
struct PasswordParams {
  /// Argon2 passes (t). At least 1.
  std::uint64_t ops_limit = 2;
  /// Memory in bytes (m); Argon2 works in KiB, so use a multiple of 1024. At least 8 KiB.
  std::size_t mem_limit_bytes = 19 * 1024 * 1024;
};

/// Checks @p params against libsodium's Argon2id bounds.
/// @return Errc::InvalidParams when out of bounds.
Result<void, Errc> validate(const PasswordParams& params);

/// Hashes @p password with Argon2id and a fresh random salt.
///
/// @return the PHC string ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>", < 128 chars),
///   Errc::InvalidParams for out-of-range params, Errc::HashFailed when libsodium cannot
///   allocate the memory, Errc::InitFailed when libsodium is unusable.
/// Thread-safe. Costs mem_limit_bytes of RAM and tens of milliseconds of one core per call:
/// run it on a bounded worker pool, never on an I/O thread.
Result<std::string, Errc> hash_password(std::string_view password, const PasswordParams& params);

/// Verifies @p password against a PHC string produced by hash_password().
///
/// @return true only on a match. A malformed, truncated or unsupported hash yields false;
///   nothing throws. The cost is the one recorded in the hash. Thread-safe.
bool verify_password(std::string_view encoded_hash, std::string_view password) noexcept;

/// Whether @p encoded_hash should be replaced by a new hash_password() result: true when it
/// is not Argon2id, is malformed, or was made with different ops/mem than @p params.
/// Cheap (parses the string only). Thread-safe.
bool needs_rehash(std::string_view encoded_hash, const PasswordParams& params) noexcept;

/// A valid Argon2id hash of a random, discarded password, made with @p params.
///
/// For logins whose email matches no user: run verify_password(dummy_hash(params), password)
/// and then fail, so unknown-user and wrong-password take the same time (DESIGN: "in body and
/// in timing"). Computed once per distinct params and cached for the process lifetime;
/// thread-safe (the first caller per params pays one hash; call it once at startup to warm).
///
/// @return the cached hash, or the hash_password() error for these params.
Result<std::string, Errc> dummy_hash(const PasswordParams& params);

}  // namespace authd::crypto
