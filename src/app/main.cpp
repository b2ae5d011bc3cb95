// authd: composition root. The only place that names concrete implementations.

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "app/cli.h"
#include "app/daemon.h"
#include "authd/config/config.h"
#include "authd/obs/log.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

}  // namespace

int main(int argc, char** argv) {
  using namespace authd;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto cl = app::parse_command_line(args);
  if (!cl) {
    std::cerr << "authd: " << cl.error() << "\n";
    return kExitUsage;
  }
  if (cl->command == "help") {
    std::cout << app::usage();
    return kExitOk;
  }
  if (cl->command == "version") {
    std::cout << "authd " << AUTHD_VERSION << "\n";
    return kExitOk;
  }
  if (cl->command == "config-keys") {
    for (const auto& k : config::keys())
      std::cout << k.name << "\t" << k.env << "\tdefault=" << k.default_value
                << (k.dev_default.empty() ? "" : "\tdev=" + k.dev_default) << "\t" << k.help
                << "\n";
    return kExitOk;
  }
  cl->sources.env = config::process_env();
  // `migrate` opens no listener: a production listen address must not demand TLS files here.
  if (cl->command == "migrate") cl->sources.overrides.emplace("server.behind_tls_proxy", "true");
  auto cfg = config::load(cl->sources);
  if (!cfg) {
    std::cerr << "authd: " << cfg.error().message << "\n";
    return kExitUsage;
  }
  log::init(cfg->log.format == config::LogFormat::kJson ? log::Format::kJson : log::Format::kText,
            log::level_from_string(cfg->log.level));
  try {
    return app::run_daemon(*cfg, cl->command);
  } catch (const std::exception& e) {
    log::error("authd.fatal", {{"reason", e.what()}});
    return kExitFailure;
  }
}
