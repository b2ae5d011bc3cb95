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

namespace {

// The headers of a document's answers, built when the source hands over another document
// rather than for every answer: per I/O thread, so that no lock or shared count is touched
// per request.
struct JwksHeaders {
  // The document they were built for, held so that its address cannot come back as another's.
  std::shared_ptr<const JwksDocument> doc;
  std::shared_ptr<const std::vector<Header>> full, not_modified;

  void refresh(std::shared_ptr<const JwksDocument> current) {
    if (current == doc) return;
    doc = std::move(current);
    std::vector<Header> common{{"ETag", doc->etag},
                               {"Cache-Control", doc->cache_control},
                               {"Access-Control-Allow-Origin", "*"}};
    not_modified = share_headers(common);
    common.push_back({"Content-Type", "application/json"});
    full = share_headers(std::move(common));
  }
};

}  // namespace

void add_jwks_route(Router& router, JwksSource source) {
  router.add("GET", "/.well-known/jwks.json",
             [source = std::move(source)](const Request& req, RequestContext&) {
               static thread_local JwksHeaders kept;
               kept.refresh(source());
               Response r;
               if (etag_matches(req.header("If-None-Match"), kept.doc->etag)) {
                 r.status = 304;
                 r.shared_headers = kept.not_modified;
                 return r;
               }
               r.status = 200;
               r.shared_headers = kept.full;
               r.shared_body = kept.doc->body;
               return r;
             });
}

}  // namespace authd::http
