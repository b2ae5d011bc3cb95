#include "authd/http/client_ip.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "authd/core/text.h"

namespace authd::http {
namespace {

// Any textual IPv4/IPv6 address as 16 bytes (IPv4 mapped), or nullopt.
std::optional<std::array<std::uint8_t, 16>> to_bytes(std::string_view text) {
  std::string s(text);
  std::array<std::uint8_t, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

// "for=192.0.2.1", "for=\"[2001:db8::1]:4711\"" -> the address part.
std::string_view forwarded_for(std::string_view element) {
  for (std::size_t pos = 0; pos < element.size();) {
    auto semi = element.find(';', pos);
    auto pair = trim_ows(
        element.substr(pos, semi == std::string_view::npos ? std::string_view::npos : semi - pos));
    if (pair.size() > 4 && (pair.substr(0, 4) == "for=" || pair.substr(0, 4) == "For=" ||
                            pair.substr(0, 4) == "FOR=")) {
      auto v = pair.substr(4);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      if (!v.empty() && v.front() == '[') {
        auto close = v.find(']');
        return close == std::string_view::npos ? std::string_view{} : v.substr(1, close - 1);
      }
      auto colon = v.find(':');
      return colon == std::string_view::npos ? v : v.substr(0, colon);
    }
    if (semi == std::string_view::npos) break;
    pos = semi + 1;
  }
  return {};
}

std::vector<std::string_view> split_commas(std::string_view s) {
  std::vector<std::string_view> out;
  for (std::size_t pos = 0; pos <= s.size();) {
    auto comma = s.find(',', pos);
    out.push_back(trim_ows(
        s.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos)));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace

std::optional<TrustedProxies> TrustedProxies::parse(const std::vector<std::string>& cidrs,
                                                    std::string* bad) {
  TrustedProxies t;
  for (const auto& c : cidrs) {
    auto slash = c.find('/');
    auto addr = to_bytes(std::string_view(c).substr(0, slash));
    const bool v4 = c.find(':') == std::string::npos;
    int prefix = v4 ? 32 : 128;
    if (slash != std::string::npos) {
      auto p = std::string_view(c).substr(slash + 1);
      auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
      if (ec != std::errc() || ptr != p.data() + p.size() || prefix < 0 || prefix > (v4 ? 32 : 128))
        addr.reset();
    }
    if (!addr) {
      if (bad) *bad = c;
      return std::nullopt;
    }
    t.nets_.push_back(Net{*addr, v4 ? prefix + 96 : prefix});
  }
  return t;
}

bool TrustedProxies::contains(std::string_view ip) const {
  auto a = to_bytes(ip);
  if (!a) return false;
  for (const auto& n : nets_) {
    int bits = n.prefix;
    bool match = true;
    for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
      const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
      if (((*a)[i] & mask) != (n.addr[i] & mask)) {
        match = false;
        break;
      }
    }
    if (match) return true;
  }
  return false;
}

std::string client_address(std::string_view peer, std::string_view xff, std::string_view forwarded,
                           const TrustedProxies& trusted) {
  if (trusted.empty() || !trusted.contains(peer)) return std::string(peer);
  std::vector<std::string_view> hops;
  if (!xff.empty()) {
    hops = split_commas(xff);
  } else if (!forwarded.empty()) {
    for (auto element : split_commas(forwarded)) hops.push_back(forwarded_for(element));
  }
  // Walk from the nearest hop outwards; the first address not of a trusted proxy is the client.
  std::string_view client = peer;
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    if (!to_bytes(*it)) break;  // garbage: trust nothing further out
    client = *it;
    if (!trusted.contains(*it)) break;
  }
  return std::string(client);
}

}  // namespace authd::http
