#pragma once
// The Postgres implementations of the store interfaces. Private to the Postgres backend.

#include "authd/auth/client_store.h"
#include "authd/auth/code_store.h"
#include "authd/auth/session_store.h"
#include "authd/auth/user_store.h"
#include "authd/keys/key_store.h"
#include "store/postgres/event_loop.h"
#include "store/postgres/pool.h"

namespace authd::store::postgres {

/// Advisory-lock classes (the first key of the two-int form). The second key is a hash of the
/// current schema, so deployments (and test fixtures) in different schemas of one database do
/// not block each other. 0x6175 is "au".
inline constexpr int kMigrateLockClass = 0x61750001;
inline constexpr int kKeyRotationLockClass = 0x61750002;

/// Runs one prepared statement on a pooled connection. A statement that only reads (or writes
/// the same value again) is retried once on a fresh connection when a pooled one turns out to
/// have died while idle, which is what every connection does after a failover.
StoreResult<ResultPtr> run(Pool& pool, const Statement& statement, const Params& params,
                           bool retry_safe);

class PgUserStore final : public auth::UserStore {
 public:
  explicit PgUserStore(Pool& pool) : pool_(pool) {}
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
  Pool& pool_;
};

class PgSessionStore final : public auth::SessionStore {
 public:
  explicit PgSessionStore(Pool& pool) : pool_(pool) {}
  StoreResult<void> create(const auth::Session& session,
                           const auth::NewRefreshToken& first) override;
  StoreResult<auth::RotateResult> rotate(const auth::RotateRequest& request) override;
  bool rotate_async(const auth::RotateRequest& request, auth::RotateCallback done) override;
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

  /// Readies `conn` for rotations before it serves one: prepares the single and the batch
  /// statement and runs each once for a token that cannot exist (nothing is written), so that
  /// the backend has compiled the plpgsql functions and loaded what they read. Failures are
  /// ignored: the first real call then does the same work.
  static void prime(Connection& conn);

 private:
  StoreResult<auth::RotateResult> rotate_once(const auth::RotateRequest& request, bool fresh,
                                              bool& connection_failed);
  Pool& pool_;

 public:
  /// Set while event loops are attached (see Database::attach_event_loops); else null.
  EventLoops* loops = nullptr;
};

class PgClientStore final : public auth::ClientStore {
 public:
  explicit PgClientStore(Pool& pool) : pool_(pool) {}
  StoreResult<void> upsert(const auth::Client& client) override;
  StoreResult<void> create(const auth::Client& client) override;
  StoreResult<bool> remove(const std::string& id) override;
  StoreResult<bool> use_assertion(const std::string& key, std::int64_t until,
                                  std::int64_t now) override;
  StoreResult<std::size_t> purge_assertions(std::int64_t now, std::size_t limit) override;
  StoreResult<std::optional<auth::Client>> find(const std::string& id) override;
  StoreResult<std::vector<auth::Client>> list() override;

 private:
  Pool& pool_;
};

class PgCodeStore final : public auth::CodeStore {
 public:
  explicit PgCodeStore(Pool& pool) : pool_(pool) {}
  StoreResult<void> create(const auth::AuthorizationCode& code) override;
  StoreResult<std::optional<auth::CodeRedemption>> redeem(const std::string& hash, std::int64_t now,
                                                          const std::string& session_id) override;
  StoreResult<std::vector<std::string>> families(const std::string& browser_session_id) override;
  StoreResult<std::size_t> purge(std::int64_t cutoff, std::size_t limit) override;

 private:
  Pool& pool_;
};

class PgKeyStore final : public keys::KeyStore {
 public:
  explicit PgKeyStore(Pool& pool) : pool_(pool) {}
  StoreResult<std::vector<keys::StoredKey>> list() override;
  StoreResult<bool> rotate_exclusive(
      const std::function<keys::KeyChanges(const std::vector<keys::StoredKey>&)>& plan) override;

 private:
  Pool& pool_;
};

/// LIMIT/OFFSET arguments: size_t values beyond int64 mean "no limit".
inline std::int64_t clamp_count(std::size_t n) {
  constexpr auto kMax = static_cast<std::size_t>(INT64_MAX);
  return static_cast<std::int64_t>(n > kMax ? kMax : n);
}

}  // namespace authd::store::postgres
