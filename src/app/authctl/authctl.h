#pragma once
// authctl's pieces: what every subcommand shares (configuration, store, audit records,
// notices to running replicas) and one entry point per command group.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "authd/auth/audit.h"
#include "authd/auth/user_store.h"
#include "authd/config/config.h"
#include "authd/core/clock.h"
#include "authd/core/result.h"
#include "authd/store/database.h"

namespace authd::authctl {

/// The usage text, printed for --help and on a malformed command.
extern const char* const kUsage;

struct Ctx {
  config::Config cfg;
  std::unique_ptr<store::Database> db;
  SystemClock clock;
  SystemRandom random;
};

/// A Unix time as ISO 8601 UTC ("-" for never).
std::string iso(std::int64_t t);
/// "a,b,,c" -> {"a","b","c"}.
std::vector<std::string> split(const std::string& s);
/// From a terminal, without echo (as passwd does); from a pipe, one line.
std::string read_password();
/// Prints "authctl: msg" to stderr and returns `code`.
int fail(const std::string& msg, int code = 1);

/// An operator's change, as an audit record with actor "authctl", to the daemon's audit.sink,
/// except that `stdout` means stderr here: the command's own output is read by scripts.
void audit(Ctx& c, auth::AuditEvent e);
void audit_user(Ctx& c, const char* reason, const std::string& user_id);
void audit_client(Ctx& c, const char* reason, const std::string& client_id);
/// Families an operator's command ended, one record each, as the daemon records its own.
void audit_revoked(Ctx& c, const char* reason, const std::string& user_id,
                   const std::vector<std::string>& session_ids);

Result<auth::User, std::string> find_user(Ctx& c, const std::string& email);

/// Tells running replicas of a change (an event on the events channel): reload the key ring
/// now (they would anyway at their next poll), or forget a cached client.
void notify_replicas(const config::Config& cfg, const std::string& event, const char* otherwise);
/// Revoked sessions' access tokens must stop working on every replica now, as when authd
/// itself revokes: replicas with Redis check its revocation list, not the store.
void announce_revoked(Ctx& c, const std::vector<std::string>& session_ids);

// The command groups: `a` is what follows the group's name.
int user_cmd(Ctx& c, std::vector<std::string> a);
int sessions_cmd(Ctx& c, const std::vector<std::string>& a);
int keys_cmd(Ctx& c, const std::vector<std::string>& a);
int client_cmd(Ctx& c, std::vector<std::string> a);

}  // namespace authd::authctl
