#include "http/request_parsing.h"

#include <algorithm>

#include "authd/core/strict_json.h"
#include "authd/http/auth_errors.h"

namespace authd::http {

std::optional<nlohmann::json> json_body(const Request& req) {
  // Strict: a duplicate member or a byte-order mark is refused, not resolved one way here
  // and perhaps another way by whoever reads the same body after us.
  auto j = parse_strict_json(req.body);
  if (!j || !j->is_object()) return std::nullopt;
  return std::move(*j);
}

std::optional<std::string> json_string(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

Response bad_request(std::string_view description) {
  return auth_error_response(
      http_auth_error(auth::Errc::kInvalidRequest, std::string(description)));
}

bool has_form_body(const Request& req) {
  const std::string_view type = req.header("Content-Type");
  return type.substr(0, type.find(';')) == "application/x-www-form-urlencoded";
}

Response allow_client_origin(auth::AuthService& service, const Request& req, Response r,
                             const std::string& client_id) {
  const std::string origin(req.header("Origin"));
  if (origin.empty() || client_id.empty()) return r;
  auto c = service.client(client_id);
  if (c && std::find(c->allowed_origins.begin(), c->allowed_origins.end(), origin) !=
               c->allowed_origins.end()) {
    r.set_header("Access-Control-Allow-Origin", origin);
    r.set_header("Vary", "Origin");
  }
  return r;
}

auth::AuthResult<auth::Client> authenticate_basic(auth::AuthService& service,
                                                  const BasicCredentials& creds,
                                                  const std::string& ip,
                                                  const std::string& request_id) {
  const auth::ClientAuthRequest decoded{creds.user, creds.password, ip, request_id};
  if (!creds.raw) return service.authenticate_client(decoded);
  const auth::ClientAuthRequest raw{creds.raw->first, creds.raw->second, ip, request_id};
  return service.authenticate_client(decoded, &raw);
}

}  // namespace authd::http
