#include "authd/auth/redirect_uri.h"

#include <optional>

namespace authd::auth::redirect_uri {
namespace {

constexpr std::size_t kMaxUriBytes = 2048;

bool printable_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

// A loopback http URI without its port: "http://127.0.0.1/cb?x" for "http://127.0.0.1:5000/cb?x".
std::optional<std::string> loopback_without_port(std::string_view uri) {
  for (std::string_view host :
       {std::string_view("http://127.0.0.1"), std::string_view("http://[::1]")}) {
    if (uri.substr(0, host.size()) != host) continue;
    std::string_view rest = uri.substr(host.size());
    if (!rest.empty() && rest.front() == ':') {
      std::size_t i = 1;
      while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
      if (i == 1 || i > 6) return std::nullopt;
      rest.remove_prefix(i);
    }
    if (!rest.empty() && rest.front() != '/' && rest.front() != '?') return std::nullopt;
    return std::string(host) + std::string(rest);
  }
  return std::nullopt;
}

std::string_view authority_of(std::string_view uri, std::size_t scheme_end) {
  std::string_view rest = uri.substr(scheme_end + 3);
  return rest.substr(0, rest.find_first_of("/?"));
}

}  // namespace

bool registrable(std::string_view uri) {
  if (uri.empty() || uri.size() > kMaxUriBytes || !printable_ascii(uri)) return false;
  if (uri.find('#') != std::string_view::npos) return false;
  const auto colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view scheme = uri.substr(0, colon);
  for (char c : scheme)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
      return false;
  if (scheme == "https" || scheme == "http") {
    if (uri.substr(colon, 3) != "://") return false;
    const std::string_view authority = authority_of(uri, colon);
    if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
    if (scheme == "https") return true;
    std::string_view host = authority;
    if (host.front() != '[')
      host = host.substr(0, host.find(':'));
    else
      host = host.substr(0, host.find(']') + 1);
    return host == "127.0.0.1" || host == "[::1]" || host == "localhost";
  }
  // A private-use scheme names an app by reverse domain (RFC 8252 §7.1).
  return scheme.find('.') != std::string_view::npos;
}

bool matches(const std::vector<std::string>& registered, std::string_view presented) {
  if (presented.empty() || presented.size() > kMaxUriBytes) return false;
  for (const auto& r : registered)
    if (r == presented) return true;
  const auto loose = loopback_without_port(presented);
  if (!loose) return false;
  for (const auto& r : registered) {
    const auto reg = loopback_without_port(r);
    if (reg && *reg == *loose) return true;
  }
  return false;
}

}  // namespace authd::auth::redirect_uri
