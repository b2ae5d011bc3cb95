// Jwks: parse and publish JSON Web Key Sets.

#include "authd/jose/jwks.h"

#include <array>
#include <utility>

#include "jose/strict_json.h"

namespace authd::jose {
namespace {

using json = nlohmann::json;

// Members that only a private (or symmetric) JWK carries (RFC 7518 §6.2.2, §6.3.2, §6.4).
bool has_private_members(const json& jwk) {
  static constexpr std::array<const char*, 8> kPrivate = {"d",  "p",  "q",   "dp",
                                                          "dq", "qi", "oth", "k"};
  for (const char* m : kPrivate) {
    if (jwk.contains(m)) return true;
  }
  return false;
}

bool has_duplicate_kid(const std::vector<KeyPtr>& keys) {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    for (std::size_t j = i + 1; j < keys.size(); ++j) {
      if (keys[i]->kid() == keys[j]->kid()) return true;
    }
  }
  return false;
}

}  // namespace

Result<Jwks, Errc> Jwks::from_keys(std::vector<KeyPtr> keys) {
  if (keys.size() > kMaxJwksKeys) return unexpected(Errc::JwksTooLarge);
  for (const auto& k : keys) {
    if (!k) return unexpected(Errc::BadJwk);
  }
  if (has_duplicate_kid(keys)) return unexpected(Errc::DuplicateKid);
  return Jwks(std::move(keys));
}

Result<Jwks, Errc> Jwks::parse(std::string_view text) {
  if (text.size() > kMaxJwksBytes) return unexpected(Errc::JwksTooLarge);
  auto doc = detail::parse_strict_json(text, Errc::BadJwk);
  if (!doc) return unexpected(doc.error());
  if (!doc->is_object()) return unexpected(Errc::BadJwk);
  const auto list = doc->find("keys");
  if (list == doc->end() || !list->is_array()) return unexpected(Errc::BadJwk);
  if (list->size() > kMaxJwksKeys) return unexpected(Errc::JwksTooLarge);

  std::vector<KeyPtr> keys;
  keys.reserve(list->size());
  for (const auto& jwk : *list) {
    if (!jwk.is_object() || has_private_members(jwk)) return unexpected(Errc::BadJwk);
    auto key = Key::from_jwk_object(jwk);
    if (key) {
      keys.push_back(std::move(*key));
    } else if (key.error() != Errc::UnsupportedKey && key.error() != Errc::WeakKey) {
      return unexpected(key.error());
    }
    // UnsupportedKey / WeakKey: skipped (see header); tokens naming it get UnknownKid.
  }
  if (has_duplicate_kid(keys)) return unexpected(Errc::DuplicateKid);
  return Jwks(std::move(keys));
}

KeyPtr Jwks::find(std::string_view kid) const {
  if (kid.empty()) return keys_.size() == 1 ? keys_.front() : nullptr;
  for (const auto& k : keys_) {
    if (k->kid() == kid) return k;
  }
  return nullptr;
}

std::string Jwks::to_json() const {
  json list = json::array();
  for (const auto& k : keys_) list.push_back(k->public_jwk());
  return json{{"keys", std::move(list)}}.dump();
}

}  // namespace authd::jose
