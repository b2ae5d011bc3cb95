#include "authd/auth/client_secret.h"

#include "authd/core/base64url.h"
#include "authd/crypto/secret.h"

namespace authd::auth {
namespace {
constexpr std::string_view kContext = "authd.client_secret.hash.v1";
}  // namespace

std::string ClientSecretCodec::generate(Random& random) {
  return base64url::encode(random.bytes(kSecretBytes));
}

std::string ClientSecretCodec::store_hash(std::string_view client_id,
                                          std::string_view secret) const {
  // The id's length first keeps (id, secret) pairs apart: "ab"+"c" is not "a"+"bc".
  std::string data = std::to_string(client_id.size());
  data += ':';
  data += client_id;
  data += secret;
  std::string out(kStoredPrefix);
  out += base64url::encode(pepper_.derive(kContext, data));
  return out;
}

bool ClientSecretCodec::is_keyed(std::string_view stored) {
  return stored.substr(0, kStoredPrefix.size()) == kStoredPrefix;
}

bool ClientSecretCodec::verify(std::string_view client_id, std::string_view stored,
                               std::string_view secret) const {
  if (!is_keyed(stored)) return false;
  const crypto::Secret expected(stored);
  return expected.equals(store_hash(client_id, secret));
}

}  // namespace authd::auth
