#pragma once
// Structured logging: stable event names plus typed fields, rendered as JSON lines in
// production or as readable text in dev. Never pass secrets (passwords, tokens, keys, cookies,
// Authorization headers) as fields; secret types have no conversion to Field on purpose.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace authd::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };
enum class Format { kJson, kText };

using Value = std::variant<std::string_view, std::int64_t, double, bool>;

/// One key/value of an event. Integers of any width convert to int64.
struct Field {
  std::string_view key;
  Value value;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  template <class I, class = std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>>>
  Field(std::string_view k, I v) : key(k), value(static_cast<std::int64_t>(v)) {}
};

/// Configures the process-wide logger (stdout). Safe to call again to change settings.
void init(Format format, Level level);
/// Parses "info" etc.; unknown names give kInfo.
Level level_from_string(std::string_view name);
bool enabled(Level level);

/// One event as the line write() prints (without the newline). In JSON every line is valid
/// JSON whatever the fields hold: ill-formed UTF-8 becomes U+FFFD.
std::string format_line(Level level, std::string_view event, std::initializer_list<Field> fields,
                        Format format);

/// Writes one event. Thread-safe.
void write(Level level, std::string_view event, std::initializer_list<Field> fields = {});

inline void info(std::string_view event, std::initializer_list<Field> f = {}) {
  write(Level::kInfo, event, f);
}
inline void warn(std::string_view event, std::initializer_list<Field> f = {}) {
  write(Level::kWarn, event, f);
}
inline void error(std::string_view event, std::initializer_list<Field> f = {}) {
  write(Level::kError, event, f);
}
inline void debug(std::string_view event, std::initializer_list<Field> f = {}) {
  write(Level::kDebug, event, f);
}

}  // namespace authd::log
