#pragma once
// Strict JSON parsing for untrusted input (request bodies, JOSE headers and claims, JWKs).
//
// Unlike nlohmann::json::parse, which silently keeps the last of two equal member names and
// skips a byte-order mark, this refuses both: two parsers that disagree on a document are how
// a check is made to pass on one reading and act on another (RFC 7515 §5.2, RFC 8259 §8.1).
// UTF-8 is validated; nesting is bounded. Never throws.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "authd/core/result.h"

namespace authd {

enum class StrictJsonError {
  kSyntax,           ///< not JSON (or a byte-order mark before it)
  kDuplicateMember,  ///< an object, at any depth, repeats a member name
  kTooDeep,          ///< nested deeper than max_depth
  kNoMemory,
};

/// Parses `text` as one JSON value (RFC 8259, no comments).
Result<nlohmann::json, StrictJsonError> parse_strict_json(std::string_view text,
                                                          std::size_t max_depth = 32);

}  // namespace authd
