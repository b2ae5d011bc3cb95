#include "jose/strict_json.h"

#include "authd/core/strict_json.h"
#include "authd/jose/jws.h"

namespace authd::jose::detail {

Result<nlohmann::json, Errc> parse_strict_json(std::string_view text, Errc syntax_error) {
  auto parsed = authd::parse_strict_json(text, kMaxJsonDepth);
  if (parsed) return std::move(*parsed);
  switch (parsed.error()) {
    case StrictJsonError::kDuplicateMember:
      return unexpected(Errc::DuplicateMember);
    case StrictJsonError::kTooDeep:
      return unexpected(Errc::JsonTooDeep);
    case StrictJsonError::kNoMemory:
      return unexpected(Errc::Internal);
    case StrictJsonError::kSyntax:
      break;
  }
  return unexpected(syntax_error);
}

}  // namespace authd::jose::detail
