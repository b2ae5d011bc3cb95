#pragma once
// Strict base64url (RFC 4648 §5) without padding, as JOSE requires (RFC 7515 §2).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace authd::base64url {

/// Encodes bytes with the URL-safe alphabet and no '=' padding.
std::string encode(std::string_view bytes);
std::string encode(const std::vector<std::uint8_t>& bytes);

/// Decodes strictly: rejects padding, characters outside [A-Za-z0-9_-], a length of 1 mod 4,
/// and non-canonical encodings whose unused trailing bits are not zero.
/// Returns std::nullopt on any violation.
std::optional<std::string> decode(std::string_view text);

}  // namespace authd::base64url
