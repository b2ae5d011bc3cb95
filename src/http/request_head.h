#pragma once
// How the transport reads a request: Beast's HTTP/1.1 parser (framing, limits, chunked bodies,
// keep-alive) writing straight into the Request a handler sees, and what the head decides before
// the body is read. Private to src/http; the session in server.cpp and the fuzz target of the
// request parser (tests/fuzz) share it.
#include <boost/beast/http/basic_parser.hpp>
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

/// One request's parser. No field container sits between the parser and the Request (Beast's
/// would allocate a node per header, and the Request would then copy each one out of it).
/// Use the basic_parser interface to feed it (header_limit, body_limit, put, put_eof, eager).
class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  /// Once the head is read: whether it must be refused. RFC 9112: a request whose body length
  /// cannot be known for sure (a Transfer-Encoding other than exactly "chunked", or one beside
  /// Content-Length) would let the bytes after it run as another request (§6.1, §6.3); so is
  /// an HTTP/1.1 request without exactly one Host (§3.2). A method Beast does not know is
  /// answered 501 (RFC 9110 §9.1).
  std::optional<HeadRefusal> refusal() const;
  /// The method, or "OTHER" for one Beast does not know (never a metric label or a log field).
  std::string_view method_label() const;
  /// 10 or 11, once the request line is read.
  unsigned version() const { return version_; }
  /// The request: method, target split at '?', headers in order, body. Once is_done(). The
  /// transport adds the addresses, `tls` and the arrival time, and may move it away.
  Request& request() { return request_; }

 private:
  using string_view = boost::beast::string_view;
  using error_code = boost::beast::error_code;
  void on_request_impl(boost::beast::http::verb method, string_view method_str, string_view target,
                       int version, error_code& ec) override;
  void on_response_impl(int, string_view, int, error_code&) override {}
  void on_field_impl(boost::beast::http::field name, string_view name_string, string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         error_code& ec) override;
  std::size_t on_body_impl(string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override;
  void on_finish_impl(error_code&) override {}

  Request request_;
  bool known_method_ = false;
  unsigned version_ = 11;
  int hosts_ = 0;
  int content_lengths_ = 0;
  int transfer_encodings_ = 0;
  bool first_transfer_encoding_is_chunked_ = false;
};

}  // namespace authd::http
