#pragma once
// Signing keys as stored. A key's state is derived from its timestamps and the clock, so every
// replica computes the same ring from the same rows without coordination:
//   now < activate_at                -> next      (published, not signing)
//   activate_at <= now < retire_at   -> active    (signing; newest activate_at wins)
//   retire_at <= now < remove_at     -> retiring  (published, not signing)
//   remove_at <= now                 -> removed   (deleted by the rotation job)

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "authd/store/errc.h"

namespace authd::keys {

struct StoredKey {
  std::string kid;             ///< RFC 7638 thumbprint
  std::string alg;             ///< "ES256", "RS256", "EdDSA"
  std::string public_jwk;      ///< JSON text
  std::string sealed_private;  ///< secretbox(KEK, PKCS#8 PEM): never plaintext at rest
  std::int64_t created_at = 0;
  std::int64_t activate_at = 0;
  std::int64_t retire_at = 0;  ///< INT64_MAX while no successor is scheduled
  std::int64_t remove_at = 0;  ///< INT64_MAX while no successor is scheduled
};

/// A change computed under the rotation lock.
struct KeyChanges {
  std::vector<StoredKey> insert;
  std::vector<StoredKey> update;  ///< matched by kid; timestamps replaced
  std::vector<std::string> remove;
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  /// Every stored key, ordered by activate_at.
  virtual store::StoreResult<std::vector<StoredKey>> list() = 0;
  /// Runs `plan` on the current keys while holding the cluster-wide rotation lock (a Postgres
  /// advisory lock; a file/transaction lock for SQLite) and applies its changes in the same
  /// transaction. Returns false without calling `plan` if another replica holds the lock.
  virtual store::StoreResult<bool> rotate_exclusive(
      const std::function<KeyChanges(const std::vector<StoredKey>&)>& plan) = 0;
};

}  // namespace authd::keys
