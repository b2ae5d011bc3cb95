#include <exception>
#include <string>

#include "store/postgres/stores.h"
#include "store/postgres/transaction.h"

namespace authd::store::postgres {
namespace {

// SQL is laid out by hand.
// clang-format off
#define AUTHD_KEY_COLUMNS \
  "kid, alg, public_jwk, sealed_private, created_at, activate_at, retire_at, remove_at"

constexpr Statement kList{"authd_keys_list",
                          "SELECT " AUTHD_KEY_COLUMNS
                          " FROM signing_keys ORDER BY activate_at, kid COLLATE \"C\""};
constexpr Statement kInsert{
    "authd_keys_insert",
    "INSERT INTO signing_keys (" AUTHD_KEY_COLUMNS ")"
    " VALUES ($1::text, $2::text, $3::text, $4::bytea, $5::bigint, $6::bigint, $7::bigint,"
    " $8::bigint)"};
constexpr Statement kUpdate{
    "authd_keys_update",
    "UPDATE signing_keys SET activate_at = $2::bigint, retire_at = $3::bigint,"
    " remove_at = $4::bigint WHERE kid = $1::text"};
constexpr Statement kDelete{"authd_keys_delete", "DELETE FROM signing_keys WHERE kid = $1::text"};
// Transaction-scoped, so it is released by COMMIT, ROLLBACK, or the connection dying.
constexpr Statement kTryLock{
    "authd_keys_try_lock",
    "SELECT pg_try_advisory_xact_lock($1::integer, hashtext(coalesce(current_schema(), '')))"};

#undef AUTHD_KEY_COLUMNS
// clang-format on

StoreResult<std::vector<keys::StoredKey>> read_keys(const PGresult* result) {
  std::vector<keys::StoredKey> out;
  for (int i = 0; i < PQntuples(result); ++i) {
    Row row(result, i);
    keys::StoredKey k;
    k.kid = row.text(0);
    k.alg = row.text(1);
    k.public_jwk = row.text(2);
    k.sealed_private = row.bytes(3);
    k.created_at = row.int64(4);
    k.activate_at = row.int64(5);
    k.retire_at = row.int64(6);
    k.remove_at = row.int64(7);
    if (!row.ok()) return fail(Errc::kInternal, "postgres: malformed signing_keys row");
    out.push_back(std::move(k));
  }
  return out;
}

}  // namespace

StoreResult<std::vector<keys::StoredKey>> PgKeyStore::list() {
  auto r = run(pool_, kList, Params{}, /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  return read_keys(r->get());
}

StoreResult<bool> PgKeyStore::rotate_exclusive(
    const std::function<keys::KeyChanges(const std::vector<keys::StoredKey>&)>& plan) {
  auto lease = pool_.acquire();
  if (!lease) return unexpected(std::move(lease).error());
  Connection& conn = **lease;
  Transaction tx(conn);
  if (auto r = tx.begin(); !r) return unexpected(r.error());

  Params lock_params;
  lock_params.int64(kKeyRotationLockClass);
  auto locked = conn.exec(kTryLock, lock_params);
  if (!locked) return unexpected(std::move(locked).error());
  Row lock_row(locked->get(), 0);
  const bool have_lock = lock_row.boolean(0);
  if (!lock_row.ok()) return fail(Errc::kInternal, "postgres: malformed advisory lock row");
  if (!have_lock) return false;  // another replica is rotating; tx rolls back

  auto current = conn.exec(kList);
  if (!current) return unexpected(std::move(current).error());
  auto keys = read_keys(current->get());
  if (!keys) return unexpected(std::move(keys).error());

  keys::KeyChanges changes;
  try {
    changes = plan(*keys);
  } catch (const std::exception&) {
    // The plan belongs to another module; its exception must not escape through the store.
    return fail(Errc::kInternal, "key rotation plan failed with an exception");
  }

  for (const auto& k : changes.insert) {
    Params p;
    p.text(k.kid)
        .text(k.alg)
        .text(k.public_jwk)
        .bytes(k.sealed_private)
        .int64(k.created_at)
        .int64(k.activate_at)
        .int64(k.retire_at)
        .int64(k.remove_at);
    if (auto r = conn.exec(kInsert, p); !r) return unexpected(std::move(r).error());
  }
  for (const auto& k : changes.update) {
    Params p;
    p.text(k.kid).int64(k.activate_at).int64(k.retire_at).int64(k.remove_at);
    auto r = conn.exec(kUpdate, p);
    if (!r) return unexpected(std::move(r).error());
    if (std::string_view(PQcmdTuples(r->get())) == "0") {
      return fail(Errc::kNotFound, "key rotation: no key with kid " + k.kid + " to update");
    }
  }
  for (const auto& kid : changes.remove) {
    Params p;
    p.text(kid);
    if (auto r = conn.exec(kDelete, p); !r) return unexpected(std::move(r).error());
  }
  if (auto r = tx.commit(); !r) return unexpected(r.error());
  return true;
}

}  // namespace authd::store::postgres
