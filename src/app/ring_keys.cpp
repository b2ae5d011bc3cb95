#include "app/ring_keys.h"

namespace authd::app {

Result<std::string, std::string> RingKeys::sign(std::string_view claims_json,
                                                std::string_view typ) {
  auto t = ring_.sign_claims_json(claims_json, typ);
  if (!t) return unexpected(t.error().message);
  return std::move(*t);
}

Result<std::string, std::string> RingKeys::sign_id_token(
    const std::function<std::string(jose::Alg)>& claims_for) {
  auto t = ring_.sign_id_token(claims_for);
  if (!t) return unexpected(t.error().message);
  return std::move(*t);
}

jose::KeyPtr RingKeys::find(std::string_view kid) { return ring_.find(kid); }

}  // namespace authd::app
