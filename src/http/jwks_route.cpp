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

// The headers of a document's answers, built when the document changes rather than for every
// answer: per I/O thread, so that no lock or shared count is touched per request.
struct JwksHeaders {
  std::string etag, cache_control;  // of the document they were built for
  std::shared_ptr<const std::vector<Header>> full, not_modified;

  void refresh(const JwksDocument& doc) {
    if (full && doc.etag == etag && doc.cache_control == cache_control) return;
    etag = doc.etag;
    cache_control = doc.cache_control;
    std::vector<Header> common{
        {"ETag", etag}, {"Cache-Control", cache_control}, {"Access-Control-Allow-Origin", "*"}};
    not_modified = share_headers(common);
    common.push_back({"Content-Type", "application/json"});
    full = share_headers(std::move(common));
  }
};

}  // namespace

void add_jwks_route(Router& router, JwksSource source) {
  router.add("GET", "/.well-known/jwks.json",
             [source = std::move(source)](const Request& req, RequestContext&) {
               static thread_local JwksHeaders headers;
               JwksDocument doc = source();
               headers.refresh(doc);
               Response r;
               if (etag_matches(req.header("If-None-Match"), doc.etag)) {
                 r.status = 304;
                 r.shared_headers = headers.not_modified;
                 return r;
               }
               r.status = 200;
               r.shared_headers = headers.full;
               r.shared_body = std::move(doc.body);
               return r;
             });
}

}  // namespace authd::http
