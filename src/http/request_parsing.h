#pragma once
// What the auth routes read from a request: a JSON object body and its string members, the
// refresh cookie, a bearer token. Private to src/http.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "authd/auth/service.h"
#include "authd/http/form.h"
#include "authd/http/message.h"

namespace authd::http {

/// The body as a JSON object; nullopt for anything else.
std::optional<nlohmann::json> json_body(const Request& req);

/// A string member: nullopt if present but not a string; "" if absent or null.
std::optional<std::string> json_string(const nlohmann::json& object, const char* key);

/// 400 invalid_request with this description.
Response bad_request(std::string_view description);

/// True when the body is declared application/x-www-form-urlencoded (parameters allowed).
bool has_form_body(const Request& req);

/// Authenticates HTTP Basic credentials: the form-decoded ones (RFC 6749 §2.3.1), then, if
/// those fail as invalid_client, the text as sent (for clients that do not form-encode).
auth::AuthResult<auth::Client> authenticate_basic(auth::AuthService& service,
                                                  const BasicCredentials& creds,
                                                  const std::string& ip,
                                                  const std::string& request_id);

/// CORS for the answer to a request of `client_id`: Access-Control-Allow-Origin (and Vary)
/// when that client registered the request's Origin; `r` unchanged otherwise.
Response allow_client_origin(auth::AuthService& service, const Request& req, Response r,
                             const std::string& client_id);

}  // namespace authd::http
