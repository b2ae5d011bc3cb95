#pragma once
// auth::Error → HTTP, in one place: the status (RFC 6749 §5.2 at the token endpoint), the
// {"error","error_description"} body, and WWW-Authenticate, Retry-After and RateLimit headers.

#include <string>

#include "authd/auth/errors.h"
#include "authd/http/message.h"

namespace authd::http {

/// The HTTP form of an auth error. `token_endpoint`: invalid_grant is a 400 (RFC 6749 §5.2)
/// rather than a 401. The error's internal cause goes to Response::log_cause, never the body.
Response auth_error_response(const auth::Error& e, bool token_endpoint = false);

/// An error raised by the HTTP layer itself (malformed request, CSRF), with no internal cause.
auth::Error http_auth_error(auth::Errc code, std::string description);

}  // namespace authd::http
