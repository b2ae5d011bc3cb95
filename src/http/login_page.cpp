#include "http/login_page.h"

namespace authd::http {
namespace {

std::string head(std::string_view product_name, bool has_logo, std::string_view title) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"referrer\" content=\"no-referrer\">\n<title>";
  out += html_escape(title) + " - " + html_escape(product_name);
  out += "</title>\n<link rel=\"stylesheet\" href=\"/oauth2/assets/login.css\">\n</head>\n";
  out += "<body>\n<main class=\"card\">\n";
  if (has_logo)
    out += "<img class=\"logo\" src=\"/oauth2/assets/logo\" alt=\"" + html_escape(product_name) +
           "\">\n";
  out += "<h1>" + html_escape(title) + "</h1>\n";
  return out;
}

void hidden_fields(std::string& out, const std::map<std::string, std::string>& hidden) {
  for (const auto& [k, v] : hidden)
    out += "<input type=\"hidden\" name=\"" + html_escape(k) + "\" value=\"" + html_escape(v) +
           "\">\n";
}

constexpr std::string_view kTail = "</main>\n</body>\n</html>\n";

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_login(const LoginPage& page) {
  std::string out = head(page.product_name, page.has_logo, "Sign in");
  // The live region exists even when empty, so screen readers announce an error that appears.
  out += "<p id=\"error\" class=\"error\" role=\"alert\" aria-live=\"assertive\">";
  out += html_escape(page.error);
  out += "</p>\n<form method=\"post\" action=\"" + html_escape(page.action) + "\">\n";
  hidden_fields(out, page.hidden);
  const std::string described = page.error.empty() ? "" : " aria-describedby=\"error\"";
  const std::string invalid = page.error.empty() ? "" : " aria-invalid=\"true\"";
  out += "<label for=\"email\">Email</label>\n";
  out +=
      "<input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required"
      " autofocus value=\"" +
      html_escape(page.email) + "\"" + described + invalid + ">\n";
  out += "<label for=\"password\">Password</label>\n";
  out +=
      "<input id=\"password\" name=\"password\" type=\"password\""
      " autocomplete=\"current-password\" required" +
      described + invalid + ">\n";
  out += "<button type=\"submit\">Sign in</button>\n</form>\n";
  out += kTail;
  return out;
}

std::string render_message(std::string_view product_name, bool has_logo, std::string_view title,
                           std::string_view message) {
  std::string out = head(product_name, has_logo, title);
  out += "<p class=\"message\" role=\"status\">" + html_escape(message) + "</p>\n";
  out += kTail;
  return out;
}

std::string render_logout_confirm(std::string_view product_name, bool has_logo,
                                  std::string_view action,
                                  const std::map<std::string, std::string>& hidden) {
  std::string out = head(product_name, has_logo, "Sign out");
  out += "<p class=\"message\">Sign out of " + html_escape(product_name) + "?</p>\n";
  out += "<form method=\"post\" action=\"" + html_escape(action) + "\">\n";
  hidden_fields(out, hidden);
  out += "<button type=\"submit\">Sign out</button>\n</form>\n";
  out += kTail;
  return out;
}

std::string_view default_login_css() {
  return R"css(:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: Canvas; }
.card { width: min(24rem, 92vw); padding: 2rem; border: 1px solid GrayText; border-radius: .5rem; }
.logo { display: block; max-height: 3rem; margin: 0 auto 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 1rem; }
label { display: block; margin-top: 1rem; font-weight: 600; }
input { box-sizing: border-box; width: 100%; padding: .6rem; margin-top: .3rem; font-size: 1rem; }
input:focus, button:focus { outline: 3px solid Highlight; outline-offset: 2px; }
button { margin-top: 1.5rem; width: 100%; padding: .7rem; font-size: 1rem; cursor: pointer; }
.error { color: #b00020; min-height: 1.2em; margin: 0; }
.error:empty { display: none; }
)css";
}

}  // namespace authd::http
