#pragma once
// Fixtures for the authd::verify tests: the jose test keys, a fake clock as a ClockFn, and a
// fake JWKS endpoint (the injectable fetcher) that counts requests and can be taken down.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "authd/verify/jwks_cache.h"
#include "authd/verify/verifier.h"
#include "unit/jose/test_util.h"

namespace authd::verify::testing {

using jose::testing::json;
using jose::testing::kAudience;
using jose::testing::kIssuer;
using jose::testing::kNow;

/// Seconds on an atomic, readable as a ClockFn from any thread.
class Clock {
 public:
  explicit Clock(std::int64_t unix_s = kNow) : ms_(unix_s * 1000) {}
  void advance(std::chrono::milliseconds d) { ms_ += d.count(); }
  void set(std::int64_t unix_s) { ms_ = unix_s * 1000; }
  std::int64_t now_s() const { return ms_.load() / 1000; }
  ClockFn fn() const {
    return [this] { return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms_)); };
  }

 private:
  std::atomic<std::int64_t> ms_;
};

/// The JWKS document of the public halves of `keys`.
inline std::string jwks_of(const std::vector<jose::KeyPtr>& keys) {
  json doc = {{"keys", json::array()}};
  for (const auto& k : keys) doc["keys"].push_back(k->public_jwk());
  return doc.dump();
}

/// A JWKS endpoint: serves `jwks` with Cache-Control and an ETag derived from the body
/// (304 on a match), or fails as told. Thread-safe.
class FakeEndpoint {
 public:
  void set_jwks(std::string body) {
    std::lock_guard lock(mu_);
    body_ = std::move(body);
    etag_ = "\"" + std::to_string(std::hash<std::string>{}(body_)) + "\"";
  }
  void set_cache_control(std::string cc) {
    std::lock_guard lock(mu_);
    cache_control_ = std::move(cc);
  }
  void set_down(bool down) { down_ = down; }
  void set_status(int status) { status_ = status; }
  void set_delay(std::chrono::milliseconds d) { delay_ = d; }
  /// Serves a discovery document at <kIssuer>/.well-known/openid-configuration (else 404).
  void set_discovery(std::string doc) {
    std::lock_guard lock(mu_);
    discovery_ = std::move(doc);
  }

  int requests() const { return requests_; }
  int jwks_requests() const { return jwks_requests_; }
  std::vector<std::string> urls() const {
    std::lock_guard lock(mu_);
    return urls_;
  }
  std::vector<Headers> request_headers() const {
    std::lock_guard lock(mu_);
    return headers_;
  }

  Fetcher fetcher() {
    return [this](const std::string& url, const Headers& headers) {
      ++requests_;
      {
        std::lock_guard lock(mu_);
        urls_.push_back(url);
        headers_.push_back(headers);
      }
      if (delay_.load().count() > 0) std::this_thread::sleep_for(delay_.load());
      HttpResponse r;
      if (down_) {
        r.error = "connection refused";
        return r;
      }
      std::lock_guard lock(mu_);
      if (url.find("/.well-known/openid-configuration") != std::string::npos) {
        r.status = discovery_.empty() ? 404 : 200;
        r.body = discovery_;
        return r;
      }
      ++jwks_requests_;
      if (status_ != 200) {
        r.status = status_;
        return r;
      }
      for (const auto& [name, value] : headers) {
        if (name == "If-None-Match" && value == etag_) {
          r.status = 304;
          r.headers = {{"Cache-Control", cache_control_}, {"ETag", etag_}};
          return r;
        }
      }
      r.status = 200;
      r.headers = {
          {"Content-Type", "application/json"}, {"Cache-Control", cache_control_}, {"ETag", etag_}};
      r.body = body_;
      return r;
    };
  }

 private:
  mutable std::mutex mu_;
  std::string body_, etag_, discovery_;
  std::string cache_control_ = "public, max-age=300";
  std::atomic<bool> down_{false};
  std::atomic<int> status_{200};
  std::atomic<std::chrono::milliseconds> delay_{std::chrono::milliseconds(0)};
  std::atomic<int> requests_{0}, jwks_requests_{0};
  std::vector<std::string> urls_;
  std::vector<Headers> headers_;
};

/// An access token as authd issues it, signed by `key`, valid at `now` for `ttl` seconds.
inline std::string token_for(const jose::Key& key, std::int64_t now = kNow,
                             const json& extra = json::object(), std::int64_t ttl = 600,
                             std::string_view typ = "at+jwt") {
  json c = {{"iss", kIssuer},
            {"sub", "user-42"},
            {"aud", kAudience},
            {"iat", now},
            {"nbf", now},
            {"exp", now + ttl},
            {"jti", "2f6c0a4e"},
            {"client_id", "orders"},
            {"scope", "orders:read orders:write"}};
  c.update(extra);
  auto t = jose::sign(key, c, typ);
  EXPECT_TRUE(t.has_value());
  return t.has_value() ? *t : std::string();
}

inline Options options_for(const Clock& clock) {
  Options o;
  o.issuer = kIssuer;
  o.audiences = {kAudience};
  o.clock = clock.fn();
  return o;
}

}  // namespace authd::verify::testing
