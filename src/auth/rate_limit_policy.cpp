#include "authd/auth/rate_limit_policy.h"

#include <algorithm>

#include "authd/core/base64url.h"

namespace authd::auth {
namespace {
constexpr std::string_view kAccountContext = "authd.ratelimit.account.v1";

std::string key(std::string_view prefix, std::string_view id) {
  std::string k(prefix);
  k += id;
  return k;
}
}  // namespace

RateLimitPolicy::RateLimitPolicy(RateLimiter* login, RateLimiter* refresh, const Settings& settings,
                                 const crypto::KeyedHasher& pepper)
    : login_(login), refresh_(refresh), settings_(settings), pepper_(pepper) {}

Error RateLimitPolicy::rate_limited(const Decision& d, const Limit& l, std::string description) {
  Error e{Errc::kRateLimited, std::move(description)};
  e.retry_after_s = std::max<long>(1, static_cast<long>((d.retry_after_ms + 999) / 1000));
  e.limit = static_cast<long>(d.limit);
  e.window_s = l.rate_per_minute > 0
                   ? static_cast<long>(std::max<std::int64_t>(1, l.burst * 60 / l.rate_per_minute))
                   : 60;
  e.reset_s = static_cast<long>((d.reset_ms + 999) / 1000);
  return e;
}

std::optional<Error> RateLimitPolicy::verdict(RateLimiter* limiter, std::string_view key,
                                              const Limit& limit) {
  if (!limiter) return std::nullopt;
  const Decision d = limiter->check(key, limit);
  if (d.allowed) return std::nullopt;
  return rate_limited(d, limit);
}

void RateLimitPolicy::verdict_async(RateLimiter* limiter, std::string_view key, const Limit& limit,
                                    Admitted done) {
  if (!limiter) return done(std::nullopt);
  limiter->check_async(key, limit, 1, [limit, done = std::move(done)](Decision d) {
    done(d.allowed ? std::nullopt : std::optional<Error>(rate_limited(d, limit)));
  });
}

std::string RateLimitPolicy::account_key(std::string_view email) const {
  return base64url::encode(pepper_.derive(kAccountContext, email));
}

std::string RateLimitPolicy::failure_key(std::string_view ip, std::string_view account) {
  std::string k = key("login:fail:", account);
  k += ':';
  k += ip;
  return k;
}

std::optional<Error> RateLimitPolicy::admit_login(std::string_view ip, std::string_view account) {
  if (auto e = verdict(login_, key("login:ip:", ip), settings_.login_per_ip)) return e;
  if (auto e = verdict(login_, key("login:acct:", account), settings_.login_per_account)) return e;
  if (!login_) return std::nullopt;
  // Charged now, before the hash, and given back on success: parallel guesses cannot all
  // pass one look at the bucket. Per account and address, so that guesses from elsewhere
  // never lock the real user out.
  const Decision f = login_->check(failure_key(ip, account), settings_.login_failures);
  if (!f.allowed)
    return rate_limited(f, settings_.login_failures, "Too many failed attempts; retry later.");
  return std::nullopt;
}

void RateLimitPolicy::login_succeeded(std::string_view ip, std::string_view account) {
  if (login_) login_->reset(failure_key(ip, account));
}

std::optional<Error> RateLimitPolicy::admit_oauth_address(std::string_view ip) {
  return verdict(login_, key("oauth:ip:", ip), settings_.oauth_per_ip);
}

std::optional<Error> RateLimitPolicy::admit_client(std::string_view client_id) {
  return verdict(login_, key("token:client:", client_id), settings_.token_per_client);
}

std::optional<Error> RateLimitPolicy::admit_refresh_address(std::string_view ip) {
  return verdict(refresh_, key("refresh:ip:", ip), settings_.refresh_per_ip);
}

std::optional<Error> RateLimitPolicy::admit_refresh_family(std::string_view family_key) {
  return verdict(refresh_, family_key, settings_.refresh_per_family);
}

void RateLimitPolicy::admit_refresh_address_async(std::string_view ip, Admitted done) {
  verdict_async(refresh_, key("refresh:ip:", ip), settings_.refresh_per_ip, std::move(done));
}

void RateLimitPolicy::admit_refresh_family_async(std::string_view family_key, Admitted done) {
  verdict_async(refresh_, family_key, settings_.refresh_per_family, std::move(done));
}

}  // namespace authd::auth
