#pragma once
// The crypto module's single error enum. Values only: no message ever carries key material.

#include <string_view>

namespace authd::crypto {

/// Every way a crypto operation can fail. Mapped to log events / HTTP at the edge, never here.
enum class Errc {
  /// sodium_init() failed: no usable CSPRNG. Nothing in this module is safe to use.
  InitFailed = 1,
  /// An argument is out of range: PasswordParams outside libsodium's Argon2id bounds,
  /// or a zero-length secret requested.
  InvalidParams,
  /// libsodium could not compute a password hash (in practice: out of memory).
  HashFailed,
  /// A key has the wrong length for the operation.
  InvalidKey,
  /// Authenticated decryption failed: tampered ciphertext and wrong key are indistinguishable
  /// by design, so they share one code.
  DecryptFailed,
  /// Input is structurally invalid: sealed blob too short, secret file not base64 or not a
  /// regular file, or larger than any plausible key file.
  Malformed,
  /// A sealed blob starts with a format version this build does not know.
  UnsupportedVersion,
  /// The file (or its directory) does not exist.
  NotFound,
  /// The operating system refused access (EACCES/EPERM).
  AccessDenied,
  /// A secret file is readable or writable by group or other.
  PermissionsTooOpen,
  /// A secret file decodes to fewer bytes than required.
  TooShort,
  /// create_secret_file() found the target already present; it never overwrites.
  AlreadyExists,
  /// Any other I/O failure (read/write/fsync/link errors).
  IoError,
};

/// Stable snake_case name for logs and metrics, e.g. "decrypt_failed". Never empty.
std::string_view to_string(Errc e) noexcept;

}  // namespace authd::crypto
