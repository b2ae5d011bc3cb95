#include "http/request_head.h"

#include <boost/beast/core/string.hpp>

#include "authd/core/text.h"

namespace authd::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;

}  // namespace

std::optional<HeadRefusal> refuse_head(const bhttp::request_header<bhttp::fields>& req) {
  if (req.method() == bhttp::verb::unknown)
    return HeadRefusal{501, "not_implemented", "This method is not supported.", "method"};
  const auto te = req.count(bhttp::field::transfer_encoding);
  if (te > 0) {
    const bool chunked_only =
        te == 1 && beast::iequals(trim_ows(req[bhttp::field::transfer_encoding]), "chunked");
    if (!chunked_only || req.count(bhttp::field::content_length) > 0)
      return HeadRefusal{400, "invalid_request", "Unsupported Transfer-Encoding.",
                         "transfer_encoding"};
  }
  const auto hosts = req.count(bhttp::field::host);
  if (hosts > 1 || (hosts == 0 && req.version() >= 11))
    return HeadRefusal{400, "invalid_request", "A request needs exactly one Host header.", "host"};
  return std::nullopt;
}

Request to_request(bhttp::request<bhttp::string_body>&& req) {
  Request r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  auto q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  r.headers.reserve(16);
  for (const auto& f : req)
    r.headers.push_back(Header{std::string(f.name_string()), std::string(f.value())});
  r.body = std::move(req.body());
  return r;
}

}  // namespace authd::http
