#include "authd/http/auth_errors.h"

#include <string>

namespace authd::http {
namespace {

int status_of(auth::Errc c, bool token_endpoint) {
  switch (c) {
    case auth::Errc::kInvalidRequest:
      return 400;
    case auth::Errc::kInvalidClient:
      return 401;
    case auth::Errc::kUnauthorizedClient:
      return 400;
    case auth::Errc::kUnsupportedGrant:
    case auth::Errc::kInvalidScope:
    case auth::Errc::kInvalidTarget:
      return 400;
    case auth::Errc::kInvalidGrant:
      return token_endpoint ? 400 : 401;  // RFC 6749 §5.2 for /oauth2/token
    case auth::Errc::kInvalidToken:
      return 401;
    case auth::Errc::kAccessDenied:
      return 403;
    case auth::Errc::kUnsupportedResponseType:
    case auth::Errc::kLoginRequired:
      return 400;
    case auth::Errc::kInsufficientScope:
      return 403;
    case auth::Errc::kNotFound:
      return 404;
    case auth::Errc::kCsrf:
      return 403;
    case auth::Errc::kRateLimited:
      return 429;
    case auth::Errc::kUnavailable:
      return 503;
    case auth::Errc::kInternal:
      return 500;
  }
  return 500;
}

}  // namespace

auth::Error http_auth_error(auth::Errc code, std::string description) {
  auth::Error e;
  e.code = code;
  e.description = std::move(description);
  return e;
}

Response auth_error_response(const auth::Error& e, bool token_endpoint) {
  auto r =
      Response::error(status_of(e.code, token_endpoint), auth::to_string(e.code), e.description);
  r.log_cause = e.debug;
  r.store_unavailable = e.store_unavailable;
  if (e.code == auth::Errc::kInvalidToken)
    r.set_header("WWW-Authenticate", "Bearer realm=\"authd\", error=\"invalid_token\"");
  if ((e.code == auth::Errc::kRateLimited || e.code == auth::Errc::kUnavailable) &&
      e.retry_after_s > 0)
    r.set_header("Retry-After", std::to_string(e.retry_after_s));
  if (e.code == auth::Errc::kRateLimited && e.limit > 0) {
    // draft-ietf-httpapi-ratelimit-headers: the policy that was hit, and when it frees up.
    r.set_header("RateLimit-Policy", std::to_string(e.limit) + ";w=" + std::to_string(e.window_s));
    r.set_header("RateLimit", "limit=" + std::to_string(e.limit) +
                                  ", remaining=0, reset=" + std::to_string(e.retry_after_s));
  }
  return r;
}

}  // namespace authd::http
