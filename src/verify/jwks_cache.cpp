#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "authd/core/text.h"
#include "verify/cache_impl.h"

namespace authd::verify {
namespace {

using SysClock = std::chrono::system_clock;

std::int64_t ns(SysClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
std::int64_t ns(std::chrono::seconds s) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(s).count();
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// A fetch's result can take this long at most to arrive for the threads that wait for it
// (the default fetcher's own timeout is 5 s per request, discovery adds one).
constexpr auto kMaxWaitForFetch = std::chrono::seconds(30);

}  // namespace

std::optional<std::int64_t> cache_control_max_age(std::string_view value) {
  std::optional<std::int64_t> max_age;
  while (!value.empty()) {
    const auto comma = value.find(',');
    std::string_view directive = trim_ows(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    const auto eq = directive.find('=');
    const std::string_view name = trim_ows(directive.substr(0, eq));
    if (iequals(name, "no-store") || iequals(name, "no-cache")) return 0;
    if (!iequals(name, "max-age") || eq == std::string_view::npos) continue;
    std::string_view v = trim_ows(directive.substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    if (v.empty() || v.size() > 12) continue;
    std::int64_t n = 0;
    bool digits = true;
    for (char c : v) {
      if (c < '0' || c > '9') {
        digits = false;
        break;
      }
      n = n * 10 + (c - '0');
    }
    if (digits) max_age = n;
  }
  return max_age;
}

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return v;
  return {};
}

std::string_view to_string(CacheEvent e) noexcept {
  switch (e) {
    case CacheEvent::kFetched:
      return "fetched";
    case CacheEvent::kNotModified:
      return "not_modified";
    case CacheEvent::kFetchFailed:
      return "fetch_failed";
    case CacheEvent::kUnknownKidRefetch:
      return "unknown_kid_refetch";
    case CacheEvent::kRefetchSuppressed:
      return "refetch_suppressed";
    case CacheEvent::kStale:
      return "stale";
  }
  return "unknown";
}

JwksCache::Impl::Impl(CacheOptions options) : options_(std::move(options)) {
  jwks_uri_ = options_.jwks_uri;
}

SysClock::time_point JwksCache::Impl::now() const {
  return options_.clock ? options_.clock() : SysClock::now();
}

bool JwksCache::Impl::usable(const KeySet& s, SysClock::time_point at) const {
  return fixed_ || ns(at) < ns(s.fresh_until) + ns(options_.max_stale);
}

Lookup JwksCache::Impl::find(std::string_view kid, SysClock::time_point at) {
  auto set = current_.load();
  if (fixed_) {
    if (!set) return {nullptr, Error::kKeysUnavailable};
    if (auto key = set->jwks.find(kid)) return {std::move(key), std::nullopt};
    return {nullptr, Error::kUnknownKid};
  }
  const std::int64_t t = ns(at);
  if (!set) {
    if (t >= next_allowed_ns_.load(std::memory_order_relaxed)) fetch_or_wait(true, false);
    set = current_.load();
    if (!set) return {nullptr, Error::kKeysUnavailable};
  } else if (at >= set->fresh_until && t >= next_allowed_ns_.load(std::memory_order_relaxed)) {
    // Expired: one thread refreshes; the others go on with the held set while it is usable.
    fetch_or_wait(!usable(*set, at), false);
    set = current_.load();
  }
  if (!usable(*set, at)) {
    if (!stale_reported_.exchange(true)) emit(CacheEvent::kStale);
    return {nullptr, Error::kKeysStale};
  }
  if (auto key = set->jwks.find(kid)) return {std::move(key), std::nullopt};

  // Unknown kid: refetch only if no fetch started within the cool-down, so that a flood of
  // invented kids cannot turn into a flood of fetches. A fetch in flight is waited for.
  const bool cooled =
      t - last_attempt_ns_.load(std::memory_order_relaxed) >= ns(options_.unknown_kid_cooldown);
  if (cooled || in_flight_.load(std::memory_order_acquire)) {
    fetch_or_wait(true, cooled);
    set = current_.load();
    if (set && usable(*set, at))
      if (auto key = set->jwks.find(kid)) return {std::move(key), std::nullopt};
  } else {
    refetches_suppressed_.fetch_add(1, std::memory_order_relaxed);
    emit(CacheEvent::kRefetchSuppressed);
  }
  return {nullptr, Error::kUnknownKid};
}

void JwksCache::Impl::fetch_or_wait(bool wait, bool unknown_kid) {
  bool expected = false;
  if (in_flight_.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
    try {
      fetch(unknown_kid);
    } catch (...) {  // std::bad_alloc: leave the held set, let the next caller try again
      failures_.fetch_add(1, std::memory_order_relaxed);
    }
    {
      std::lock_guard lock(wait_mu_);
      ++generation_;
      // Cleared under the mutex: a waiter checks in_flight_ under it, so none misses the
      // notification below.
      in_flight_.store(false, std::memory_order_release);
    }
    fetched_cv_.notify_all();
    return;
  }
  if (!wait) return;
  std::unique_lock lock(wait_mu_);
  const std::uint64_t generation = generation_;
  fetched_cv_.wait_for(lock, kMaxWaitForFetch, [&] {
    return generation_ != generation || !in_flight_.load(std::memory_order_acquire);
  });
}

HttpResponse JwksCache::Impl::get(const std::string& url, const Headers& headers) {
  fetches_.fetch_add(1, std::memory_order_relaxed);
  if (!options_.fetcher) options_.fetcher = https_fetcher();
  try {
    return options_.fetcher(url, headers);
  } catch (...) {
    HttpResponse r;
    r.error = "the fetcher threw an exception";
    return r;
  }
}

void JwksCache::Impl::emit(CacheEvent e, std::string url, int status, std::string detail) {
  if (!options_.on_event) return;
  try {
    options_.on_event(CacheEventInfo{e, std::move(url), status, std::move(detail)});
  } catch (...) {  // a callback's failure must not fail verification
  }
}

bool JwksCache::Impl::resolve_jwks_uri(std::string& detail, int& status) {
  std::string issuer = options_.issuer;
  while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
  if (issuer.empty()) {
    detail = "neither jwks_uri nor issuer is configured";
    return false;
  }
  const std::string url = issuer + "/.well-known/openid-configuration";
  HttpResponse r = get(url, {});
  status = r.status;
  if (!r.error.empty()) {
    detail = "discovery: " + r.error;
    return false;
  }
  if (r.status == 404) {  // no discovery document: authd's fixed JWKS path
    jwks_uri_ = issuer + "/.well-known/jwks.json";
    return true;
  }
  if (r.status != 200) {
    detail = "discovery: HTTP status " + std::to_string(r.status);
    return false;
  }
  const auto doc = nlohmann::json::parse(r.body, nullptr, false);
  if (!doc.is_object() || !doc.contains("jwks_uri") || !doc["jwks_uri"].is_string() ||
      !doc.contains("issuer") || !doc["issuer"].is_string()) {
    detail = "discovery: the document has no string issuer and jwks_uri";
    return false;
  }
  if (doc["issuer"].get<std::string>() != options_.issuer) {
    detail = "discovery: the document names another issuer";
    return false;
  }
  std::string uri = doc["jwks_uri"].get<std::string>();
  if (issuer.rfind("https://", 0) == 0 && uri.rfind("https://", 0) != 0) {
    detail = "discovery: jwks_uri is not https";
    return false;
  }
  jwks_uri_ = std::move(uri);
  return true;
}

void JwksCache::Impl::fetch(bool unknown_kid) {
  const auto started = now();
  last_attempt_ns_.store(ns(started), std::memory_order_relaxed);
  if (unknown_kid) {
    unknown_kid_refetches_.fetch_add(1, std::memory_order_relaxed);
    emit(CacheEvent::kUnknownKidRefetch);
  }
  auto failed = [&](const std::string& url, int status, std::string detail) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    next_allowed_ns_.store(ns(now()) + ns(options_.retry_interval), std::memory_order_relaxed);
    emit(CacheEvent::kFetchFailed, url, status, std::move(detail));
  };
  if (jwks_uri_.empty()) {
    std::string detail;
    int status = 0;
    if (!resolve_jwks_uri(detail, status))
      return failed(options_.issuer + "/.well-known/openid-configuration", status,
                    std::move(detail));
  }
  const auto held = current_.load();
  Headers headers;
  if (held && !held->etag.empty()) headers.emplace_back("If-None-Match", held->etag);
  HttpResponse r = get(jwks_uri_, headers);
  if (!r.error.empty()) return failed(jwks_uri_, 0, r.error);
  const std::int64_t max_age = std::clamp<std::int64_t>(
      cache_control_max_age(r.header("cache-control")).value_or(options_.default_max_age.count()),
      options_.min_max_age.count(), options_.max_max_age.count());
  const auto fresh_until = now() + std::chrono::seconds(max_age);
  if (r.status == 304 && held) {
    auto set = std::make_shared<KeySet>(*held);
    set->fresh_until = fresh_until;
    current_.store(std::move(set));
    not_modified_.fetch_add(1, std::memory_order_relaxed);
    next_allowed_ns_.store(INT64_MIN / 2, std::memory_order_relaxed);
    stale_reported_.store(false, std::memory_order_relaxed);
    emit(CacheEvent::kNotModified, jwks_uri_, 304);
    return;
  }
  if (r.status != 200)
    return failed(jwks_uri_, r.status, "HTTP status " + std::to_string(r.status));
  auto parsed = jose::Jwks::parse(r.body);
  if (!parsed)
    return failed(jwks_uri_, r.status,
                  "JWKS refused: " + std::string(jose::to_string(parsed.error())));
  if (parsed->empty()) return failed(jwks_uri_, r.status, "JWKS holds no usable key");
  auto set = std::make_shared<KeySet>();
  set->jwks = std::move(*parsed);
  set->fresh_until = fresh_until;
  set->etag = r.header("etag");
  const std::size_t n = set->jwks.size();
  current_.store(std::move(set));
  fetched_.fetch_add(1, std::memory_order_relaxed);
  next_allowed_ns_.store(INT64_MIN / 2, std::memory_order_relaxed);
  stale_reported_.store(false, std::memory_order_relaxed);
  emit(CacheEvent::kFetched, jwks_uri_, 200, std::to_string(n) + " keys");
}

JwksCache::JwksCache(CacheOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
JwksCache::~JwksCache() = default;

std::shared_ptr<JwksCache> JwksCache::fixed(std::string_view jwks_json) {
  auto cache = std::make_shared<JwksCache>(CacheOptions{});
  cache->impl_->fixed_ = true;
  if (auto parsed = jose::Jwks::parse(jwks_json)) {
    auto set = std::make_shared<KeySet>();
    set->jwks = std::move(*parsed);
    set->fresh_until = SysClock::time_point::max();
    cache->impl_->current_.store(std::move(set));
  }
  return cache;
}

bool JwksCache::refresh() {
  if (impl_->fixed_) return ok();
  impl_->fetch_or_wait(true, false);
  return ok();
}

bool JwksCache::ok() const {
  auto set = impl_->current_.load();
  return set && impl_->usable(*set, impl_->now());
}

CacheStats JwksCache::stats() const {
  CacheStats s;
  s.fetches = impl_->fetches_.load();
  s.fetched = impl_->fetched_.load();
  s.not_modified = impl_->not_modified_.load();
  s.failures = impl_->failures_.load();
  s.unknown_kid_refetches = impl_->unknown_kid_refetches_.load();
  s.refetches_suppressed = impl_->refetches_suppressed_.load();
  auto set = impl_->current_.load();
  s.keys = set ? set->jwks.size() : 0;
  return s;
}

}  // namespace authd::verify
