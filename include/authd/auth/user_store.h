#pragma once
// Users: the identity aggregate. Implemented by src/store/{postgres,sqlite}; the contract is
// pinned by tests/contract/user_store_contract.h.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "authd/store/errc.h"

namespace authd::auth {

struct User {
  std::string id;             ///< UUID, assigned by the caller
  std::string email;          ///< normalised (trimmed, lower-case); unique
  std::string password_hash;  ///< Argon2id encoded string
  std::vector<std::string> roles;
  std::string tenant_id;  ///< "" when none
  bool disabled = false;
  std::int64_t session_version = 0;  ///< bumped by logout-all; tokens carry it
  std::int64_t created_at = 0;       ///< Unix seconds
  std::int64_t updated_at = 0;
};

/// Thread-safe; every call may block on I/O (run on the worker pool).
class UserStore {
 public:
  virtual ~UserStore() = default;
  /// Inserts a new user. kConflict when the email is taken.
  virtual store::StoreResult<void> create(const User& user) = 0;
  /// nullopt when no user has this (normalised) email.
  virtual store::StoreResult<std::optional<User>> find_by_email(const std::string& email) = 0;
  virtual store::StoreResult<std::optional<User>> find_by_id(const std::string& id) = 0;
  /// Replaces the password hash (upgrade on login, set-password). kNotFound if no such user.
  virtual store::StoreResult<void> set_password_hash(const std::string& id, const std::string& hash,
                                                     std::int64_t now) = 0;
  virtual store::StoreResult<void> set_disabled(const std::string& id, bool disabled,
                                                std::int64_t now) = 0;
  virtual store::StoreResult<void> set_roles(const std::string& id,
                                             const std::vector<std::string>& roles,
                                             std::int64_t now) = 0;
  /// Increments session_version and returns the new value (logout-all).
  virtual store::StoreResult<std::int64_t> bump_session_version(const std::string& id,
                                                                std::int64_t now) = 0;
  /// Users ordered by email, for administration.
  virtual store::StoreResult<std::vector<User>> list(std::size_t limit, std::size_t offset) = 0;
};

}  // namespace authd::auth
