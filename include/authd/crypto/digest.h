#pragma once
// Unkeyed digests (libsodium): SHA-256 for PKCE S256 (RFC 7636 §4.2) and for the OpenID
// Connect at_hash of ES256/RS256 tokens, SHA-512 for that of EdDSA ones.

#include <string>
#include <string_view>

namespace authd::crypto {

/// SHA-256 of `data`: 32 raw bytes.
std::string sha256(std::string_view data);
/// SHA-512 of `data`: 64 raw bytes.
std::string sha512(std::string_view data);

}  // namespace authd::crypto
