// HTTP/1.1 requests as the transport reads them (server.cpp): authd's RequestParser (Beast's
// parser writing into a Request) with authd's limits, the head checked before the body is read
// (refusal), then the Request a handler sees (the same as Beast's own parser reads) and what
// handlers parse from it: forwarded addresses, Basic and Bearer credentials, cookies, form and JSON
// bodies. Several requests may follow one another on a connection, so the input is read as a
// pipeline until it is used up or a request is refused.
#include <algorithm>
#include <boost/beast/core/buffers_prefix.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "authd/core/strict_json.h"
#include "authd/http/client_ip.h"
#include "authd/http/form.h"
#include "http/request_head.h"

namespace {

namespace bhttp = boost::beast::http;
using namespace authd::http;

// The defaults of server.max_header_bytes and server.max_body_bytes.
constexpr std::uint32_t kHeaderLimit = 8 * 1024;
constexpr std::uint64_t kBodyLimit = 16 * 1024;

const TrustedProxies& trusted() {
  static const TrustedProxies t = *TrustedProxies::parse({"127.0.0.0/8", "10.0.0.0/8", "::1"});
  return t;
}

// Feeds `in` to the parser until `done` holds; false on a parse error or when the input ends
// first (the connection would wait, then time out).
template <class Parser, class Done>
bool feed(Parser& parser, std::string_view& in, Done done) {
  while (!done()) {
    if (in.empty()) return false;
    boost::system::error_code ec;
    const std::size_t n = parser.put(boost::asio::buffer(in.data(), in.size()), ec);
    in.remove_prefix(n);
    if (ec && ec != bhttp::error::need_more) return false;
    if (n == 0) return false;  // needs more than there is
  }
  return true;
}

void handle(Request& r) {
  r.peer_address = "127.0.0.1";
  r.client_address = client_address(r.peer_address, r.header_list("X-Forwarded-For"),
                                    r.header_list("Forwarded"), trusted());
  if (r.client_address.empty()) std::abort();
  (void)parse_basic_auth(r.header("Authorization"));
  (void)r.bearer_token();
  for (std::string_view name : {"__Host-authd_refresh", "authd_refresh", "__Host-authd_session"})
    (void)r.cookie(name);
  (void)parse_form(r.query);
  const std::string_view type = r.header("Content-Type");
  if (type.substr(0, 33) == "application/x-www-form-urlencoded") (void)parse_form(r.body);
  if (type.substr(0, 16) == "application/json") (void)authd::parse_strict_json(r.body);
}

// Differential: Beast's own request parser, with its field container, reads the same bytes into
// the same request (RequestParser only leaves the container out). The container keeps fields of
// one name together, after the first of them; a Request keeps them in arrival order. So the
// headers are compared name by name, each name's values in order.
std::vector<std::pair<std::string, std::string>> by_name(
    std::vector<std::pair<std::string, std::string>> fields) {
  for (auto& [name, value] : fields)
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::stable_sort(fields.begin(), fields.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return fields;
}

void same_as_beast(std::string_view wire, const Request& r, bool keep_alive) {
  bhttp::request_parser<bhttp::string_body> beast;
  beast.header_limit(kHeaderLimit);
  beast.body_limit(kBodyLimit);
  beast.eager(true);
  if (!feed(beast, wire, [&] { return beast.is_done(); })) std::abort();
  const auto& m = beast.get();
  if (m.method_string() != r.method || m.target() != r.target) std::abort();
  // The parser's keep_alive(), not the message's: the message reads only the first Connection
  // header, so a later "Connection: close" went unheard (RequestParserTest
  // .ASecondConnectionHeaderSayingCloseIsHeard).
  if (beast.keep_alive() != keep_alive || m.body() != r.body) std::abort();
  std::vector<std::pair<std::string, std::string>> theirs, ours;
  for (const auto& f : m) theirs.emplace_back(f.name_string(), f.value());
  for (const auto& h : r.headers) ours.emplace_back(h.name, h.value);
  if (by_name(std::move(theirs)) != by_name(std::move(ours))) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (int requests = 0; !in.empty() && requests < 16; ++requests) {
    const std::string_view start = in;
    RequestParser parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);
    if (!feed(parser, in, [&] { return parser.is_header_done(); })) return 0;
    if (parser.refusal()) return 0;  // answered, connection closed
    if (!feed(parser, in, [&] { return parser.is_done(); })) return 0;
    const bool keep_alive = parser.keep_alive();
    Request& r = parser.request();
    same_as_beast(start.substr(0, start.size() - in.size()), r, keep_alive);
    handle(r);
    if (!keep_alive) return 0;
  }
  return 0;
}
