#pragma once
// A compact JSON object built straight into a string, for the hot paths whose shape is fixed
// (access-token claims, token responses): no DOM, no per-member allocation, no sorting.
// Strings are escaped as RFC 8259 §7 requires; invalid UTF-8 is refused, not passed on.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace authd::json {

class ObjectWriter {
 public:
  explicit ObjectWriter(std::size_t reserve = 256);

  ObjectWriter& str(std::string_view key, std::string_view value);
  ObjectWriter& num(std::string_view key, std::int64_t value);
  ObjectWriter& boolean(std::string_view key, bool value);
  ObjectWriter& str_array(std::string_view key, const std::vector<std::string>& values);

  /// False once any key or value was not valid UTF-8; finish() then must not be used.
  bool ok() const { return ok_; }

  /// The object, closed. The writer starts a new, empty object afterwards.
  std::string finish();

 private:
  void key(std::string_view k);
  void quoted(std::string_view s);

  std::string out_;
  bool ok_ = true;
};

/// Appends `s` to `out` as a quoted JSON string. Returns false (appending nothing) if `s` is
/// not valid UTF-8.
bool append_quoted(std::string& out, std::string_view s);

/// Appends `s` as a quoted JSON string, each ill-formed UTF-8 byte replaced by U+FFFD: for
/// text that must always be written (log fields, error bodies) and must stay valid JSON.
void append_quoted_lossy(std::string& out, std::string_view s);

}  // namespace authd::json
