#include "authd/http/jwks_route.h"

namespace authd::http {

bool etag_matches(std::string_view header, std::string_view etag) {
  if (header == "*") return true;
  while (!header.empty()) {
    auto comma = header.find(',');
    auto item = header.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.substr(0, 2) == "W/") item.remove_prefix(2);
    if (item == etag) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

void add_jwks_route(Router& router, JwksSource source) {
  router.add("GET", "/.well-known/jwks.json",
             [source = std::move(source)](const Request& req, RequestContext&) {
               JwksDocument doc = source();
               const bool not_modified = etag_matches(req.header("If-None-Match"), doc.etag);
               Response r;
               r.set_header("ETag", std::move(doc.etag));
               r.set_header("Cache-Control", std::move(doc.cache_control));
               r.set_header("Access-Control-Allow-Origin", "*");
               if (not_modified) {
                 r.status = 304;
                 return r;
               }
               r.status = 200;
               r.set_header("Content-Type", "application/json");
               r.shared_body = std::move(doc.body);
               return r;
             });
}

}  // namespace authd::http
