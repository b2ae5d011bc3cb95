#include "authd/crypto/errc.h"

namespace authd::crypto {

std::string_view to_string(Errc e) noexcept {
  switch (e) {
    case Errc::InitFailed:
      return "init_failed";
    case Errc::InvalidParams:
      return "invalid_params";
    case Errc::HashFailed:
      return "hash_failed";
    case Errc::InvalidKey:
      return "invalid_key";
    case Errc::DecryptFailed:
      return "decrypt_failed";
    case Errc::Malformed:
      return "malformed";
    case Errc::UnsupportedVersion:
      return "unsupported_version";
    case Errc::NotFound:
      return "not_found";
    case Errc::AccessDenied:
      return "access_denied";
    case Errc::PermissionsTooOpen:
      return "permissions_too_open";
    case Errc::TooShort:
      return "too_short";
    case Errc::AlreadyExists:
      return "already_exists";
    case Errc::IoError:
      return "io_error";
  }
  // Reached only through a cast of an out-of-range integer.
  return "unknown";
}

}  // namespace authd::crypto
