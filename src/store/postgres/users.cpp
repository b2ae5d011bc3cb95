#include "store/postgres/stores.h"
#include "store/util.h"

namespace authd::store::postgres {
namespace {

// SQL is laid out by hand.
// clang-format off
#define AUTHD_USER_COLUMNS \
  "id, email, password_hash, roles, tenant_id, disabled, session_version, created_at, updated_at"

constexpr Statement kCreate{
    "authd_users_create",
    "INSERT INTO users (" AUTHD_USER_COLUMNS ") "
    "VALUES ($1::uuid, $2::text, $3::text, $4::text[], $5::text, $6::boolean, $7::bigint, "
    "$8::bigint, $9::bigint)"};
// lower() on both sides matches the unique index on lower(email), which serves the lookup.
constexpr Statement kFindByEmail{
    "authd_users_find_by_email",
    "SELECT " AUTHD_USER_COLUMNS " FROM users WHERE lower(email) = lower($1::text)"};
constexpr Statement kFindById{"authd_users_find_by_id",
                              "SELECT " AUTHD_USER_COLUMNS " FROM users WHERE id = $1::uuid"};
constexpr Statement kSetPasswordHash{
    "authd_users_set_password_hash",
    "UPDATE users SET password_hash = $2::text, updated_at = $3::bigint WHERE id = $1::uuid"};
constexpr Statement kSetDisabled{
    "authd_users_set_disabled",
    "UPDATE users SET disabled = $2::boolean, updated_at = $3::bigint WHERE id = $1::uuid"};
constexpr Statement kSetRoles{
    "authd_users_set_roles",
    "UPDATE users SET roles = $2::text[], updated_at = $3::bigint WHERE id = $1::uuid"};
constexpr Statement kBumpSessionVersion{
    "authd_users_bump_session_version",
    "UPDATE users SET session_version = session_version + 1, updated_at = $2::bigint "
    "WHERE id = $1::uuid RETURNING session_version"};
// Byte order (COLLATE "C") so that both backends list in the same order whatever the
// database's collation.
constexpr Statement kList{"authd_users_list",
                          "SELECT " AUTHD_USER_COLUMNS " FROM users "
                          "ORDER BY email COLLATE \"C\", id LIMIT $1::bigint OFFSET $2::bigint"};

#undef AUTHD_USER_COLUMNS
// clang-format on

StoreResult<auth::User> read_user(const PGresult* result, int row_index) {
  Row row(result, row_index);
  auth::User u;
  u.id = row.text(0);
  u.email = row.text(1);
  u.password_hash = row.text(2);
  u.roles = row.text_array(3);
  u.tenant_id = row.text(4);
  u.disabled = row.boolean(5);
  u.session_version = row.int64(6);
  u.created_at = row.int64(7);
  u.updated_at = row.int64(8);
  if (!row.ok()) return fail(Errc::kInternal, "postgres: malformed users row");
  return u;
}

StoreResult<std::optional<auth::User>> find_one(Pool& pool, const Statement& st, Params params) {
  auto r = run(pool, st, params, /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  if (PQntuples(r->get()) == 0) return std::optional<auth::User>();
  auto user = read_user(r->get(), 0);
  if (!user) return unexpected(std::move(user).error());
  return std::optional<auth::User>(std::move(user).value());
}

// An UPDATE by id: kNotFound when it matched no row.
StoreResult<void> update_one(Pool& pool, const std::string& id, const Statement& st,
                             Params params) {
  if (!is_uuid(id)) return fail(Errc::kNotFound, "no such user");
  auto r = run(pool, st, params, /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  if (std::string_view(PQcmdTuples(r->get())) == "0") return fail(Errc::kNotFound, "no such user");
  return {};
}

}  // namespace

StoreResult<void> PgUserStore::create(const auth::User& user) {
  if (!is_uuid(user.id)) return fail(Errc::kInternal, "user id is not a UUID");
  Params p;
  p.text(user.id)
      .text(ascii_lower(user.email))
      .text(user.password_hash)
      .text_array(user.roles)
      .text(user.tenant_id)
      .boolean(user.disabled)
      .int64(user.session_version)
      .int64(user.created_at)
      .int64(user.updated_at);
  auto r = run(pool_, kCreate, p, /*retry_safe=*/false);
  if (!r) return unexpected(std::move(r).error());
  return {};
}

StoreResult<std::optional<auth::User>> PgUserStore::find_by_email(const std::string& email) {
  Params p;
  p.text(email);
  return find_one(pool_, kFindByEmail, std::move(p));
}

StoreResult<std::optional<auth::User>> PgUserStore::find_by_id(const std::string& id) {
  if (!is_uuid(id)) return std::optional<auth::User>();
  Params p;
  p.text(id);
  return find_one(pool_, kFindById, std::move(p));
}

StoreResult<void> PgUserStore::set_password_hash(const std::string& id, const std::string& hash,
                                                 std::int64_t now) {
  Params p;
  p.text(id).text(hash).int64(now);
  return update_one(pool_, id, kSetPasswordHash, std::move(p));
}

StoreResult<void> PgUserStore::set_disabled(const std::string& id, bool disabled,
                                            std::int64_t now) {
  Params p;
  p.text(id).boolean(disabled).int64(now);
  return update_one(pool_, id, kSetDisabled, std::move(p));
}

StoreResult<void> PgUserStore::set_roles(const std::string& id,
                                         const std::vector<std::string>& roles, std::int64_t now) {
  Params p;
  p.text(id).text_array(roles).int64(now);
  return update_one(pool_, id, kSetRoles, std::move(p));
}

StoreResult<std::int64_t> PgUserStore::bump_session_version(const std::string& id,
                                                            std::int64_t now) {
  if (!is_uuid(id)) return fail(Errc::kNotFound, "no such user");
  Params p;
  p.text(id).int64(now);
  // Not retried: a lost connection may have committed the increment already.
  auto r = run(pool_, kBumpSessionVersion, p, /*retry_safe=*/false);
  if (!r) return unexpected(std::move(r).error());
  if (PQntuples(r->get()) == 0) return fail(Errc::kNotFound, "no such user");
  Row row(r->get(), 0);
  const std::int64_t version = row.int64(0);
  if (!row.ok()) return fail(Errc::kInternal, "postgres: malformed session_version");
  return version;
}

StoreResult<std::vector<auth::User>> PgUserStore::list(std::size_t limit, std::size_t offset) {
  Params p;
  p.int64(clamp_count(limit)).int64(clamp_count(offset));
  auto r = run(pool_, kList, p, /*retry_safe=*/true);
  if (!r) return unexpected(std::move(r).error());
  std::vector<auth::User> users;
  const int n = PQntuples(r->get());
  users.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto u = read_user(r->get(), i);
    if (!u) return unexpected(std::move(u).error());
    users.push_back(std::move(u).value());
  }
  return users;
}

}  // namespace authd::store::postgres
