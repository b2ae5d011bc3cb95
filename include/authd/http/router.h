#pragma once
// Maps (method, path) to handlers. Patterns are literal segments or "{name}" placeholders.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "authd/http/message.h"

namespace authd::http {

using Handler = std::function<Response(const Request&, RequestContext&)>;

/// How an asynchronous handler answers, later and from any thread. Call exactly one of
/// operator() or offload(), exactly once (copies share that one answer).
class Reply {
 public:
  using Send = std::function<void(Response)>;
  using Offload = std::function<void(std::function<Response()>)>;
  using Resume = std::function<void(std::function<void()>)>;
  Reply(Send send, Offload offload, Resume resume)
      : send_(std::move(send)), offload_(std::move(offload)), resume_(std::move(resume)) {}
  /// Sends `response` on the request's connection (from any thread).
  void operator()(Response response) const { send_(std::move(response)); }
  /// Runs `blocking` on the worker pool and sends what it returns.
  void offload(std::function<Response()> blocking) const { offload_(std::move(blocking)); }
  /// Runs `task` later on the request's I/O thread (to continue there after an answer that
  /// arrived on another thread). `task` must not block.
  void resume(std::function<void()> task) const { resume_(std::move(task)); }

 private:
  Send send_;
  Offload offload_;
  Resume resume_;
};

/// Runs on the I/O thread and must not block; copies what it needs of the request.
using AsyncHandler = std::function<void(const Request&, RequestContext&, Reply)>;

/// Where a handler runs: on the I/O thread (must not block: in-memory work only), on the
/// bounded worker pool (password hashing, database calls), or started on the I/O thread and
/// answered later (non-blocking I/O; see AsyncHandler).
enum class Dispatch { kInline, kWorker, kAsync };

struct Route {
  std::string method;
  std::string pattern;
  Handler handler;
  Dispatch dispatch = Dispatch::kInline;
  AsyncHandler async_handler = nullptr;  ///< set for Dispatch::kAsync (`handler` is empty)
};

class Router {
 public:
  /// Adds a route. Thread-compatible: configure before serving, then only read.
  Router& add(std::string method, std::string pattern, Handler handler,
              Dispatch dispatch = Dispatch::kInline);
  Router& add_async(std::string method, std::string pattern, AsyncHandler handler);

  struct Match {
    const Route* route = nullptr;  ///< null when nothing matched
    bool path_known = false;       ///< the path exists under another method (405)
    std::string allow;             ///< methods for the Allow header on 405
    std::map<std::string, std::string> params;
  };
  Match match(std::string_view method, std::string_view path) const;

 private:
  struct PathHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<Route> routes_;
  // Where to look, by index into routes_ (kept in order: the first route that matches wins):
  // for each path a route names exactly, every route that matches it; and every route with a
  // placeholder, for the other paths.
  std::unordered_map<std::string, std::vector<std::size_t>, PathHash, std::equal_to<>> literal_;
  std::vector<std::size_t> templated_;
  void index(std::size_t route);
};

/// The answer when nothing matched: 405 with Allow when the path exists under other methods,
/// else 404; both with an RFC 6749 style JSON error.
Response unmatched_response(const Router::Match& match);

}  // namespace authd::http
