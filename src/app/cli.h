#pragma once
// Command-line parsing for the authd daemon.

#include <optional>
#include <string>
#include <vector>

#include "authd/config/config.h"

namespace authd::app {

struct CommandLine {
  std::string command = "serve";  ///< serve | migrate | config-keys | version | help
  config::Sources sources;
};

/// Parses argv. On a usage error returns the message (exit code 2).
Result<CommandLine, std::string> parse_command_line(const std::vector<std::string>& args);

std::string usage();

}  // namespace authd::app
