// What every authctl command shares: usage, parsing helpers, the password prompt, audit
// records, and notices to running replicas through Redis.

#include <termios.h>
#include <unistd.h>

#include <ctime>
#include <iostream>

#include "app/audit_sink.h"
#include "app/authctl/authctl.h"
#include "app/components.h"
#include "authd/auth/service.h"
#include "authd/cache/redis_client.h"
#include "authd/cache/redis_revocation_list.h"

namespace authd::authctl {

const char* const kUsage =
    "usage: authctl [--config FILE] [--dev] [--data DIR] [--set SECTION.KEY=VALUE] COMMAND\n"
    "commands:\n"
    "  user add EMAIL [--roles R1,R2] [--tenant T]   password read from stdin\n"
    "  user list\n"
    "  user disable EMAIL | user enable EMAIL          disable also revokes every session\n"
    "  user set-password EMAIL                         password from stdin; ends every session\n"
    "  user roles EMAIL R1,R2\n"
    "  client add ID [--grants G1,G2] [--scopes S1,S2] [--origins O1,O2] [--grace SECONDS]\n"
    "             [--permissions introspect] [--audiences A1,A2] [--access-ttl SECONDS]\n"
    "             [--jwk PUBLIC_JWK_FILE | --jwks-uri URL] [--secret] [--redirect-uris U1,U2]\n"
    "             [--post-logout-uris U1,U2]\n"
    "                          --redirect-uris: where /oauth2/authorize may send codes (grant\n"
    "                          authorization_code; PKCE S256 is always required);\n"
    "                          --secret: confidential; authd generates the secret, shown once;\n"
    "                          --jwk: confidential by private_key_jwt (RFC 7523) instead;\n"
    "                          --jwks-uri: the same, with the keys at the client's https JWKS\n"
    "                          URL (fetched and cached by authd; replaces --jwk and back);\n"
    "                          an existing ID is refused (use update)\n"
    "  client update ID [the options of add but --secret]   named options are replaced\n"
    "  client rotate-secret ID [--overlap SECONDS]     a new generated secret, shown once; the\n"
    "                          old one keeps working for SECONDS (default 0)\n"
    "  client show ID | client delete ID | client list\n"
    "  keys list | keys rotate\n"
    "  sessions list EMAIL | sessions revoke SESSION_ID\n"
    "  migrate\n";

std::string iso(std::int64_t t) {
  if (t == INT64_MAX) return "-";
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string read_password() {
  termios saved{};
  const bool tty = isatty(0) && tcgetattr(0, &saved) == 0;
  if (tty) {
    // Echo off before the prompt, as getpass does: what is typed after the prompt appears is
    // neither shown nor flushed away.
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(0, TCSAFLUSH, &quiet);
    std::cerr << "password: " << std::flush;
  }
  std::string pw;
  std::getline(std::cin, pw);
  if (tty) {
    tcsetattr(0, TCSAFLUSH, &saved);
    std::cerr << "\n";
  }
  if (!pw.empty() && pw.back() == '\r') pw.pop_back();
  return pw;
}

int fail(const std::string& msg, int code) {
  std::cerr << "authctl: " << msg << "\n";
  return code;
}

/// An operator's change, as an audit record with actor "authctl", to the daemon's audit.sink,
/// except that `stdout` means stderr here: the command's own output is read by scripts.
void audit(Ctx& c, auth::AuditEvent e) {
  config::AuditConfig where = c.cfg.audit;
  if (where.sink == config::AuditSink::kStdout) where.sink = config::AuditSink::kStderr;
  std::string error;
  auto sink = app::StreamAuditSink::open(where, error);
  if (!sink) {
    std::cerr << "authctl: " << error << "\n";
    return;
  }
  e.time = c.clock.now_unix();
  if (e.outcome.empty()) e.outcome = "success";
  e.actor = "authctl";
  sink->write(e);
}

void audit_user(Ctx& c, const char* reason, const std::string& user_id) {
  audit(c, {.type = "user.changed", .reason = reason, .user_id = user_id});
}

void audit_client(Ctx& c, const char* reason, const std::string& client_id) {
  audit(c, {.type = "client.changed", .reason = reason, .client_id = client_id});
}

/// Families an operator's command ended, one record each, as the daemon records its own.
void audit_revoked(Ctx& c, const char* reason, const std::string& user_id,
                   const std::vector<std::string>& session_ids) {
  for (const auto& id : session_ids)
    audit(c, {.type = "session.revoked", .reason = reason, .user_id = user_id, .session_id = id});
}

Result<auth::User, std::string> find_user(Ctx& c, const std::string& email) {
  auto norm = auth::normalize_email(email);
  if (!norm) return unexpected("'" + email + "' is not an email address");
  auto u = c.db->users().find_by_email(*norm);
  if (!u) return unexpected(u.error().message);
  if (!u->has_value()) return unexpected("no user " + *norm);
  return **u;
}

/// A client for the configured Redis, or null (no Redis, or unreachable: `otherwise` says
/// what that means for the command).
std::unique_ptr<cache::RedisClient> connect_redis(const config::Config& cfg,
                                                  const char* otherwise) {
  if (cfg.redis.url.empty()) return nullptr;
  auto opts = cache::parse_redis_url(cfg.redis.url);
  if (!opts) return nullptr;
  if (!cfg.redis.password_file.empty()) {
    auto password = app::read_password_file("redis.password_file", cfg.redis.password_file);
    if (!password) {
      std::cerr << "authctl: " << password.error().message << "\n";
      return nullptr;
    }
    opts->password = std::move(*password);
  }
  auto client = cache::RedisClient::create(*opts);
  if (!client || !(*client)->wait_until_available(std::chrono::seconds(2))) {
    std::cerr << "authctl: Redis unreachable; " << otherwise << "\n";
    return nullptr;
  }
  return std::move(*client);
}

/// Tells running replicas of a change (an event on the events channel): reload the key ring
/// now (they would anyway at their next poll), or forget a cached client.
void notify_replicas(const config::Config& cfg, const std::string& event, const char* otherwise) {
  if (auto client = connect_redis(cfg, otherwise))
    (void)client->publish(std::string(cache::kEventsChannel), event);
}

/// Revoked sessions' access tokens must stop working on every replica now, as when authd
/// itself revokes: replicas with Redis check its revocation list, not the store.
void announce_revoked(Ctx& c, const std::vector<std::string>& session_ids) {
  if (session_ids.empty()) return;
  auto client = connect_redis(
      c.cfg, "replicas using Redis accept the sessions' access tokens until they expire");
  if (!client) return;
  cache::RedisRevocationList list(*client, c.clock);
  const std::int64_t until =
      c.clock.now_unix() + c.cfg.auth.access_ttl.count() / 1000 + c.cfg.auth.leeway.count() / 1000;
  for (const auto& id : session_ids) list.revoke_session(id, until);
}

}  // namespace authd::authctl
