#include "authd/store/errc.h"

namespace authd::store {

std::string_view to_string(Errc e) {
  switch (e) {
    case Errc::kNotFound:
      return "not_found";
    case Errc::kConflict:
      return "conflict";
    case Errc::kUnavailable:
      return "unavailable";
    case Errc::kSchema:
      return "schema";
    case Errc::kInternal:
      return "internal";
  }
  return "internal";
}

}  // namespace authd::store
