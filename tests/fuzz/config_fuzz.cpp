// The configuration loader on an untrusted YAML file (config::load reads a path, so the input
// is handed over as an in-memory file), and the value parsers it uses for durations, sizes and
// listen addresses. load() promises never to throw.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "authd/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace config = authd::config;
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)config::parse_duration(text);
  (void)config::parse_size(text);
  if (auto e = config::parse_endpoint(text)) {
    // What to_string() prints must read back as the same endpoint (logs, the admin listener).
    auto again = config::parse_endpoint(e->to_string());
    if (!again || again->host != e->host || again->port != e->port) std::abort();
  }

  const int fd = ::memfd_create("authd-config-fuzz", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  for (std::size_t off = 0; off < size;) {
    const auto n = ::write(fd, data + off, size - off);
    if (n <= 0) std::abort();
    off += static_cast<std::size_t>(n);
  }
  config::Sources sources;
  sources.file = "/proc/self/fd/" + std::to_string(fd);
  (void)config::load(sources);
  ::close(fd);
  return 0;
}
