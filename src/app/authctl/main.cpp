// authctl: administration of users, keys, sessions and the schema. Talks to the store directly,
// with the same configuration (file, AUTHD_* env, flags) as authd. Passwords are read from
// stdin, never from argv (which other users can see in ps).

#include <iostream>
#include <string>
#include <vector>

#include "app/authctl/authctl.h"
#include "app/components.h"

using namespace authd;
using namespace authd::authctl;

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
