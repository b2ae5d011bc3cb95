#pragma once
// Test helper: authd's HTTP routes without a socket. InProcessHttp matches a request on a
// Router and runs the real handler on the calling thread (async handlers with a Reply whose
// offload and resume queue to an inline executor); InProcessAuthd builds the daemon's routes
// over a real AuthService on a fresh SQLite store, a real key ring and an in-process limiter.
// What needs the transport itself (framing, limits, TLS, drain) stays in the socket suites.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "app/metrics_events.h"
#include "app/ring_keys.h"
#include "authd/auth/service.h"
#include "authd/cache/local_rate_limiter.h"
#include "authd/crypto/keyed_hash.h"
#include "authd/http/admin_routes.h"
#include "authd/http/auth_routes.h"
#include "authd/http/router.h"
#include "authd/keys/key_ring.h"
#include "authd/obs/metrics.h"
#include "support/backends.h"

namespace authd::testing {

/// Runs posted tasks on the thread that calls run_all(), in order, including tasks posted by
/// tasks: a single-threaded stand-in for the worker pool and the request's I/O loop.
class InlineExecutor {
 public:
  void post(std::function<void()> task);
  void run_all();
  /// post() as a callable, for AuthService::Deps::offload.
  std::function<void(std::function<void()>)> poster();

 private:
  std::mutex mu_;
  std::vector<std::function<void()>> tasks_;
};

using Headers = std::map<std::string, std::string>;

/// The header of a request with a form body (the OAuth endpoints' encoding).
inline const Headers kForm{{"Content-Type", "application/x-www-form-urlencoded"}};

/// The secret the suites give their confidential client `web`.
inline constexpr const char* kWebSecret = "web-secret-0123456789abcdef";

/// Requests through a Router's handlers, as the server would dispatch them.
class InProcessHttp {
 public:
  /// `router` and `executor` must outlive this object.
  InProcessHttp(const http::Router& router, InlineExecutor& executor)
      : router_(router), executor_(executor) {}

  /// Matches and runs one request; the answer carries the transport's headers. A handler that
  /// never answers gives status 0.
  http::Response request(const std::string& method, const std::string& target,
                         const std::string& body = "", const Headers& headers = {});
  http::Response get(const std::string& target, const Headers& headers = {}) {
    return request("GET", target, "", headers);
  }
  http::Response post(const std::string& target, const std::string& body,
                      const Headers& headers = {{"Content-Type", "application/json"}}) {
    return request("POST", target, body, headers);
  }

 private:
  const http::Router& router_;
  InlineExecutor& executor_;
  int requests_ = 0;
};

/// A UserStore over another that answers every call with an injected failure while one is set.
class FaultyUserStore final : public auth::UserStore {
 public:
  explicit FaultyUserStore(auth::UserStore& real) : real_(real) {}
  void fail_with(std::optional<store::Error> e) {
    std::lock_guard lock(mu_);
    failure_ = std::move(e);
  }
  store::StoreResult<void> create(const auth::User& user) override;
  store::StoreResult<std::optional<auth::User>> find_by_email(const std::string& email) override;
  store::StoreResult<std::optional<auth::User>> find_by_id(const std::string& id) override;
  store::StoreResult<void> set_password_hash(const std::string& id, const std::string& hash,
                                             std::int64_t now) override;
  store::StoreResult<void> set_disabled(const std::string& id, bool disabled,
                                        std::int64_t now) override;
  store::StoreResult<void> set_roles(const std::string& id, const std::vector<std::string>& roles,
                                     std::int64_t now) override;
  store::StoreResult<std::int64_t> bump_session_version(const std::string& id,
                                                        std::int64_t now) override;
  store::StoreResult<std::vector<auth::User>> list(std::size_t limit, std::size_t offset) override;

 private:
  std::optional<store::Error> failure();
  /// The injected failure, if any, else what `call` (the real store) answers.
  template <class Call>
  auto guarded(Call call) -> decltype(call()) {
    if (auto e = failure()) return store::fail(e->code, e->message);
    return call();
  }
  auth::UserStore& real_;
  std::mutex mu_;
  std::optional<store::Error> failure_;
};

/// Keeps every audit line (formatted as the daemon's sinks write them), for the tests.
class MemoryAuditSink final : public app::AuditSink {
 public:
  void write(const auth::AuditEvent& e) override {
    std::lock_guard lock(mu_);
    lines_.push_back(auth::audit_json(e));
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

/// authd's public and admin routes on one Router, over real components.
class InProcessAuthd {
 public:
  struct Options {
    auth::Settings settings = fast_settings();
    http::AuthRoutesOptions routes;
    bool limits = true;
    /// Replaces the default readiness probes (a signing key, a store ping) when set.
    std::optional<std::vector<http::ReadinessProbe>> readiness;
  };
  static auth::Settings fast_settings();

  static constexpr const char* kDemoEmail = "demo@example.com";
  static constexpr const char* kDemoPassword = "demo-password";

  InProcessAuthd() : InProcessAuthd(Options{}) {}
  explicit InProcessAuthd(Options options);
  ~InProcessAuthd();

  /// Empty when everything was built; else what failed.
  const std::string& error() const { return error_; }
  InProcessHttp& http() { return *http_; }
  auth::AuthService& service() { return *service_; }
  store::Database& db() { return database_.db(); }
  keys::KeyRing& ring() { return *ring_; }
  FaultyUserStore& users() { return *users_; }
  /// The audit lines written so far.
  std::vector<std::string> audit_lines() { return audit_.lines(); }

  /// Adds a user with this email and password; returns its id.
  std::string add_user(const std::string& email, const std::string& password);
  /// Adds a client; `secret` empty = public. The secret is stored as authctl stores those it
  /// generates (a keyed hash), or as an Argon2id hash of older builds with `legacy_hash`.
  void add_client(auth::Client client, const std::string& secret = "", bool legacy_hash = false);

 private:
  std::string password_hash(const std::string& password);

  std::string error_;
  TestDatabase database_{Backend::kSqlite};
  SystemClock clock_;
  SystemRandom random_;
  std::unique_ptr<keys::KeyRing> ring_;
  std::unique_ptr<app::RingKeys> ring_keys_;
  std::unique_ptr<crypto::KeyedHasher> pepper_;
  std::unique_ptr<FaultyUserStore> users_;
  cache::LocalRateLimiter limiter_{clock_};
  obs::Registry metrics_;
  MemoryAuditSink audit_;
  app::MetricsEvents events_{metrics_, &audit_};
  InlineExecutor executor_;
  std::unique_ptr<auth::AuthService> service_;
  http::Router router_;
  std::unique_ptr<InProcessHttp> http_;
  auth::Settings settings_;
};

}  // namespace authd::testing
