#pragma once
// The keys module's error enum and error value. Messages name kids and paths, never key bytes.

#include <string>
#include <string_view>

#include "authd/core/result.h"

namespace authd::keys {

/// Every way a key-ring operation can fail. Mapped to logs, metrics and HTTP at the edge.
enum class Errc {
  kNotLoaded = 1,    ///< the ring has not completed a load() yet
  kNoActiveKey,      ///< loaded, but no key is active at this instant (empty store)
  kWrongKek,         ///< the KEK cannot decrypt a stored signing key (wrong KEK file?)
  kCorruptKey,       ///< a stored key is unreadable: bad sealed blob, unknown alg, bad PEM,
                     ///< or its private key does not match its kid
  kStore,            ///< the KeyStore failed (the message carries the store error code)
  kKeyGeneration,    ///< generating or sealing a new key failed
  kSignFailed,       ///< jose::sign refused (the message carries the jose error code)
  kKekFile,          ///< the KEK file could not be read or created, or is not 32 bytes
  kInvalidSettings,  ///< Settings out of range (see validate())
};

/// Stable snake_case name for logs and metrics, e.g. "wrong_kek". Never empty.
std::string_view to_string(Errc e) noexcept;

/// An error with a message safe to log.
struct Error {
  Errc code = Errc::kStore;
  std::string message;
};

inline Unexpected<Error> fail(Errc code, std::string message) {
  return {Error{code, std::move(message)}};
}

}  // namespace authd::keys
