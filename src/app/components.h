#pragma once
// Shared construction for authd and authctl: opening the store, reading secrets, and the
// settings each module takes from the configuration.
// Failures come back as a message for the operator and an exit code.

#include <memory>
#include <string>
#include <string_view>

#include "authd/auth/settings.h"
#include "authd/config/config.h"
#include "authd/crypto/keyed_hash.h"
#include "authd/crypto/password.h"
#include "authd/crypto/secret.h"
#include "authd/keys/settings.h"
#include "authd/store/database.h"

namespace authd::app {

struct Failure {
  int exit_code = 1;
  std::string message;
};

template <class T>
using AppResult = Result<T, Failure>;

/// Opens Postgres or SQLite as configured (creating the data dir in dev mode).
AppResult<std::unique_ptr<store::Database>> open_database(const config::Config& cfg);

/// Applies migrations when configured (dev), else checks the schema is the one this build knows.
AppResult<int> prepare_schema(store::Database& db, const config::Config& cfg);

/// The refresh-token pepper (created in dev mode).
AppResult<crypto::KeyedHasher> load_pepper(const config::Config& cfg);
/// The password in a password file (`setting` names it in the error: "store.password_file"),
/// read with the permission checks of every secret file; exit code 2 when it cannot be read.
AppResult<std::string> read_password_file(std::string_view setting, const std::string& path);
/// The key-encryption key (created in dev mode).
AppResult<crypto::Secret> load_kek(const config::Config& cfg);

keys::Settings key_settings(const config::Config& cfg);
crypto::PasswordParams password_params(const config::Config& cfg);
/// The auth service's settings from auth.* and limits.*; an empty issuer is filled in by the
/// daemon once the public listener is bound.
auth::Settings auth_settings(const config::Config& cfg);

}  // namespace authd::app
