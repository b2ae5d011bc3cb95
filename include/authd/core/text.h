#pragma once
// Small text helpers of the HTTP grammar, shared by the modules that parse header values.

#include <string_view>

namespace authd {

/// `s` without its leading and trailing optional whitespace (spaces and tabs, RFC 9110 §5.6.3).
inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace authd
