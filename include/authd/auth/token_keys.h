#pragma once
// What auth needs from the key ring: sign access tokens, find verification keys.
// Implemented by an adapter over keys::KeyRing in the composition root.

#include <functional>
#include <string>
#include <string_view>

#include "authd/core/result.h"
#include "authd/jose/key.h"

namespace authd::auth {

class TokenKeys {
 public:
  virtual ~TokenKeys() = default;
  /// Signs `claims_json` (one compact JSON object) with the currently active key, with header
  /// `typ` ("at+jwt", or "JWT" for audiences configured for legacy verifiers).
  /// Error text is safe to log.
  virtual Result<std::string, std::string> sign(std::string_view claims_json,
                                                std::string_view typ) = 0;
  /// Signs an OpenID Connect ID token (typ "JWT") with the active key; `claims_for` gives the
  /// claims (one compact JSON object) for that key's algorithm.
  virtual Result<std::string, std::string> sign_id_token(
      const std::function<std::string(jose::Alg)>& claims_for) = 0;
  /// A published key by kid, or nullptr.
  virtual jose::KeyPtr find(std::string_view kid) = 0;
};

}  // namespace authd::auth
