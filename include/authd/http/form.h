#pragma once
// application/x-www-form-urlencoded bodies and HTTP Basic client credentials, as the OAuth 2.0
// token endpoint receives them (RFC 6749 §2.3.1, §3.2, Appendix B).

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace authd::http {

/// Decodes `a=1&b=x%20y+z`. nullopt on a malformed escape, an empty name, or a parameter given
/// twice (RFC 6749 §3.2: parameters must not be repeated).
std::optional<std::map<std::string, std::string>> parse_form(std::string_view body);

/// Percent-decodes one form component ('+' is a space). nullopt on a malformed escape.
std::optional<std::string> form_decode(std::string_view text);

struct BasicCredentials {
  std::string user;      ///< form-decoded (RFC 6749 §2.3.1); the raw text if that fails
  std::string password;  ///< likewise
  /// The text as sent, when it differs from the decoded one: some clients (python3-authlib
  /// 1.2 among them) do not form-encode, and a secret with '+' or '%' then only matches as
  /// sent. Callers try the decoded credentials first, then these.
  std::optional<std::pair<std::string, std::string>> raw;
};

/// Parses `Authorization: Basic base64(form-encoded id ":" form-encoded secret)`.
/// nullopt when the header is not Basic or not base64 of "id:secret".
std::optional<BasicCredentials> parse_basic_auth(std::string_view authorization);

}  // namespace authd::http
