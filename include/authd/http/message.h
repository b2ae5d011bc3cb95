#pragma once
// Transport-free request and response values: handlers see these, never Beast types, so they
// can be unit-tested without sockets.

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace authd::http {

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method;  ///< "GET", "POST", ...
  std::string target;  ///< raw request-target, "/path?query"
  std::string path;    ///< target without the query
  std::string query;   ///< after '?', undecoded
  std::vector<Header> headers;
  std::string body;
  std::string peer_address;    ///< the socket peer's IP address
  std::string client_address;  ///< peer, or the forwarded client when the peer is a trusted proxy
  std::string request_id;      ///< as in RequestContext: the X-Request-Id of the answer
  bool tls = false;
  /// When the request arrived (Unix seconds; 0 when unknown). A request held while the store
  /// was away and run again keeps it: a refresh token counts as presented when it was.
  std::int64_t received_unix = 0;
  std::map<std::string, std::string> path_params;  ///< filled by the router ("{id}" segments)

  /// The first header with this name (case-insensitive), or "" when absent.
  std::string_view header(std::string_view name) const;
  /// Every line of a list-valued header (X-Forwarded-For, Forwarded) joined in order with
  /// ", ", as RFC 9110 §5.3 says a recipient may combine them. A proxy appends its own line
  /// after the client's; reading only the first line would believe the client.
  std::string header_list(std::string_view name) const;
  bool has_header(std::string_view name) const;
  /// The value of cookie `name` in the Cookie header, or "".
  std::string cookie(std::string_view name) const;
  /// The token of `Authorization: Bearer <token>`; nullopt when absent or empty.
  std::optional<std::string> bearer_token() const;
};

struct Response {
  int status = 200;
  std::vector<Header> headers;
  std::string body;
  /// A body built once and shared by many answers (the JWKS document): sent instead of `body`
  /// when set, so that no answer copies it.
  std::shared_ptr<const std::string> shared_body;
  /// Headers built once and shared by many answers (the JWKS document's validators and
  /// caching), by share_headers: sent before `headers`, so that no answer builds them.
  std::shared_ptr<const std::vector<Header>> shared_headers;
  /// Why a 5xx happened (a store or key-ring message), for the operator: the transport logs
  /// it with the request id and never sends it.
  std::string log_cause;
  /// A 503 because the store had no writable primary: the transport may hold the request
  /// and run its handler again once the store answers (ServerOptions::store_gate).
  bool store_unavailable = false;

  /// The bytes to send: `shared_body` when set, else `body`.
  std::string_view body_bytes() const {
    return shared_body ? std::string_view(*shared_body) : body;
  }
  /// Drops the body, shared or not (the answer to HEAD).
  void clear_body() {
    body.clear();
    shared_body.reset();
  }

  /// Replaces any header of the same name (case-insensitive), a shared one too (the shared
  /// list then becomes this answer's own).
  Response& set_header(std::string name, std::string value);
  /// The first header with this name (case-insensitive), shared or own, or "" when absent.
  std::string_view header(std::string_view name) const;
  /// Makes the shared headers the answer's own, first, in the order they are sent: the shared
  /// list cannot change, so an answer that changes one of them takes its own copy.
  void unshare_headers();

  /// A JSON body with Content-Type application/json (a shared header: nothing allocated).
  static Response json(int status, std::string body);
  /// RFC 6749 §5.2 style error body: {"error": code, "error_description": description}.
  static Response error(int status, std::string_view code, std::string_view description);
  static Response text(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
};

/// A header list for Response::shared_headers, with CR and LF dropped from every name and
/// value once, here, so that the answers that share it go to the wire as they are.
std::shared_ptr<const std::vector<Header>> share_headers(std::vector<Header> headers);

/// Per-request facts the transport shares with handlers and the access log.
struct RequestContext {
  std::string request_id;
  /// The matched pattern ("/sessions/{id}"), or "unmatched": a view of the router's own text,
  /// which lives as long as the server that answers.
  std::string_view route;
  std::chrono::steady_clock::time_point start;
};

bool iequals(std::string_view a, std::string_view b);

struct TransportHeader {
  std::string_view name;
  std::string_view value;
};

/// The headers the transport puts on an answer that lacks them: Server, X-Request-Id, nosniff,
/// a Content-Type for an untyped body, and Cache-Control: no-store unless the handler chose its
/// own caching (token responses must not be cached, RFC 6749 §5.1).
/// `tls`: the client reached authd over TLS (its own or a terminating balancer's), so the
/// answer carries Strict-Transport-Security: a browser never tries plain HTTP again.
/// The values view `request_id` and static text; nothing is allocated. No name or value holds
/// CR or LF (a `request_id` that does is left out), so they go to the wire as they are.
class TransportHeaders {
 public:
  TransportHeaders() = default;
  TransportHeaders(const Response& response, std::string_view request_id, bool tls = false);
  const TransportHeader* begin() const { return items_.data(); }
  const TransportHeader* end() const { return items_.data() + size_; }

 private:
  std::array<TransportHeader, 6> items_{};
  std::size_t size_ = 0;
};

/// Appends the TransportHeaders to `response`'s own, after its shared ones, which it makes its
/// own too: `headers` then holds what the wire would carry (for tests that run handlers
/// without a socket).
void add_transport_headers(Response& response, std::string_view request_id, bool tls = false);

}  // namespace authd::http
