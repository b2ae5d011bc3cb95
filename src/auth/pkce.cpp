#include "authd/auth/pkce.h"

#include "authd/core/base64url.h"
#include "authd/crypto/digest.h"

namespace authd::auth::pkce {
namespace {
bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}
bool base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}
}  // namespace

bool valid_verifier(std::string_view v) {
  if (v.size() < 43 || v.size() > 128) return false;
  for (char c : v)
    if (!unreserved(c)) return false;
  return true;
}

bool valid_challenge(std::string_view c) {
  if (c.size() != 43) return false;
  for (char x : c)
    if (!base64url_char(x)) return false;
  return true;
}

std::string s256(std::string_view verifier) { return base64url::encode(crypto::sha256(verifier)); }

bool matches(std::string_view challenge, std::string_view verifier) {
  if (!valid_verifier(verifier) || !valid_challenge(challenge)) return false;
  const std::string expected = s256(verifier);
  unsigned char diff = 0;
  for (std::size_t i = 0; i < expected.size(); ++i)
    diff |= static_cast<unsigned char>(expected[i] ^ challenge[i]);
  return diff == 0;
}

}  // namespace authd::auth::pkce
