#pragma once
// What the transport decides from a parsed request, apart from the socket: whether its head
// can be served at all, and the Request a handler sees. Private to src/http; the session in
// server.cpp and the fuzz target of the request parser (tests/fuzz) share it.
#include <boost/beast/http.hpp>
#include <optional>
#include <string_view>

#include "authd/http/message.h"

namespace authd::http {

/// Why a head is answered with an error and the connection closed.
struct HeadRefusal {
  int status;
  std::string_view code;         ///< the error body's `error`
  std::string_view description;  ///< the error body's `error_description`
  const char* reason;            ///< the protocol_errors metric label
};

/// RFC 9112: a request whose body length cannot be known for sure (a Transfer-Encoding other
/// than exactly "chunked", or one beside Content-Length) would let the bytes after it run as
/// another request, so it is refused (§6.1, §6.3); so is an HTTP/1.1 request without exactly
/// one Host (§3.2). A method Beast does not know is answered 501 (RFC 9110 §9.1).
std::optional<HeadRefusal> refuse_head(
    const boost::beast::http::request_header<boost::beast::http::fields>& head);

/// The handler's view of a request read in full: method, target split at '?', headers in
/// order, body. The transport adds the addresses, `tls` and the arrival time.
Request to_request(boost::beast::http::request<boost::beast::http::string_body>&& req);

}  // namespace authd::http
