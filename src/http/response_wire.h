#pragma once
// The bytes of an answer: status line, headers and body written straight into one buffer, so
// that an answer costs one append per header and one socket write. Private to src/http.
#include <string>
#include <string_view>

#include "authd/http/message.h"

namespace authd::http {

/// Whether header text holds CR or LF, which would split the head: two vectorised scans
/// (string_view::find_first_of would call memchr on the set for every character).
inline bool has_line_break(std::string_view text) {
  return text.find('\r') != std::string_view::npos || text.find('\n') != std::string_view::npos;
}

/// Appends `response` as HTTP/1.x bytes to `out` (cleared first; its capacity is kept for the
/// next answer on the connection). `version` is the request's (10 or 11). `keep_alive` says
/// whether the connection stays open, written as the version needs it. A 1xx, 204 or 304
/// answer gets neither Content-Length nor body (RFC 9110 §8.6, §15.3.5, §15.4.5). CR and LF in
/// a header name or value are dropped: a value built from request data cannot split the head.
/// `transport`: headers written after the response's own (see TransportHeaders), as they are:
/// they hold no line break.
void write_response(std::string& out, const Response& response, unsigned version, bool keep_alive,
                    const TransportHeaders& transport = {});

}  // namespace authd::http
