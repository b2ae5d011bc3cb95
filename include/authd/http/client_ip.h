#pragma once
// The client's address: the socket peer, or — only when the peer is a trusted proxy — the
// nearest untrusted hop of X-Forwarded-For / Forwarded. A client cannot spoof its address by
// sending these headers itself, because its own connection is not from a trusted proxy.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace authd::http {

class TrustedProxies {
 public:
  /// Parses "10.0.0.0/8", "::1", "2001:db8::/32"; nullopt names the first bad entry in `bad`.
  static std::optional<TrustedProxies> parse(const std::vector<std::string>& cidrs,
                                             std::string* bad = nullptr);
  bool contains(std::string_view ip) const;
  bool empty() const { return nets_.empty(); }

 private:
  struct Net {
    std::array<std::uint8_t, 16> addr{};  // IPv4 mapped into ::ffff:0:0/96
    int prefix = 0;                       // in the 128-bit space
  };
  std::vector<Net> nets_;
};

/// See the file comment. `xff` is the X-Forwarded-For value, `forwarded` the RFC 7239 one.
std::string client_address(std::string_view peer, std::string_view xff, std::string_view forwarded,
                           const TrustedProxies& trusted);

}  // namespace authd::http
