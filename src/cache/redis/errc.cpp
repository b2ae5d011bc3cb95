#include "authd/cache/errc.h"

namespace authd::cache {

std::string_view to_string(Errc e) noexcept {
  switch (e) {
    case Errc::kUnavailable:
      return "unavailable";
    case Errc::kTimeout:
      return "timeout";
    case Errc::kReplyError:
      return "reply_error";
    case Errc::kNoScript:
      return "noscript";
    case Errc::kInvalidArgument:
      return "invalid_argument";
    case Errc::kInternal:
      return "internal";
  }
  return "unknown";
}

}  // namespace authd::cache
