#pragma once
// UTF-8 well-formedness (RFC 3629 §4: no overlongs, no surrogates, nothing above U+10FFFF),
// for text that comes from outside and is later written as JSON.

#include <cstddef>
#include <string>
#include <string_view>

namespace authd::utf8 {

/// Length of the well-formed UTF-8 sequence starting at s[i] (1 for ASCII), or 0 if the
/// bytes there are not one.
std::size_t sequence_length(std::string_view s, std::size_t i);

bool valid(std::string_view s);

/// `s` with each ill-formed byte replaced by U+FFFD, cut at a character boundary so that the
/// result holds at most `max_bytes` bytes: never half a character.
std::string sanitize(std::string_view s, std::size_t max_bytes);

}  // namespace authd::utf8
