#pragma once
// Strict JSON parsing for untrusted JOSE input. Internal to src/jose.

#include <nlohmann/json.hpp>
#include <string_view>

#include "authd/core/result.h"
#include "authd/jose/errc.h"

namespace authd::jose::detail {

/// Parses `text` as one JSON value (RFC 8259, no comments, UTF-8 validated).
/// Unlike nlohmann::json::parse, which silently keeps the last of two equal member names,
/// this refuses duplicates at every nesting level (RFC 7515 §5.2 lets us; an attacker can
/// otherwise make two parsers disagree on a token). Never throws.
/// @param syntax_error  the code to return for text that is not JSON.
/// @return Errc::DuplicateMember, Errc::JsonTooDeep (beyond kMaxJsonDepth), or syntax_error.
Result<nlohmann::json, Errc> parse_strict_json(std::string_view text, Errc syntax_error);

}  // namespace authd::jose::detail
