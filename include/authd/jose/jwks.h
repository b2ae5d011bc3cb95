#pragma once
// Jwks: a JSON Web Key Set (RFC 7517 §5) of public verification keys, indexed by kid.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "authd/core/result.h"
#include "authd/jose/errc.h"
#include "authd/jose/key.h"

namespace authd::jose {

/// An immutable set of keys with distinct kids. Cheap to copy (it holds KeyPtr) and safe to
/// read from many threads. To change the set, build a new one and swap it in.
class Jwks {
 public:
  /// An empty set.
  Jwks() = default;

  /// Builds a set from keys already held (e.g. the key ring's published keys).
  /// @return Errc::DuplicateKid if two keys share a kid, Errc::JwksTooLarge above
  ///         kMaxJwksKeys, Errc::BadJwk for a null pointer.
  static Result<Jwks, Errc> from_keys(std::vector<KeyPtr> keys);

  /// Parses `{"keys":[...]}` as a resource server receives it.
  /// Keys we cannot use (Errc::UnsupportedKey: other kty/crv/alg, "use":"enc"...; or
  /// Errc::WeakKey) are skipped, so that one foreign key does not blind the verifier; any
  /// malformed key fails the whole set. A JWKS is public, so a key with private members is
  /// refused (Errc::BadJwk) rather than held.
  /// @return Errc::BadJwk, Errc::DuplicateMember, Errc::DuplicateKid, Errc::JwksTooLarge,
  ///         Errc::JsonTooDeep, Errc::KidInvalid, Errc::KidTooLong.
  static Result<Jwks, Errc> parse(std::string_view json);

  /// The key whose kid() equals `kid`, or nullptr.
  /// An empty `kid` (the token header had none) matches only when the set holds exactly one
  /// key: a single-key issuer need not send kid, but with several keys we never guess.
  KeyPtr find(std::string_view kid) const;

  /// `{"keys":[...]}` with every key's public JWK (kid, alg, use); never private members.
  std::string to_json() const;

  const std::vector<KeyPtr>& keys() const noexcept { return keys_; }
  std::size_t size() const noexcept { return keys_.size(); }
  bool empty() const noexcept { return keys_.empty(); }

 private:
  explicit Jwks(std::vector<KeyPtr> keys) : keys_(std::move(keys)) {}
  std::vector<KeyPtr> keys_;  // few keys: a linear scan beats a map
};

}  // namespace authd::jose
