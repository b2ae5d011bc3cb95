#include <exception>

#include "store/sqlite/stores.h"

namespace authd::store::sqlite {
namespace {

// SQL is laid out by hand.
// clang-format off
#define AUTHD_KEY_COLUMNS \
  "kid, alg, public_jwk, sealed_private, created_at, activate_at, retire_at, remove_at"

constexpr const char* kList =
    "SELECT " AUTHD_KEY_COLUMNS " FROM signing_keys ORDER BY activate_at, kid";
constexpr const char* kInsert =
    "INSERT INTO signing_keys (" AUTHD_KEY_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr const char* kUpdate =
    "UPDATE signing_keys SET activate_at = ?2, retire_at = ?3, remove_at = ?4 WHERE kid = ?1";
constexpr const char* kDelete = "DELETE FROM signing_keys WHERE kid = ?1";

#undef AUTHD_KEY_COLUMNS
// clang-format on

StoreResult<std::vector<keys::StoredKey>> list_keys(Connection& conn) {
  auto q = conn.query(kList);
  if (!q) return unexpected(std::move(q).error());
  std::vector<keys::StoredKey> out;
  while (true) {
    auto row = q->step();
    if (!row) return unexpected(std::move(row).error());
    if (!*row) return out;
    keys::StoredKey k;
    k.kid = q->text_at(0);
    k.alg = q->text_at(1);
    k.public_jwk = q->text_at(2);
    k.sealed_private = q->blob_at(3);
    k.created_at = q->int64_at(4);
    k.activate_at = q->int64_at(5);
    k.retire_at = q->int64_at(6);
    k.remove_at = q->int64_at(7);
    out.push_back(std::move(k));
  }
}

// Sets the connection's busy timeout for one scope and restores it after.
class BusyTimeoutScope {
 public:
  BusyTimeoutScope(Connection& conn, int ms) : conn_(conn) { conn_.set_busy_timeout(ms); }
  ~BusyTimeoutScope() { conn_.set_busy_timeout(conn_.busy_timeout()); }
  BusyTimeoutScope(const BusyTimeoutScope&) = delete;
  BusyTimeoutScope& operator=(const BusyTimeoutScope&) = delete;

 private:
  Connection& conn_;
};

}  // namespace

StoreResult<std::vector<keys::StoredKey>> SqliteKeyStore::list() {
  std::lock_guard lock(shared_.mutex);
  return list_keys(*shared_.conn);
}

StoreResult<bool> SqliteKeyStore::rotate_exclusive(
    const std::function<keys::KeyChanges(const std::vector<keys::StoredKey>&)>& plan) {
  // Two layers of exclusion, both "try" so that the loser returns false instead of running
  // the plan again after the winner: a mutex for rotations in this process, and the database
  // write lock (BEGIN IMMEDIATE without waiting) for another process on the same file.
  std::unique_lock rotating(rotation_, std::try_to_lock);
  if (!rotating.owns_lock()) return false;
  // The connection stays locked while `plan` runs, so `plan` must not call back into this
  // Database (it gets the keys as its argument).
  std::lock_guard lock(shared_.mutex);
  Connection& conn = *shared_.conn;
  Transaction tx(conn);
  {
    BusyTimeoutScope no_wait(conn, 0);
    if (auto r = tx.begin(); !r) {
      if (r.error().code == Errc::kUnavailable) return false;  // SQLITE_BUSY: another writer
      return unexpected(r.error());
    }
  }
  auto current = list_keys(conn);
  if (!current) return unexpected(std::move(current).error());

  keys::KeyChanges changes;
  try {
    changes = plan(*current);
  } catch (const std::exception&) {
    // The plan belongs to another module; its exception must not escape through the store.
    return fail(Errc::kInternal, "key rotation plan failed with an exception");
  }

  for (const auto& k : changes.insert) {
    auto q = conn.query(kInsert);
    if (!q) return unexpected(std::move(q).error());
    q->text(k.kid)
        .text(k.alg)
        .text(k.public_jwk)
        .blob(k.sealed_private)
        .int64(k.created_at)
        .int64(k.activate_at)
        .int64(k.retire_at)
        .int64(k.remove_at);
    if (auto r = q->run(); !r) return unexpected(r.error());
  }
  for (const auto& k : changes.update) {
    auto q = conn.query(kUpdate);
    if (!q) return unexpected(std::move(q).error());
    q->text(k.kid).int64(k.activate_at).int64(k.retire_at).int64(k.remove_at);
    if (auto r = q->run(); !r) return unexpected(r.error());
    if (conn.changes() == 0) {
      return fail(Errc::kNotFound, "key rotation: no key with kid " + k.kid + " to update");
    }
  }
  for (const auto& kid : changes.remove) {
    auto q = conn.query(kDelete);
    if (!q) return unexpected(std::move(q).error());
    q->text(kid);
    if (auto r = q->run(); !r) return unexpected(r.error());
  }
  if (auto r = tx.commit(); !r) return unexpected(r.error());
  return true;
}

}  // namespace authd::store::sqlite
