#pragma once

#include <string>

#include "authd/config/config.h"

namespace authd::app {

/// Builds every component from the configuration and serves until shut down.
/// Returns the process exit code.
int run_daemon(const config::Config& cfg, const std::string& command);

}  // namespace authd::app
