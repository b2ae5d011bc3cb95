#include "authd/obs/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "authd/core/json_writer.h"

namespace authd::log {
namespace {

std::atomic<Format> g_format{Format::kText};
std::atomic<Level> g_level{Level::kInfo};
std::once_flag g_once;
std::shared_ptr<spdlog::logger> g_logger;

spdlog::logger& logger() {
  std::call_once(g_once, [] {
    g_logger = std::make_shared<spdlog::logger>("authd",
                                                std::make_shared<spdlog::sinks::stdout_sink_mt>());
    g_logger->set_pattern("%v");  // we render the whole line ourselves
    g_logger->set_level(spdlog::level::trace);
    g_logger->flush_on(spdlog::level::trace);
  });
  return *g_logger;
}

void append_value(std::string& out, const Value& v, bool json) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          if (json) {
            json::append_quoted_lossy(out, x);
          } else if (x.find_first_of(" \"=") != std::string_view::npos || x.empty()) {
            json::append_quoted_lossy(out, x);
          } else {
            out.append(x);
          }
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%.3f", x);
          out += buf;
        } else {
          out += std::to_string(x);
        }
      },
      v);
}

const char* level_name(Level l) {
  switch (l) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "info";
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

void init(Format format, Level level) {
  g_format = format;
  g_level = level;
  logger();
}

Level level_from_string(std::string_view n) {
  if (n == "trace") return Level::kTrace;
  if (n == "debug") return Level::kDebug;
  if (n == "warn") return Level::kWarn;
  if (n == "error") return Level::kError;
  if (n == "off") return Level::kOff;
  return Level::kInfo;
}

bool enabled(Level level) { return level >= g_level.load() && level != Level::kOff; }

std::string format_line(Level level, std::string_view event, std::initializer_list<Field> fields,
                        Format format) {
  std::string line;
  line.reserve(256);
  if (format == Format::kJson) {
    line += "{\"ts\":\"" + timestamp() + "\",\"level\":\"" + level_name(level) + "\",\"event\":";
    json::append_quoted_lossy(line, event);
    for (const auto& f : fields) {
      line.push_back(',');
      json::append_quoted_lossy(line, f.key);
      line.push_back(':');
      append_value(line, f.value, true);
    }
    line.push_back('}');
  } else {
    line += timestamp();
    line += ' ';
    line += level_name(level);
    line += ' ';
    line.append(event);
    for (const auto& f : fields) {
      line.push_back(' ');
      line.append(f.key);
      line.push_back('=');
      append_value(line, f.value, false);
    }
  }
  return line;
}

void write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  const std::string line = format_line(level, event, fields, g_format.load());
  logger().log(spdlog::level::info, spdlog::string_view_t(line));
}

}  // namespace authd::log
