#include "authd/http/form.h"

#include "authd/core/base64url.h"
#include "authd/http/message.h"

namespace authd::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> form_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::map<std::string, std::string>> parse_form(std::string_view body) {
  std::map<std::string, std::string> out;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      auto name = form_decode(pair.substr(0, eq));
      auto value = form_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
      if (!name || !value || name->empty()) return std::nullopt;
      if (!out.emplace(std::move(*name), std::move(*value)).second) return std::nullopt;
    }
    if (amp == std::string_view::npos) break;
    body.remove_prefix(amp + 1);
  }
  return out;
}

std::optional<BasicCredentials> parse_basic_auth(std::string_view h) {
  if (h.size() < 7 || !iequals(h.substr(0, 6), "Basic ")) return std::nullopt;
  h.remove_prefix(6);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  // Standard base64 with padding → the strict base64url decoder.
  std::string b64url(h);
  while (!b64url.empty() && b64url.back() == '=') b64url.pop_back();
  for (char& c : b64url) {
    if (c == '+')
      c = '-';
    else if (c == '/')
      c = '_';
    else if (c == '-' || c == '_')
      return std::nullopt;  // not in the standard alphabet
  }
  auto raw = base64url::decode(b64url);
  if (!raw) return std::nullopt;
  const auto colon = raw->find(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string raw_user = raw->substr(0, colon), raw_password = raw->substr(colon + 1);
  // Each part decoded on its own; one that is not form-encoded after all (a stray '%') can
  // only match as sent.
  auto user = form_decode(raw_user);
  auto password = form_decode(raw_password);
  BasicCredentials c{user ? std::move(*user) : raw_user,
                     password ? std::move(*password) : raw_password, std::nullopt};
  if (c.user != raw_user || c.password != raw_password)
    c.raw.emplace(std::move(raw_user), std::move(raw_password));
  return c;
}

}  // namespace authd::http
