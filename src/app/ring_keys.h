#pragma once
// auth::TokenKeys over the key ring: the service signs and verifies with whatever key the ring
// holds now. Shared by the daemon and by tests that build the service over a real ring.

#include "authd/auth/token_keys.h"
#include "authd/keys/key_ring.h"

namespace authd::app {

class RingKeys final : public auth::TokenKeys {
 public:
  /// `ring` must outlive this adapter.
  explicit RingKeys(keys::KeyRing& ring) : ring_(ring) {}
  Result<std::string, std::string> sign(std::string_view claims_json,
                                        std::string_view typ) override;
  Result<std::string, std::string> sign_id_token(
      const std::function<std::string(jose::Alg)>& claims_for) override;
  jose::KeyPtr find(std::string_view kid) override;

 private:
  keys::KeyRing& ring_;
};

}  // namespace authd::app
