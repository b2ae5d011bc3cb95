#include "store/sqlite/json_list.h"
#include "store/sqlite/stores.h"
#include "store/util.h"

namespace authd::store::sqlite {
namespace {

// SQL is laid out by hand.
// clang-format off
#define AUTHD_USER_COLUMNS \
  "id, email, password_hash, roles, tenant_id, disabled, session_version, created_at, updated_at"

constexpr const char* kCreate =
    "INSERT INTO users (" AUTHD_USER_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
// The email column is COLLATE NOCASE, so this is the case-insensitive match Postgres does with
// lower(email).
constexpr const char* kFindByEmail = "SELECT " AUTHD_USER_COLUMNS " FROM users WHERE email = ?1";
constexpr const char* kFindById = "SELECT " AUTHD_USER_COLUMNS " FROM users WHERE id = ?1";
constexpr const char* kSetPasswordHash =
    "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1";
constexpr const char* kSetDisabled = "UPDATE users SET disabled = ?2, updated_at = ?3 WHERE id = ?1";
constexpr const char* kSetRoles = "UPDATE users SET roles = ?2, updated_at = ?3 WHERE id = ?1";
constexpr const char* kBumpSessionVersion =
    "UPDATE users SET session_version = session_version + 1, updated_at = ?2 WHERE id = ?1 "
    "RETURNING session_version";
constexpr const char* kList =
    "SELECT " AUTHD_USER_COLUMNS " FROM users ORDER BY email, id LIMIT ?1 OFFSET ?2";

#undef AUTHD_USER_COLUMNS
// clang-format on

StoreResult<auth::User> read_user(const Query& q) {
  auth::User u;
  u.id = q.text_at(0);
  u.email = q.text_at(1);
  u.password_hash = q.text_at(2);
  auto roles = from_json_list(q.text_at(3));
  if (!roles) return fail(Errc::kInternal, "sqlite: malformed users.roles");
  u.roles = std::move(*roles);
  u.tenant_id = q.text_at(4);
  u.disabled = q.int64_at(5) != 0;
  u.session_version = q.int64_at(6);
  u.created_at = q.int64_at(7);
  u.updated_at = q.int64_at(8);
  return u;
}

StoreResult<std::optional<auth::User>> find_one(Connection& conn, const char* sql,
                                                const std::string& key) {
  auto q = conn.query(sql);
  if (!q) return unexpected(std::move(q).error());
  q->text(key);
  auto row = q->step();
  if (!row) return unexpected(std::move(row).error());
  if (!*row) return std::optional<auth::User>();
  auto user = read_user(*q);
  if (!user) return unexpected(std::move(user).error());
  return std::optional<auth::User>(std::move(user).value());
}

}  // namespace

StoreResult<void> SqliteUserStore::create(const auth::User& user) {
  if (!is_uuid(user.id)) return fail(Errc::kInternal, "user id is not a UUID");
  auto roles = to_json_list(user.roles);
  if (!roles) return fail(Errc::kInternal, "sqlite: a role is not valid UTF-8");
  std::lock_guard lock(shared_.mutex);
  auto q = shared_.conn->query(kCreate);
  if (!q) return unexpected(std::move(q).error());
  q->text(ascii_lower(user.id))
      .text(ascii_lower(user.email))
      .text(user.password_hash)
      .text(*roles)
      .text(user.tenant_id)
      .int64(user.disabled ? 1 : 0)
      .int64(user.session_version)
      .int64(user.created_at)
      .int64(user.updated_at);
  return q->run();
}

StoreResult<std::optional<auth::User>> SqliteUserStore::find_by_email(const std::string& email) {
  std::lock_guard lock(shared_.mutex);
  return find_one(*shared_.conn, kFindByEmail, ascii_lower(email));
}

StoreResult<std::optional<auth::User>> SqliteUserStore::find_by_id(const std::string& id) {
  if (!is_uuid(id)) return std::optional<auth::User>();
  std::lock_guard lock(shared_.mutex);
  return find_one(*shared_.conn, kFindById, ascii_lower(id));
}

namespace {

// Runs an UPDATE by id whose remaining parameters `bind` adds; kNotFound if it matched nothing.
template <class Bind>
StoreResult<void> update_one(Shared& shared, const char* sql, const std::string& id, Bind bind) {
  if (!is_uuid(id)) return fail(Errc::kNotFound, "no such user");
  std::lock_guard lock(shared.mutex);
  auto q = shared.conn->query(sql);
  if (!q) return unexpected(std::move(q).error());
  q->text(ascii_lower(id));
  bind(*q);
  if (auto r = q->run(); !r) return r;
  if (shared.conn->changes() == 0) return fail(Errc::kNotFound, "no such user");
  return {};
}

}  // namespace

StoreResult<void> SqliteUserStore::set_password_hash(const std::string& id, const std::string& hash,
                                                     std::int64_t now) {
  return update_one(shared_, kSetPasswordHash, id, [&](Query& q) { q.text(hash).int64(now); });
}

StoreResult<void> SqliteUserStore::set_disabled(const std::string& id, bool disabled,
                                                std::int64_t now) {
  return update_one(shared_, kSetDisabled, id,
                    [&](Query& q) { q.int64(disabled ? 1 : 0).int64(now); });
}

StoreResult<void> SqliteUserStore::set_roles(const std::string& id,
                                             const std::vector<std::string>& roles,
                                             std::int64_t now) {
  auto json = to_json_list(roles);
  if (!json) return fail(Errc::kInternal, "sqlite: a role is not valid UTF-8");
  return update_one(shared_, kSetRoles, id, [&](Query& q) { q.text(*json).int64(now); });
}

StoreResult<std::int64_t> SqliteUserStore::bump_session_version(const std::string& id,
                                                                std::int64_t now) {
  if (!is_uuid(id)) return fail(Errc::kNotFound, "no such user");
  std::lock_guard lock(shared_.mutex);
  auto q = shared_.conn->query(kBumpSessionVersion);
  if (!q) return unexpected(std::move(q).error());
  q->text(ascii_lower(id)).int64(now);
  auto row = q->step();
  if (!row) return unexpected(std::move(row).error());
  if (!*row) return fail(Errc::kNotFound, "no such user");
  const std::int64_t version = q->int64_at(0);
  if (auto r = q->run(); !r) return unexpected(r.error());
  return version;
}

StoreResult<std::vector<auth::User>> SqliteUserStore::list(std::size_t limit, std::size_t offset) {
  std::lock_guard lock(shared_.mutex);
  auto q = shared_.conn->query(kList);
  if (!q) return unexpected(std::move(q).error());
  q->int64(clamp_count(limit)).int64(clamp_count(offset));
  std::vector<auth::User> users;
  while (true) {
    auto row = q->step();
    if (!row) return unexpected(std::move(row).error());
    if (!*row) break;
    auto u = read_user(*q);
    if (!u) return unexpected(std::move(u).error());
    users.push_back(std::move(u).value());
  }
  return users;
}

}  // namespace authd::store::sqlite
