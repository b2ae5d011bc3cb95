#include "authd/keys/errc.h"

namespace authd::keys {

std::string_view to_string(Errc e) noexcept {
  switch (e) {
    case Errc::kNotLoaded:
      return "not_loaded";
    case Errc::kNoActiveKey:
      return "no_active_key";
    case Errc::kWrongKek:
      return "wrong_kek";
    case Errc::kCorruptKey:
      return "corrupt_key";
    case Errc::kStore:
      return "store";
    case Errc::kKeyGeneration:
      return "key_generation";
    case Errc::kSignFailed:
      return "sign_failed";
    case Errc::kKekFile:
      return "kek_file";
    case Errc::kInvalidSettings:
      return "invalid_settings";
  }
  return "unknown";
}

}  // namespace authd::keys
