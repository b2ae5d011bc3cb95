// authctl: administration of users, keys, sessions and the schema. Talks to the store directly,
// with the same configuration (file, AUTHD_* env, flags) as authd. Passwords are read from
// stdin, never from argv (which other users can see in ps).

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/audit_sink.h"
#include "app/client_jwks.h"
#include "app/components.h"
#include "authd/auth/client_secret.h"
#include "authd/auth/protocol.h"
#include "authd/auth/redirect_uri.h"
#include "authd/auth/service.h"
#include "authd/cache/redis_client.h"
#include "authd/cache/redis_revocation_list.h"
#include "authd/config/config.h"
#include "authd/core/clock.h"
#include "authd/crypto/password.h"
#include "authd/jose/key.h"
#include "authd/keys/key_ring.h"
#include "authd/keys/rotation.h"

namespace {

using namespace authd;

constexpr const char* kUsage =
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

// From a terminal, without echo (as passwd does); from a pipe, one line.
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

int fail(const std::string& msg, int code = 1) {
  std::cerr << "authctl: " << msg << "\n";
  return code;
}

struct Ctx {
  config::Config cfg;
  std::unique_ptr<store::Database> db;
  SystemClock clock;
  SystemRandom random;
};

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

int user_cmd(Ctx& c, std::vector<std::string> a) {
  if (a.empty()) return fail(kUsage, 2);
  const auto now = c.clock.now_unix();
  const auto params = app::password_params(c.cfg);
  auto& users = c.db->users();
  if (a[0] == "list") {
    auto list = users.list(10000, 0);
    if (!list) return fail(list.error().message);
    std::cout << "ID\tEMAIL\tROLES\tTENANT\tDISABLED\tCREATED\n";
    for (const auto& u : *list) {
      std::string roles;
      for (const auto& r : u.roles) roles += (roles.empty() ? "" : ",") + r;
      std::cout << u.id << "\t" << u.email << "\t" << roles << "\t" << u.tenant_id << "\t"
                << (u.disabled ? "yes" : "no") << "\t" << iso(u.created_at) << "\n";
    }
    return 0;
  }
  if (a.size() < 2) return fail(kUsage, 2);
  if (a[0] == "add") {
    auto email = auth::normalize_email(a[1]);
    if (!email) return fail("'" + a[1] + "' is not an email address", 2);
    auth::User u;
    for (std::size_t i = 2; i + 1 < a.size(); i += 2) {
      if (a[i] == "--roles")
        u.roles = split(a[i + 1]);
      else if (a[i] == "--tenant")
        u.tenant_id = a[i + 1];
      else
        return fail("unknown option " + a[i], 2);
    }
    const auto pw = read_password();
    if (pw.size() < 8) return fail("password must be at least 8 characters", 2);
    auto hash = crypto::hash_password(pw, params);
    if (!hash) return fail("hashing failed");
    u.id = make_uuid_v4(c.random);
    u.email = *email;
    u.password_hash = *hash;
    u.created_at = u.updated_at = now;
    auto r = users.create(u);
    if (!r)
      return fail(r.error().code == store::Errc::kConflict ? "a user with this email exists"
                                                           : r.error().message);
    audit_user(c, "created", u.id);
    std::cout << u.id << "\n";
    return 0;
  }
  auto user = find_user(c, a[1]);
  if (!user) return fail(user.error());
  if (a[0] == "disable" || a[0] == "enable") {
    const bool disable = a[0] == "disable";
    if (auto r = users.set_disabled(user->id, disable, now); !r) return fail(r.error().message);
    audit_user(c, disable ? "disabled" : "enabled", user->id);
    if (disable) {
      auto ids = c.db->sessions().revoke_all(user->id, "account_disabled", now);
      if (!ids) return fail(ids.error().message);
      audit_revoked(c, "account_disabled", user->id, *ids);
      announce_revoked(c, *ids);
      std::cout << "disabled " << user->email << "; revoked " << ids->size() << " session(s)\n";
    } else {
      std::cout << "enabled " << user->email << "\n";
    }
    return 0;
  }
  if (a[0] == "set-password") {
    const auto pw = read_password();
    if (pw.size() < 8) return fail("password must be at least 8 characters", 2);
    auto hash = crypto::hash_password(pw, params);
    if (!hash) return fail("hashing failed");
    if (auto r = users.set_password_hash(user->id, *hash, now); !r) return fail(r.error().message);
    audit_user(c, "password_changed", user->id);
    // Whoever knew the old password may hold a session: a new password ends them all.
    auto ids = c.db->sessions().revoke_all(user->id, "password_changed", now);
    if (!ids) return fail(ids.error().message);
    audit_revoked(c, "password_changed", user->id, *ids);
    announce_revoked(c, *ids);
    std::cout << "password changed for " << user->email << "; revoked " << ids->size()
              << " session(s)\n";
    return 0;
  }
  if (a[0] == "roles") {
    if (a.size() < 3) return fail(kUsage, 2);
    if (auto r = users.set_roles(user->id, split(a[2]), now); !r) return fail(r.error().message);
    audit_user(c, "roles_changed", user->id);
    std::cout << "roles of " << user->email << ": " << a[2] << "\n";
    return 0;
  }
  return fail(kUsage, 2);
}

int keys_cmd(Ctx& c, const std::vector<std::string>& a) {
  if (a.empty()) return fail(kUsage, 2);
  auto kek = app::load_kek(c.cfg);
  if (!kek) return fail(kek.error().message);
  keys::KeyRing ring(c.db->keys(), std::move(*kek), c.clock, app::key_settings(c.cfg));
  if (auto l = ring.load(); !l) return fail(l.error().message);
  if (a[0] == "rotate") {
    auto r = ring.rotate(/*force=*/true);  // on demand: a new key now, published ahead as usual
    if (!r) return fail(r.error().message);
    if (!r->ran) return fail("another replica holds the rotation lock; try again");
    for (const auto& [kid, outcome] : r->keys_made())
      audit(
          c,
          {.type = "key.rotated", .reason = std::string(keys::to_string(outcome)), .key_id = kid});
    notify_replicas(c.cfg, R"({"type":"keys_changed"})",
                    "replicas will pick the key up at their next poll");
    std::cout << "rotation: "
              << (r->kid.empty() ? "nothing to do (a next key is already pending)"
                                 : "new key " + r->kid)
              << "\n";
    if (!r->id_token_kid.empty())
      std::cout << "ID-token rotation: new key " << r->id_token_kid << "\n";
  } else if (a[0] != "list") {
    return fail(kUsage, 2);
  }
  static const char* kStates[] = {"next", "active", "retiring", "removed"};
  std::cout << "KID\tALG\tSTATE\tSIGNING\tCREATED\tACTIVATES\tRETIRES\tREMOVED\n";
  for (const auto& k : ring.describe())
    std::cout << k.kid << "\t" << k.alg << "\t" << kStates[static_cast<int>(k.state)] << "\t"
              << (k.signing && k.signs_id_tokens ? "access,id_token"
                  : k.signing                    ? "access"
                  : k.signs_id_tokens            ? "id_token"
                                                 : "")
              << "\t" << iso(k.created_at) << "\t" << iso(k.activate_at) << "\t" << iso(k.retire_at)
              << "\t" << iso(k.remove_at) << "\n";
  return 0;
}

int sessions_cmd(Ctx& c, const std::vector<std::string>& a) {
  if (a.size() < 2) return fail(kUsage, 2);
  const auto now = c.clock.now_unix();
  if (a[0] == "list") {
    auto user = find_user(c, a[1]);
    if (!user) return fail(user.error());
    auto list = c.db->sessions().list_active(user->id, now);
    if (!list) return fail(list.error().message);
    std::cout << "ID\tCLIENT\tCREATED\tLAST_USED\tIP\tUSER_AGENT\n";
    for (const auto& s : *list)
      std::cout << s.id << "\t" << s.client_id << "\t" << iso(s.created_at) << "\t"
                << iso(s.last_used_at) << "\t" << s.ip << "\t" << s.user_agent << "\n";
    return 0;
  }
  if (a[0] == "revoke") {
    auto r = c.db->sessions().revoke(a[1], "admin", now);
    if (!r) return fail(r.error().message);
    if (*r) {
      audit_revoked(c, "admin", "", {a[1]});
      announce_revoked(c, {a[1]});
    }
    std::cout << (*r ? "revoked " : "already revoked ") << a[1] << "\n";
    return 0;
  }
  return fail(kUsage, 2);
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ",") + x;
  return out;
}

/// A new secret for `cl`: generated here (256 bits; a human-chosen secret is never accepted),
/// stored as a keyed digest under the server pepper, and printed once.
Result<std::string, std::string> new_client_secret(Ctx& c, auth::Client& cl) {
  auto pepper = app::load_pepper(c.cfg);
  if (!pepper) return unexpected(pepper.error().message);
  const std::string secret = auth::ClientSecretCodec::generate(c.random);
  cl.secret_hash = auth::ClientSecretCodec(*pepper).store_hash(cl.id, secret);
  return secret;
}

void print_secret_once(const std::string& secret) {
  std::cout << "client_secret: " << secret << "\n"
            << "(shown once: authd keeps only a keyed hash of it)\n";
}

/// Every replica drops its cached copy of the client (within a second, through Redis).
void client_changed(Ctx& c, const std::string& id) {
  nlohmann::json event = {{"type", "client_changed"}, {"client_id", id}};
  notify_replicas(c.cfg, event.dump(),
                  "replicas see the change when their cached copy expires (auth client cache)");
}

/// Parses the policy options of `client add` and `client update` from a[i...] into `cl`.
/// Returns an error message, or "".
std::string client_options(const std::vector<std::string>& a, std::size_t i, auth::Client& cl,
                           bool* secret) {
  auto seconds = [](const std::string& v, long max, long& out) {
    char* end = nullptr;
    out = std::strtol(v.c_str(), &end, 10);
    return !v.empty() && *end == '\0' && out >= 0 && out <= max;
  };
  for (; i < a.size(); ++i) {
    const bool has_value = i + 1 < a.size();
    long n = 0;
    if (a[i] == "--secret" && secret) {
      *secret = true;
    } else if (a[i] == "--grants" && has_value) {
      cl.grant_types = split(a[++i]);
    } else if (a[i] == "--scopes" && has_value) {
      cl.scopes = split(a[++i]);
    } else if (a[i] == "--origins" && has_value) {
      cl.allowed_origins = split(a[++i]);
    } else if (a[i] == "--permissions" && has_value) {
      cl.permissions = split(a[++i]);
    } else if (a[i] == "--jwk" && has_value) {
      // private_key_jwt: the client's public key; a private one is refused (it stays with
      // the client).
      std::ifstream f(a[++i]);
      if (!f) return "cannot read " + a[i];
      const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      auto key = jose::Key::from_jwk(text);
      if (!key) return a[i] + " is not a usable JWK (RS256, ES256 or EdDSA)";
      if ((*key)->has_private()) return a[i] + " holds a private key: register the public JWK only";
      cl.jwk = (*key)->public_jwk().dump();
      cl.jwks_uri.clear();
    } else if (a[i] == "--jwks-uri" && has_value) {
      // private_key_jwt with keys the client publishes (and rotates) itself.
      if (!app::jwks_uri_registrable(a[++i]))
        return "--jwks-uri must be an https URL without credentials or fragment (http only on a "
               "loopback host, fetched only with auth.client_jwks_allow_loopback_http)";
      cl.jwks_uri = a[i];
      cl.jwk.clear();
    } else if (a[i] == "--redirect-uris" && has_value) {
      cl.redirect_uris = split(a[++i]);
    } else if (a[i] == "--post-logout-uris" && has_value) {
      cl.post_logout_redirect_uris = split(a[++i]);
    } else if (a[i] == "--audiences" && has_value) {
      cl.audiences = split(a[++i]);
    } else if (a[i] == "--access-ttl" && has_value) {
      if (!seconds(a[++i], 86400, n))
        return "--access-ttl must be a number of seconds in [0, 86400] (0: auth.access_ttl)";
      cl.access_ttl_seconds = n;
    } else if (a[i] == "--grace" && has_value) {
      if (!seconds(a[++i], 60, n)) return "--grace must be a number of seconds in [0, 60]";
      cl.refresh_grace_seconds = n;
    } else {
      return "unknown or incomplete option " + a[i];
    }
  }
  for (const auto& g : cl.grant_types)
    if (!auth::protocol::supports(auth::protocol::kGrantTypes, g))
      return "unknown grant type '" + g +
             "' (authorization_code, refresh_token, client_credentials, password)";
  for (const auto* list : {&cl.redirect_uris, &cl.post_logout_redirect_uris})
    for (const auto& u : *list)
      if (!auth::redirect_uri::registrable(u))
        return "'" + u +
               "' cannot be registered: an absolute https URI, http on loopback, or an app's "
               "private-use scheme (com.example.app:/cb), without a fragment";
  const bool wants_code = std::find(cl.grant_types.begin(), cl.grant_types.end(),
                                    "authorization_code") != cl.grant_types.end();
  if (wants_code && cl.redirect_uris.empty())
    return "the authorization_code grant needs --redirect-uris";
  for (const auto& p : cl.permissions)
    if (p != auth::kPermissionIntrospect) return "unknown permission '" + p + "' (introspect)";
  const bool confidential = cl.confidential() || (secret && *secret);
  const bool wants_cc = std::find(cl.grant_types.begin(), cl.grant_types.end(),
                                  "client_credentials") != cl.grant_types.end();
  if ((wants_cc || !cl.permissions.empty()) && !confidential)
    return "client_credentials and permissions need a confidential client (--secret)";
  return "";
}

void print_client(const auth::Client& cl) {
  std::cout << "id\t" << cl.id << "\n"
            << "type\t" << (cl.confidential() ? "confidential" : "public") << "\n"
            << "grants\t" << joined(cl.grant_types) << "\n"
            << "scopes\t" << joined(cl.scopes) << "\n"
            << "audiences\t" << joined(cl.audiences) << "\n"
            << "permissions\t" << joined(cl.permissions) << "\n"
            << "origins\t" << joined(cl.allowed_origins) << "\n"
            << "redirect_uris\t" << joined(cl.redirect_uris) << "\n"
            << "post_logout_uris\t" << joined(cl.post_logout_redirect_uris) << "\n"
            << "refresh_grace\t" << cl.refresh_grace_seconds << "s\n"
            << "access_ttl\t"
            << (cl.access_ttl_seconds > 0 ? std::to_string(cl.access_ttl_seconds) + "s"
                                          : std::string("auth.access_ttl"))
            << "\n"
            << "auth_method\t"
            << (cl.uses_assertions()
                    ? "private_key_jwt"
                    : (cl.confidential() ? "client_secret_basic, client_secret_post"
                                         : "none (public)"))
            << "\n"
            << "jwks_uri\t" << (cl.jwks_uri.empty() ? std::string("-") : cl.jwks_uri) << "\n"
            << "previous_secret_until\t"
            << (cl.previous_secret_hash.empty() ? std::string("-")
                                                : iso(cl.previous_secret_expires_at))
            << "\n"
            << "created\t" << iso(cl.created_at) << "\n";
}

/// OAuth clients: add (never replacing), update, delete, show, list, rotate-secret. --secret
/// makes a client confidential (it must authenticate wherever it is named); authd generates
/// the secret. Every change is announced to running replicas.
int client_cmd(Ctx& c, std::vector<std::string> a) {
  auto& clients = c.db->clients();
  if (a.size() == 1 && a[0] == "list") {
    auto list = clients.list();
    if (!list) return fail(list.error().message);
    std::cout << "ID\tTYPE\tGRANTS\tSCOPES\tORIGINS\tGRACE\tPERMISSIONS\n";
    for (const auto& cl : *list)
      std::cout << cl.id << "\t" << (cl.confidential() ? "confidential" : "public") << "\t"
                << joined(cl.grant_types) << "\t" << joined(cl.scopes) << "\t"
                << joined(cl.allowed_origins) << "\t" << cl.refresh_grace_seconds << "s\t"
                << joined(cl.permissions) << "\n";
    return 0;
  }
  if (a.size() < 2) return fail(kUsage, 2);
  const std::string& verb = a[0];
  const std::string& id = a[1];
  if (verb == "add") {
    auth::Client cl;
    cl.id = id;
    if (cl.id.empty() || cl.id.size() > 128) return fail("a client id has 1 to 128 characters", 2);
    cl.grant_types = {"password", "refresh_token"};
    bool secret = false;
    if (auto e = client_options(a, 2, cl, &secret); !e.empty()) return fail(e, 2);
    std::string generated;
    if (secret) {
      auto s = new_client_secret(c, cl);
      if (!s) return fail(s.error());
      generated = std::move(*s);
    }
    cl.created_at = c.clock.now_unix();
    if (auto r = clients.create(cl); !r) {
      if (r.error().code == store::Errc::kConflict)
        return fail("client " + cl.id + " exists; change it with `client update`");
      return fail(r.error().message);
    }
    audit_client(c, "created", cl.id);
    std::cout << "client " << cl.id << " (" << (secret ? "confidential" : "public") << ")\n";
    if (secret) print_secret_once(generated);
    return 0;
  }
  auto found = clients.find(id);
  if (!found) return fail(found.error().message);
  if (!found->has_value()) return fail("no client " + id);
  auth::Client cl = **found;
  if (verb == "show" && a.size() == 2) {
    print_client(cl);
    return 0;
  }
  if (verb == "update") {
    if (auto e = client_options(a, 2, cl, nullptr); !e.empty()) return fail(e, 2);
    if (auto r = clients.upsert(cl); !r) return fail(r.error().message);
    client_changed(c, cl.id);
    audit_client(c, "updated", cl.id);
    std::cout << "client " << cl.id << " updated\n";
    return 0;
  }
  if (verb == "delete" && a.size() == 2) {
    if (cl.id == "authd") return fail("the built-in client authd cannot be deleted", 2);
    auto r = clients.remove(cl.id);
    if (!r) return fail(r.error().message);
    client_changed(c, cl.id);
    audit_client(c, "deleted", cl.id);
    std::cout << "client " << cl.id << " deleted\n";
    return 0;
  }
  if (verb == "rotate-secret") {
    long overlap = 0;
    if (a.size() == 4 && a[2] == "--overlap") {
      char* end = nullptr;
      overlap = std::strtol(a[3].c_str(), &end, 10);
      if (a[3].empty() || *end != '\0' || overlap < 0 || overlap > 7 * 86400)
        return fail("--overlap must be a number of seconds in [0, 604800]", 2);
    } else if (a.size() != 2) {
      return fail(kUsage, 2);
    }
    if (!cl.confidential()) return fail("client " + cl.id + " is public: it has no secret", 2);
    const std::string previous = cl.secret_hash;
    auto secret = new_client_secret(c, cl);
    if (!secret) return fail(secret.error());
    cl.previous_secret_hash = overlap > 0 ? previous : std::string();
    cl.previous_secret_expires_at = overlap > 0 ? c.clock.now_unix() + overlap : 0;
    if (auto r = clients.upsert(cl); !r) return fail(r.error().message);
    client_changed(c, cl.id);
    audit_client(c, "secret_rotated", cl.id);
    if (overlap > 0)
      std::cout << "client " << cl.id << ": new secret; the old one works until "
                << iso(cl.previous_secret_expires_at) << "\n";
    else
      std::cout << "client " << cl.id << ": new secret; the old one no longer works\n";
    print_secret_once(*secret);
    return 0;
  }
  return fail(kUsage, 2);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  config::Sources sources;
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& x = args[i];
    auto next = [&]() -> std::string { return i + 1 < args.size() ? args[++i] : std::string(); };
    if (x == "--config")
      sources.file = next();
    else if (x == "--dev")
      sources.overrides["general.dev"] = "true";
    else if (x == "--data")
      sources.overrides["general.data_dir"] = next();
    else if (x == "--set") {
      auto kv = next();
      auto eq = kv.find('=');
      if (eq == std::string::npos) return fail("--set needs SECTION.KEY=VALUE", 2);
      sources.overrides[kv.substr(0, eq)] = kv.substr(eq + 1);
    } else if (x == "-h" || x == "--help") {
      std::cout << kUsage;
      return 0;
    } else {
      rest.push_back(x);
    }
  }
  if (rest.empty()) return fail(kUsage, 2);
  sources.env = config::process_env();
  // authctl needs no listener; do not let a production listen address demand TLS files here.
  sources.overrides.emplace("server.behind_tls_proxy", "true");
  auto cfg = config::load(sources);
  if (!cfg) return fail(cfg.error().message, 2);
  Ctx c;
  c.cfg = *cfg;
  auto db = app::open_database(c.cfg);
  if (!db) return fail(db.error().message, db.error().exit_code);
  c.db = std::move(*db);
  const std::string group = rest[0];
  std::vector<std::string> sub(rest.begin() + 1, rest.end());
  if (group == "migrate") {
    auto v = c.db->migrate();
    if (!v) return fail(v.error().message);
    std::cout << "schema at version " << *v << "\n";
    return 0;
  }
  auto schema = app::prepare_schema(*c.db, c.cfg);
  if (!schema) return fail(schema.error().message, schema.error().exit_code);
  if (group == "user") return user_cmd(c, sub);
  if (group == "keys") return keys_cmd(c, sub);
  if (group == "client") return client_cmd(c, sub);
  if (group == "sessions") return sessions_cmd(c, sub);
  return fail(kUsage, 2);
}
