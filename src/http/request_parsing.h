#pragma once
// What the auth routes read from a request: a JSON object body and its string members, the
// refresh cookie, a bearer token. Private to src/http.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "authd/http/message.h"

namespace authd::http {

/// The body as a JSON object; nullopt for anything else.
std::optional<nlohmann::json> json_body(const Request& req);

/// A string member: nullopt if present but not a string; "" if absent or null.
std::optional<std::string> json_string(const nlohmann::json& object, const char* key);

/// 400 invalid_request with this description.
Response bad_request(std::string_view description);

/// The value of cookie `name` in the Cookie header, or "".
std::string cookie_value(const Request& req, std::string_view name);

/// The token of `Authorization: Bearer <token>`; nullopt when absent or empty.
std::optional<std::string> bearer_token(const Request& req);

}  // namespace authd::http
