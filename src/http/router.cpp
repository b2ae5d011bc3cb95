#include "authd/http/router.h"

namespace authd::http {
namespace {

bool is_placeholder(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// A pattern with placeholders against a path: walks both a segment at a time ("/a/b": "a",
// "b"; a trailing slash is a significant "" segment), allocating only for placeholders' values.
bool match_pattern(std::string_view pattern, std::string_view path,
                   std::map<std::string, std::string>& params) {
  if (path.empty() || path[0] != '/' || pattern.empty() || pattern[0] != '/') return false;
  std::map<std::string, std::string> found;
  std::size_t p = 1, x = 1;
  while (true) {
    const std::size_t p_end = pattern.find('/', p);
    const std::size_t x_end = path.find('/', x);
    const std::string_view want =
        pattern.substr(p, p_end == std::string_view::npos ? p_end : p_end - p);
    const std::string_view got =
        path.substr(x, x_end == std::string_view::npos ? x_end : x_end - x);
    if (is_placeholder(want)) {
      if (got.empty()) return false;
      found.emplace(std::string(want.substr(1, want.size() - 2)), std::string(got));
    } else if (want != got) {
      return false;
    }
    if ((p_end == std::string_view::npos) != (x_end == std::string_view::npos)) return false;
    if (p_end == std::string_view::npos) break;
    p = p_end + 1;
    x = x_end + 1;
  }
  params = std::move(found);
  return true;
}

}  // namespace

Router& Router::add(std::string method, std::string pattern, Handler handler, Dispatch dispatch) {
  routes_.push_back(Route{std::move(method), std::move(pattern), std::move(handler), dispatch});
  index(routes_.size() - 1);
  return *this;
}

Router& Router::add_async(std::string method, std::string pattern, AsyncHandler handler) {
  routes_.push_back(
      Route{std::move(method), std::move(pattern), {}, Dispatch::kAsync, std::move(handler)});
  index(routes_.size() - 1);
  return *this;
}

void Router::index(std::size_t route) {
  const std::string& pattern = routes_[route].pattern;
  if (pattern.empty() || pattern[0] != '/') return;  // matches no path
  if (pattern.find('{') == std::string::npos)
    literal_[pattern].push_back(route);
  else
    templated_.push_back(route);
}

// The routes whose pattern may match, in the order they were added: those with exactly this
// path merged with those with placeholders. A lookup rather than a walk over every route.
Router::Match Router::match(std::string_view method, std::string_view path) const {
  static const std::vector<std::size_t> kNone;
  const auto found = literal_.find(path);
  const std::vector<std::size_t>& literal = found == literal_.end() ? kNone : found->second;
  Match m;
  std::map<std::string, std::string> params;
  std::size_t a = 0, b = 0;
  while (a < literal.size() || b < templated_.size()) {
    const bool is_literal =
        b == templated_.size() || (a < literal.size() && literal[a] < templated_[b]);
    const Route& r = routes_[is_literal ? literal[a++] : templated_[b++]];
    if (!is_literal && !match_pattern(r.pattern, path, params)) continue;
    if (r.method == method || (method == "HEAD" && r.method == "GET")) {
      m.route = &r;
      if (!is_literal) m.params = std::move(params);
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
