// authctl user ... and sessions ...: accounts, passwords, roles, and the sessions they hold.

#include <iostream>

#include "app/authctl/authctl.h"
#include "app/components.h"
#include "authd/auth/service.h"
#include "authd/crypto/password.h"

namespace authd::authctl {

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

}  // namespace authd::authctl
