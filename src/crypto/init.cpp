#include "authd/crypto/init.h"

#include <sodium.h>

namespace authd::crypto {

bool init() noexcept {
  // A function-local static gives once-only, thread-safe initialisation without a lock on
  // the hot path; sodium_init() returns 1 when someone else (another library) already ran it.
  static const bool ok = sodium_init() >= 0;
  return ok;
}

}  // namespace authd::crypto
