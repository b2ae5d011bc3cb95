// X-Forwarded-For and Forwarded (RFC 7239) values behind a trusted proxy, and the trusted
// proxy list itself. The input's first line is X-Forwarded-For, the second Forwarded, the rest
// CIDRs, one a line. Whatever the headers say, the client address is the peer or one of the
// hops they name: never anything else.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "authd/http/client_ip.h"

namespace {

std::string_view line(std::string_view& in) {
  const auto nl = in.find('\n');
  const auto out = in.substr(0, nl);
  in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using authd::http::TrustedProxies;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string_view xff = line(in);
  const std::string_view forwarded = line(in);

  static const TrustedProxies proxies =
      *TrustedProxies::parse({"127.0.0.0/8", "10.0.0.0/8", "::1", "2001:db8::/32"});
  for (const std::string_view peer : {"127.0.0.1", "10.1.2.3", "::1", "192.0.2.1"}) {
    const std::string client = authd::http::client_address(peer, xff, forwarded, proxies);
    if (client != peer && xff.find(client) == std::string_view::npos &&
        forwarded.find(client) == std::string_view::npos)
      std::abort();
    if (!proxies.contains(peer) && client != peer) std::abort();
  }

  std::vector<std::string> cidrs;
  while (!in.empty() && cidrs.size() < 16) cidrs.emplace_back(line(in));
  if (auto custom = TrustedProxies::parse(cidrs)) {
    (void)custom->contains(xff);
    (void)authd::http::client_address(forwarded, xff, forwarded, *custom);
  }
  return 0;
}
