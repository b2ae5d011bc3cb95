#include "authd/http/router.h"

namespace authd::http {
namespace {

// Splits "/a/b" into {"a","b"}; a trailing slash is significant ("" segment).
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path[0] != '/') return out;
  std::size_t pos = 1;
  while (true) {
    auto next = path.find('/', pos);
    out.push_back(
        path.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return out;
}

bool match_pattern(std::string_view pattern, std::string_view path,
                   std::map<std::string, std::string>& params) {
  auto ps = segments(pattern);
  auto xs = segments(path);
  if (ps.size() != xs.size() || xs.empty()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (ps[i].size() >= 2 && ps[i].front() == '{' && ps[i].back() == '}') {
      if (xs[i].empty()) return false;
      found.emplace(std::string(ps[i].substr(1, ps[i].size() - 2)), std::string(xs[i]));
    } else if (ps[i] != xs[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

}  // namespace

Router& Router::add(std::string method, std::string pattern, Handler handler, Dispatch dispatch) {
  routes_.push_back(Route{std::move(method), std::move(pattern), std::move(handler), dispatch});
  return *this;
}

Router& Router::add_async(std::string method, std::string pattern, AsyncHandler handler) {
  routes_.push_back(
      Route{std::move(method), std::move(pattern), {}, Dispatch::kAsync, std::move(handler)});
  return *this;
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match m;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> params;
    if (!match_pattern(r.pattern, path, params)) continue;
    if (r.method == method || (method == "HEAD" && r.method == "GET")) {
      m.route = &r;
      m.params = std::move(params);
      return m;
    }
    m.path_known = true;
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += r.method;
  }
  return m;
}

Response unmatched_response(const Router::Match& m) {
  if (!m.path_known) return Response::error(404, "not_found", "No such route.");
  Response r = Response::error(405, "method_not_allowed", "Method not allowed.");
  r.set_header("Allow", m.allow);
  return r;
}

}  // namespace authd::http
