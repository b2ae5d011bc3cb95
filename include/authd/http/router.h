#pragma once
// Maps (method, path) to handlers. Patterns are literal segments or "{name}" placeholders.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "authd/http/message.h"

namespace authd::http {

using Handler = std::function<Response(const Request&, RequestContext&)>;

/// Where a handler runs: on the I/O thread (must not block: in-memory work only) or on the
/// bounded worker pool (password hashing, database calls).
enum class Dispatch { kInline, kWorker };

struct Route {
  std::string method;
  std::string pattern;
  Handler handler;
  Dispatch dispatch = Dispatch::kInline;
};

class Router {
 public:
  /// Adds a route. Thread-compatible: configure before serving, then only read.
  Router& add(std::string method, std::string pattern, Handler handler,
              Dispatch dispatch = Dispatch::kInline);

  struct Match {
    const Route* route = nullptr;  ///< null when nothing matched
    bool path_known = false;       ///< the path exists under another method (405)
    std::string allow;             ///< methods for the Allow header on 405
    std::map<std::string, std::string> params;
  };
  Match match(std::string_view method, std::string_view path) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace authd::http
