#pragma once
// PKCE (RFC 7636) with the S256 method only.

#include <string>
#include <string_view>

namespace authd::auth::pkce {

/// A code_verifier: 43..128 characters of [A-Z a-z 0-9 - . _ ~] (§4.1).
bool valid_verifier(std::string_view verifier);
/// An S256 code_challenge: base64url (no padding) of a SHA-256, so 43 characters.
bool valid_challenge(std::string_view challenge);
/// BASE64URL(SHA256(verifier)) (§4.2).
std::string s256(std::string_view verifier);
/// Whether `verifier` is valid and hashes to `challenge`, compared in constant time.
bool matches(std::string_view challenge, std::string_view verifier);

}  // namespace authd::auth::pkce
