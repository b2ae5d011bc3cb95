#pragma once
// Test helpers for OAuth requests and tokens, shared by the socket and in-process suites.

#include <nlohmann/json.hpp>
#include <string>

#include "authd/core/base64url.h"

namespace authd::testing {

/// An `Authorization: Basic` value for `id:secret`, in standard base64 with padding as
/// RFC 7617 clients send it; written here, not borrowed from authd's base64url, so that the
/// server's Basic decoder is checked independently.
inline std::string basic(const std::string& id, const std::string& secret) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string in = id + ":" + secret;
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += a[(v >> 18) & 63];
    out += a[(v >> 12) & 63];
    out += i + 1 < in.size() ? a[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? a[v & 63] : '=';
  }
  return "Basic " + out;
}

/// The claims of a JWS compact token, unverified (tests check signatures separately).
inline nlohmann::json claims_of(const std::string& jwt) {
  const auto a = jwt.find('.'), b = jwt.find('.', a + 1);
  return nlohmann::json::parse(base64url::decode(jwt.substr(a + 1, b - a - 1)).value_or(""));
}

}  // namespace authd::testing
