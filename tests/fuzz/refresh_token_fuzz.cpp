// The refresh-token format on untrusted bytes, as the refresh endpoint reads a presented
// token: well_formed() first, then authentic(), the family's rate-limit key, the storage
// digest and the successor. A successor must itself be a well-formed, authentic token of the
// same family, whatever its predecessor was.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "authd/auth/refresh_token.h"
#include "authd/core/base64url.h"
#include "authd/crypto/init.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using authd::auth::RefreshTokenCodec;
  static const bool ready = authd::crypto::init();
  // A fixed pepper: the seeds minted with it (corpus/refresh_token) are authentic.
  static const authd::crypto::KeyedHasher pepper{
      authd::crypto::Secret(std::string_view("authd refresh-token fuzz pepper, 32+ bytes"))};
  static const RefreshTokenCodec codec{pepper};
  if (!ready) std::abort();

  const std::string_view token(reinterpret_cast<const char*>(data), size);
  if (!RefreshTokenCodec::well_formed(token)) return 0;
  // One token, one spelling: the store looks tokens up by a hash of their text.
  if (authd::base64url::encode(*authd::base64url::decode(token)) != token) std::abort();
  (void)codec.authentic(token);
  (void)codec.store_hash(token);
  const std::string family = codec.family_limit_key(token);
  const std::string next = codec.successor(token);
  if (!RefreshTokenCodec::well_formed(next) || !codec.authentic(next) ||
      codec.family_limit_key(next) != family || next == token || codec.successor(token) != next)
    std::abort();
  return 0;
}
