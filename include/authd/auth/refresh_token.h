#pragma once
// The refresh-token format: 256 random bits, base64url (43 characters), opaque to clients.
//
// Every token of a family starts with the same random tag (the first kFamilyTagBytes of the
// token issued at login); the rest of a successor is derived from its predecessor under the
// server pepper. So a replay inside the grace window, or a retry after a lost connection,
// gets the very same successor without any token stored in clear; and the tag names the
// family for its rate limit before any database work. The last kMacBytes authenticate the
// rest under the pepper, so that only authd can make a token: anyone holding an old token of a
// family could otherwise forge tag‖random tokens that drain the family's refresh bucket (the
// live token then gets 429) while reuse detection never fires. What is unpredictable in a
// token is the 128 bits between tag and MAC, plus the MAC. Tokens minted before the MAC
// existed are not authentic() and still work; their successors are.

#include <cstddef>
#include <string>
#include <string_view>

#include "authd/core/clock.h"
#include "authd/crypto/keyed_hash.h"

namespace authd::auth {

/// Thread-safe (const, over a const hasher).
class RefreshTokenCodec {
 public:
  static constexpr std::size_t kTokenBytes = 32;
  static constexpr std::size_t kFamilyTagBytes = 8;
  static constexpr std::size_t kMacBytes = 8;

  explicit RefreshTokenCodec(const crypto::KeyedHasher& pepper) : pepper_(pepper) {}

  /// A new family's first token.
  std::string mint(Random& random) const;
  /// True when `token` has the shape of a refresh token (43 base64url chars, 32 bytes).
  static bool well_formed(std::string_view token);
  /// The digest under which a token is stored (keyed BLAKE2b, bound to its purpose).
  std::string store_hash(std::string_view token) const;
  /// The one successor of a well-formed token: same family tag, the rest derived.
  std::string successor(std::string_view token) const;
  /// True when a well-formed token carries authd's MAC: authd made it (or it is a
  /// 2^-64 guess). Only such tokens may charge their family's rate limit.
  bool authentic(std::string_view token) const;
  /// The rate-limit key of a well-formed token's family.
  std::string family_limit_key(std::string_view token) const;

 private:
  /// `prefix` (tag and body) followed by its MAC, base64url.
  std::string seal(std::string prefix) const;

  const crypto::KeyedHasher& pepper_;
};

/// RefreshTokenCodec::store_hash for operators' tools and tests, which find a token's row
/// without the token ever being stored in clear.
std::string refresh_token_store_hash(const crypto::KeyedHasher& pepper, std::string_view token);

}  // namespace authd::auth
