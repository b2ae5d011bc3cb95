#include "authd/http/message.h"

#include "authd/core/json_writer.h"

namespace authd::http {

namespace {
// Header names are ASCII tokens: no locale lookup per character.
char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }
}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

std::string_view Request::header(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return h.value;
  return {};
}

std::string Request::header_list(std::string_view name) const {
  std::string out;
  for (const auto& h : headers) {
    if (!iequals(h.name, name)) continue;
    if (!out.empty()) out += ", ";
    out += h.value;
  }
  return out;
}

bool Request::has_header(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return true;
  return false;
}

std::string Request::cookie(std::string_view name) const {
  std::string_view all = header("Cookie");
  while (!all.empty()) {
    auto semi = all.find(';');
    auto part = all.substr(0, semi);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=')
      return std::string(part.substr(name.size() + 1));
    if (semi == std::string_view::npos) break;
    all.remove_prefix(semi + 1);
  }
  return {};
}

std::optional<std::string> Request::bearer_token() const {
  std::string_view h = header("Authorization");
  if (h.size() < 8 || !iequals(h.substr(0, 7), "Bearer ")) return std::nullopt;
  h.remove_prefix(7);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  if (h.empty()) return std::nullopt;
  return std::string(h);
}

Response& Response::set_header(std::string name, std::string value) {
  for (auto& h : headers)
    if (iequals(h.name, name)) {
      h.value = std::move(value);
      return *this;
    }
  headers.push_back(Header{std::move(name), std::move(value)});
  return *this;
}

void add_transport_headers(Response& r, std::string_view request_id, bool tls) {
  if (tls) r.set_header("Strict-Transport-Security", "max-age=31536000");
  if (!r.body.empty() && r.header("Content-Type").empty())
    r.set_header("Content-Type", "application/octet-stream");
  if (r.header("Cache-Control").empty()) r.set_header("Cache-Control", "no-store");
  r.set_header("Server", "authd");
  r.set_header("X-Content-Type-Options", "nosniff");
  r.set_header("X-Request-Id", std::string(request_id));
}

std::string_view Response::header(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return h.value;
  return {};
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.set_header("Content-Type", "application/json");
  return r;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.set_header("Content-Type", std::move(content_type));
  return r;
}

Response Response::error(int status, std::string_view code, std::string_view description) {
  std::string body = "{\"error\":";
  json::append_quoted_lossy(body, code);
  body += ",\"error_description\":";
  json::append_quoted_lossy(body, description);
  body += "}";
  return json(status, std::move(body));
}

}  // namespace authd::http
