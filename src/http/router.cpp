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

// A path that some route names exactly gets, at configuration time, the list of every route
// that can match it (those naming it and the placeholder routes that fit it), in the order they
// were added; any other path can only match a placeholder route. A request then looks at
// the routes that may answer it, not at every placeholder route added before its own.
void Router::index(std::size_t route) {
  const std::string& pattern = routes_[route].pattern;
  if (pattern.empty() || pattern[0] != '/') return;  // matches no path
  std::map<std::string, std::string> ignored;
  if (pattern.find('{') == std::string::npos) {
    auto [entry, added] = literal_.try_emplace(pattern);
    if (added)
      for (std::size_t earlier : templated_)
        if (match_pattern(routes_[earlier].pattern, pattern, ignored))
          entry->second.push_back(earlier);
    entry->second.push_back(route);
    return;
  }
  templated_.push_back(route);
  for (auto& [path, candidates] : literal_)
    if (match_pattern(pattern, path, ignored)) candidates.push_back(route);
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  const auto found = literal_.find(path);
  const std::vector<std::size_t>& candidates = found == literal_.end() ? templated_ : found->second;
  Match m;
  std::map<std::string, std::string> params;
  for (std::size_t i : candidates) {
    const Route& r = routes_[i];
    const bool templated = r.pattern.find('{') != std::string::npos;
    if (templated && !match_pattern(r.pattern, path, params)) continue;
    if (r.method == method || (method == "HEAD" && r.method == "GET")) {
      m.route = &r;
      if (templated) m.params = std::move(params);
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
