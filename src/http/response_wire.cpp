#include "http/response_wire.h"

#include <array>
#include <boost/beast/http/status.hpp>
#include <charconv>

namespace authd::http {
namespace {

// Header text almost never holds a line break, and is then appended whole. Otherwise a plain
// loop drops them.
void append_without_line_breaks(std::string& out, std::string_view text) {
  if (!has_line_break(text)) {
    out += text;
    return;
  }
  const std::size_t start = out.size();
  out += text;
  std::size_t kept = start;
  for (std::size_t i = start; i < out.size(); ++i) {
    const char c = out[i];
    if (c != '\r' && c != '\n') out[kept++] = c;
  }
  out.resize(kept);
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  append_without_line_breaks(out, name);
  out += ": ";
  append_without_line_breaks(out, value);
  out += "\r\n";
}

// A header known to hold no line break (share_headers, TransportHeaders made it so).
void append_clean_header(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

void append_number(std::string& out, std::size_t n) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
}

bool may_have_body(int status) { return status >= 200 && status != 204 && status != 304; }

void append_status_line(std::string& out, int status, unsigned version) {
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  append_number(out, static_cast<std::size_t>(status));
  out += ' ';
  out += boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  out += "\r\n";
}

// Every status line from 100 to 599 in both versions, written once: an answer copies its line
// whole instead of formatting it.
constexpr int kFirstStatus = 100, kLastStatus = 599;
std::string_view status_line(int status, unsigned version) {
  using Lines = std::array<std::string, kLastStatus - kFirstStatus + 1>;
  static const std::array<Lines, 2> lines = [] {
    std::array<Lines, 2> all;
    for (int s = kFirstStatus; s <= kLastStatus; ++s) {
      append_status_line(all[0][s - kFirstStatus], s, 10);
      append_status_line(all[1][s - kFirstStatus], s, 11);
    }
    return all;
  }();
  return lines[version == 10 ? 0 : 1][status - kFirstStatus];
}

}  // namespace

void write_response(std::string& out, const Response& response, unsigned version, bool keep_alive,
                    const TransportHeaders& transport) {
  out.clear();
  if (response.status >= kFirstStatus && response.status <= kLastStatus)
    out += status_line(response.status, version);
  else
    append_status_line(out, response.status, version);
  if (response.shared_headers)
    for (const auto& h : *response.shared_headers) append_clean_header(out, h.name, h.value);
  for (const auto& h : response.headers) append_header(out, h.name, h.value);
  for (const auto& h : transport) append_clean_header(out, h.name, h.value);
  const bool body = may_have_body(response.status);
  if (body) {
    out += "Content-Length: ";
    append_number(out, response.body_bytes().size());
    out += "\r\n";
  }
  if (!keep_alive)
    out += "Connection: close\r\n";
  else if (version == 10)
    out += "Connection: keep-alive\r\n";
  out += "\r\n";
  if (body) out += response.body_bytes();
}

}  // namespace authd::http
