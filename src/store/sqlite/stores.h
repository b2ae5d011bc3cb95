#pragma once
// The SQLite implementations of the store interfaces. Private to the SQLite backend.

#include <mutex>

#include "authd/auth/client_store.h"
#include "authd/auth/code_store.h"
#include "authd/auth/session_store.h"
#include "authd/auth/user_store.h"
#include "authd/keys/key_store.h"
#include "store/sqlite/connection.h"

namespace authd::store::sqlite {

/// The one connection and the mutex that serialises every use of it.
struct Shared {
  std::mutex mutex;
  std::unique_ptr<Connection> conn;
};

class SqliteUserStore final : public auth::UserStore {
 public:
  explicit SqliteUserStore(Shared& shared) : shared_(shared) {}
  StoreResult<void> create(const auth::User& user) override;
  StoreResult<std::optional<auth::User>> find_by_email(const std::string& email) override;
  StoreResult<std::optional<auth::User>> find_by_id(const std::string& id) override;
  StoreResult<void> set_password_hash(const std::string& id, const std::string& hash,
                                      std::int64_t now) override;
  StoreResult<void> set_disabled(const std::string& id, bool disabled, std::int64_t now) override;
  StoreResult<void> set_roles(const std::string& id, const std::vector<std::string>& roles,
                              std::int64_t now) override;
  StoreResult<std::int64_t> bump_session_version(const std::string& id, std::int64_t now) override;
  StoreResult<std::vector<auth::User>> list(std::size_t limit, std::size_t offset) override;

 private:
  Shared& shared_;
};

class SqliteSessionStore final : public auth::SessionStore {
 public:
  explicit SqliteSessionStore(Shared& shared) : shared_(shared) {}
  StoreResult<void> create(const auth::Session& session,
                           const auth::NewRefreshToken& first) override;
  StoreResult<auth::RotateResult> rotate(const auth::RotateRequest& request) override;
  StoreResult<std::optional<auth::Session>> find(const std::string& session_id) override;
  StoreResult<std::optional<auth::Session>> find_by_token(const std::string& token_hash) override;
  StoreResult<std::vector<auth::Session>> list_active(const std::string& user_id,
                                                      std::int64_t now) override;
  StoreResult<bool> revoke(const std::string& session_id, const std::string& reason,
                           std::int64_t now) override;
  StoreResult<std::vector<std::string>> revoke_all(const std::string& user_id,
                                                   const std::string& reason,
                                                   std::int64_t now) override;
  StoreResult<std::vector<std::string>> revoked_since(std::int64_t since) override;
  StoreResult<void> revoke_token(const std::string& jti, std::int64_t until) override;
  StoreResult<bool> is_token_revoked(const std::string& jti) override;
  StoreResult<std::vector<std::pair<std::string, std::int64_t>>> revoked_tokens(
      std::int64_t now, std::size_t limit) override;
  StoreResult<std::size_t> purge(std::int64_t cutoff, std::size_t limit) override;

 private:
  Shared& shared_;
};

class SqliteClientStore final : public auth::ClientStore {
 public:
  explicit SqliteClientStore(Shared& shared) : shared_(shared) {}
  StoreResult<void> upsert(const auth::Client& client) override;
  StoreResult<void> create(const auth::Client& client) override;
  StoreResult<bool> remove(const std::string& id) override;
  StoreResult<bool> use_assertion(const std::string& key, std::int64_t until,
                                  std::int64_t now) override;
  StoreResult<std::size_t> purge_assertions(std::int64_t now, std::size_t limit) override;

 private:
  StoreResult<void> write(const char* sql, const auth::Client& client);

 public:
  StoreResult<std::optional<auth::Client>> find(const std::string& id) override;
  StoreResult<std::vector<auth::Client>> list() override;

 private:
  Shared& shared_;
};

class SqliteCodeStore final : public auth::CodeStore {
 public:
  explicit SqliteCodeStore(Shared& shared) : shared_(shared) {}
  StoreResult<void> create(const auth::AuthorizationCode& code) override;
  StoreResult<std::optional<auth::CodeRedemption>> redeem(const std::string& hash, std::int64_t now,
                                                          const std::string& session_id) override;
  StoreResult<std::vector<std::string>> families(const std::string& browser_session_id) override;
  StoreResult<std::size_t> purge(std::int64_t cutoff, std::size_t limit) override;

 private:
  Shared& shared_;
};

class SqliteKeyStore final : public keys::KeyStore {
 public:
  explicit SqliteKeyStore(Shared& shared) : shared_(shared) {}
  StoreResult<std::vector<keys::StoredKey>> list() override;
  StoreResult<bool> rotate_exclusive(
      const std::function<keys::KeyChanges(const std::vector<keys::StoredKey>&)>& plan) override;

 private:
  Shared& shared_;
  std::mutex rotation_;  // in-process exclusion; try-locked so a second caller returns false
};

/// LIMIT/OFFSET arguments: size_t values beyond int64 mean "no limit".
inline std::int64_t clamp_count(std::size_t n) {
  constexpr auto kMax = static_cast<std::size_t>(INT64_MAX);
  return static_cast<std::int64_t>(n > kMax ? kMax : n);
}

}  // namespace authd::store::sqlite
