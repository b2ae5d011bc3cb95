#pragma once
// The hosted login page and the browser flow's other pages: server-rendered HTML, no script,
// labelled fields, errors in an aria-live region. Private to src/http.

#include <map>
#include <string>
#include <string_view>

namespace authd::http {

/// Escapes text for an HTML element or a quoted attribute.
std::string html_escape(std::string_view text);

struct LoginPage {
  std::string product_name;
  bool has_logo = false;
  std::string action;  ///< where the form posts
  /// Hidden fields: the authorization request and the CSRF token.
  std::map<std::string, std::string> hidden;
  std::string email;  ///< pre-filled (login_hint, or what was typed)
  std::string error;  ///< shown and announced; "" for none
};

std::string render_login(const LoginPage& page);

/// A page with a heading and a message (errors that must not redirect; signed out).
std::string render_message(std::string_view product_name, bool has_logo, std::string_view title,
                           std::string_view message);

/// A page asking to confirm a sign-out, posting `hidden` to `action`.
std::string render_logout_confirm(std::string_view product_name, bool has_logo,
                                  std::string_view action,
                                  const std::map<std::string, std::string>& hidden);

/// The built-in stylesheet.
std::string_view default_login_css();

}  // namespace authd::http
