#pragma once
// Secret files on disk: key files (KEK, refresh-token pepper) and password files (Postgres,
// Redis). One reader does the checks below for all of them.
//
// Key-file format: the file holds the secret as base64 text: standard (RFC 4648 §4) or URL-safe
// (§5) alphabet, '=' padding optional, whitespace and line breaks anywhere ignored. That is
// exactly what `head -c32 /dev/urandom | base64 > kek && chmod 600 kek` produces, and what a
// Kubernetes Secret holding such text mounts. Raw binary files are rejected as Malformed:
// one format avoids guessing whether 44 printable bytes are a key or its encoding.
// Permissions: the file must not be accessible by group or other (0600 or 0400); see
// SecretFileOptions for the one exception.

#include <cstddef>
#include <string>

#include "authd/core/result.h"
#include "authd/crypto/errc.h"
#include "authd/crypto/secret.h"

namespace authd::crypto {

/// Files larger than this are not key files (guards against pointing at the wrong path).
inline constexpr std::size_t kMaxSecretFileBytes = 16 * 1024;

struct SecretFileOptions {
  /// Accept group *read* (0440/0640). Off by default. Kubernetes mounts Secret volumes owned
  /// by root with the pod's fsGroup as group, so a non-root container can only read them
  /// when they are group-readable; enable this only for that deployment shape.
  bool allow_group_read = false;
};

/// Reads a secret file (format above).
///
/// @return the decoded bytes, or
///   Errc::NotFound (no such file), Errc::AccessDenied (OS refused to open it),
///   Errc::PermissionsTooOpen (any group/other permission bit set, beyond the option above),
///   Errc::Malformed (not a regular file, larger than kMaxSecretFileBytes, or not base64),
///   Errc::TooShort (empty, or fewer than @p min_bytes decoded bytes), Errc::IoError.
/// Follows symlinks (Kubernetes mounts are symlinks) and checks the file actually opened.
/// Error values never carry file contents. Thread-safe.
Result<Secret, Errc> load_secret_file(const std::string& path, std::size_t min_bytes,
                                      const SecretFileOptions& options = {});

/// Reads a password file (store.password_file, redis.password_file): the file's bytes as
/// they are, less trailing line breaks (CR/LF, so `echo pw > file` works). Same checks and
/// errors as load_secret_file (Errc::TooShort when nothing is left), no base64 decoding: a
/// password is whatever the server was given.
Result<Secret, Errc> load_password_file(const std::string& path,
                                        const SecretFileOptions& options = {});

/// Creates @p path holding @p bytes fresh random bytes in the format above, mode 0600.
///
/// Atomic: the secret is written and fsync'd to a private temporary file in the same
/// directory, which is then hard-linked into place; link() never replaces an existing name,
/// so concurrent creators (two dev replicas sharing a data dir) end with exactly one secret
/// and a crash never leaves a truncated key file behind. The directory is fsync'd afterwards.
///
/// @return Errc::AlreadyExists when @p path exists (never overwritten),
///   Errc::InvalidParams when @p bytes is 0 or absurdly large,
///   Errc::NotFound when the directory is missing, Errc::AccessDenied, Errc::IoError.
Result<void, Errc> create_secret_file(const std::string& path, std::size_t bytes);

/// Dev-mode convenience: create_secret_file(path, bytes) unless it already exists, then
/// load_secret_file(path, bytes). Errors as for those two.
Result<Secret, Errc> load_or_create_secret_file(const std::string& path, std::size_t bytes);

}  // namespace authd::crypto
