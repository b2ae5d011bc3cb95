#include "authd/http/message.h"

#include "authd/core/json_writer.h"
#include "http/response_wire.h"

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
  if (shared_headers) {
    for (const auto& h : *shared_headers) {
      if (!iequals(h.name, name)) continue;
      unshare_headers();
      break;
    }
  }
  for (auto& h : headers)
    if (iequals(h.name, name)) {
      h.value = std::move(value);
      return *this;
    }
  headers.push_back(Header{std::move(name), std::move(value)});
  return *this;
}

TransportHeaders::TransportHeaders(const Response& r, std::string_view request_id, bool tls) {
  // One pass over the handler's headers for the six names; a name of another length is passed
  // over without a call.
  bool hsts = false, type = false, cache = false, server = false, nosniff = false, id = false;
  auto look = [&](const Header& h) {
    auto is = [&h](std::string_view name) {
      return h.name.size() == name.size() && iequals(h.name, name);
    };
    hsts = hsts || is("Strict-Transport-Security");
    type = type || is("Content-Type");
    cache = cache || is("Cache-Control");
    server = server || is("Server");
    nosniff = nosniff || is("X-Content-Type-Options");
    id = id || is("X-Request-Id");
  };
  if (r.shared_headers)
    for (const auto& h : *r.shared_headers) look(h);
  for (const auto& h : r.headers) look(h);
  auto add = [this](std::string_view name, std::string_view value) {
    items_[size_++] = TransportHeader{name, value};
  };
  if (tls && !hsts) add("Strict-Transport-Security", "max-age=31536000");
  if (!r.body_bytes().empty() && !type) add("Content-Type", "application/octet-stream");
  if (!cache) add("Cache-Control", "no-store");
  if (!server) add("Server", "authd");
  if (!nosniff) add("X-Content-Type-Options", "nosniff");
  // The one value not written here: an id with a line break is left out rather than mended,
  // so that every header of this list is clean as it stands (write_response relies on it).
  if (!id && !has_line_break(request_id)) add("X-Request-Id", request_id);
}

void add_transport_headers(Response& r, std::string_view request_id, bool tls) {
  const TransportHeaders added(r, request_id, tls);
  r.unshare_headers();  // all on the answer's own list, in the order of the wire
  for (const auto& h : added)
    r.headers.push_back(Header{std::string(h.name), std::string(h.value)});
}

std::string_view Response::header(std::string_view name) const {
  if (shared_headers)
    for (const auto& h : *shared_headers)
      if (iequals(h.name, name)) return h.value;
  for (const auto& h : headers)
    if (iequals(h.name, name)) return h.value;
  return {};
}

void Response::unshare_headers() {
  if (!shared_headers) return;
  headers.insert(headers.begin(), shared_headers->begin(), shared_headers->end());
  shared_headers.reset();
}

std::shared_ptr<const std::vector<Header>> share_headers(std::vector<Header> headers) {
  auto drop_line_breaks = [](std::string& text) {
    if (has_line_break(text)) std::erase_if(text, [](char c) { return c == '\r' || c == '\n'; });
  };
  for (auto& h : headers) {
    drop_line_breaks(h.name);
    drop_line_breaks(h.value);
  }
  return std::make_shared<const std::vector<Header>>(std::move(headers));
}

Response Response::json(int status, std::string body) {
  // One list per thread: answers built on a thread count references on that thread's list,
  // not on one cache line that every thread writes.
  static thread_local const auto json_type = share_headers({{"Content-Type", "application/json"}});
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.shared_headers = json_type;
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
