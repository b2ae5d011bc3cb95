#pragma once
// Strict base64url (RFC 4648 §5) without padding, as JOSE requires (RFC 7515 §2).

#include <cstddef>
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

/// The number of bytes decode() gives for `n` characters (meaningless when n % 4 == 1).
constexpr std::size_t decoded_size(std::size_t n) noexcept {
  return n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
}

/// decode() into `out`, which must hold decoded_size(text.size()) bytes, without allocating
/// (for the verification hot path); the number of bytes written, or std::nullopt whenever
/// decode() gives it (`out` then holds unspecified bytes).
std::optional<std::size_t> decode_into(std::string_view text, unsigned char* out) noexcept;

}  // namespace authd::base64url
