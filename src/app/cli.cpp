#include "app/cli.h"

namespace authd::app {

std::string usage() {
  return "usage: authd [serve] [options]\n"
         "       authd migrate [options]      apply database migrations and exit\n"
         "       authd config-keys            list every configuration key and its default\n"
         "       authd version\n"
         "options:\n"
         "  --config FILE            YAML configuration file\n"
         "  --dev                    embedded dev mode (no servers needed)\n"
         "  --listen ADDR:PORT       public listener (server.listen)\n"
         "  --admin-listen ADDR:PORT admin listener (server.admin_listen)\n"
         "  --data DIR               data directory (general.data_dir)\n"
         "  --set SECTION.KEY=VALUE  any configuration key\n"
         "Every key can also be set as AUTHD_<SECTION>_<KEY> in the environment;\n"
         "precedence: flags > environment > file > defaults.\n";
}

Result<CommandLine, std::string> parse_command_line(const std::vector<std::string>& args) {
  CommandLine cl;
  auto& o = cl.sources.overrides;
  std::size_t i = 0;
  if (!args.empty() && !args[0].empty() && args[0][0] != '-') {
    cl.command = args[0];
    if (cl.command != "serve" && cl.command != "migrate" && cl.command != "config-keys" &&
        cl.command != "version" && cl.command != "help")
      return unexpected("unknown command '" + cl.command + "'\n" + usage());
    i = 1;
  }
  auto value = [&](const std::string& flag) -> Result<std::string, std::string> {
    if (i + 1 >= args.size()) return unexpected(flag + " needs a value");
    return args[++i];
  };
  for (; i < args.size(); ++i) {
    const auto& a = args[i];
    std::string flag = a, inline_value;
    bool has_inline = false;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      flag = a.substr(0, eq);
      inline_value = a.substr(eq + 1);
      has_inline = true;
    }
    auto take = [&]() -> Result<std::string, std::string> {
      if (has_inline) return inline_value;
      return value(flag);
    };
    if (flag == "--dev") {
      o["general.dev"] = has_inline ? inline_value : "true";
    } else if (flag == "--help" || flag == "-h") {
      cl.command = "help";
    } else if (flag == "--version") {
      cl.command = "version";
    } else if (flag == "--config" || flag == "--listen" || flag == "--admin-listen" ||
               flag == "--data" || flag == "--set") {
      auto v = take();
      if (!v) return unexpected(v.error());
      if (flag == "--config")
        cl.sources.file = *v;
      else if (flag == "--listen")
        o["server.listen"] = *v;
      else if (flag == "--admin-listen")
        o["server.admin_listen"] = *v;
      else if (flag == "--data")
        o["general.data_dir"] = *v;
      else {
        auto eq = v->find('=');
        if (eq == std::string::npos) return unexpected("--set needs SECTION.KEY=VALUE");
        o[v->substr(0, eq)] = v->substr(eq + 1);
      }
    } else {
      return unexpected("unknown option '" + flag + "'\n" + usage());
    }
  }
  return cl;
}

}  // namespace authd::app
