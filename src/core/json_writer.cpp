#include "authd/core/json_writer.h"

#include <charconv>

#include "authd/core/hex.h"
#include "authd/core/utf8.h"

namespace authd::json {
namespace {

// The replacement character, for ill-formed bytes in lossy mode (Unicode §3.9, U+FFFD).
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

bool append_quoted(std::string& out, std::string_view s, bool lossy) {
  const std::size_t mark = out.size();
  out.push_back('"');
  std::size_t run = 0;  // start of the pending run of bytes that need no escaping
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const std::size_t n = utf8::sequence_length(s, i);
      if (n > 0) {
        i += n;
        continue;
      }
      if (!lossy) {
        out.resize(mark);
        return false;
      }
      out.append(s.substr(run, i - run));
      out.append(kReplacement);
      run = ++i;
      continue;
    }
    out.append(s.substr(run, i - run));
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        hex::append_byte(out, c);
    }
    run = ++i;
  }
  out.append(s.substr(run));
  out.push_back('"');
  return true;
}

}  // namespace

bool append_quoted(std::string& out, std::string_view s) {
  return append_quoted(out, s, /*lossy=*/false);
}

void append_quoted_lossy(std::string& out, std::string_view s) {
  (void)append_quoted(out, s, /*lossy=*/true);
}

ObjectWriter::ObjectWriter(std::size_t reserve) {
  out_.reserve(reserve);
  out_.push_back('{');
}

void ObjectWriter::key(std::string_view k) {
  if (out_.size() > 1) out_.push_back(',');
  quoted(k);
  out_.push_back(':');
}

void ObjectWriter::quoted(std::string_view s) {
  if (!append_quoted(out_, s)) ok_ = false;
}

ObjectWriter& ObjectWriter::str(std::string_view k, std::string_view value) {
  key(k);
  quoted(value);
  return *this;
}

ObjectWriter& ObjectWriter::num(std::string_view k, std::int64_t value) {
  key(k);
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  out_.append(buf, r.ptr);
  return *this;
}

ObjectWriter& ObjectWriter::boolean(std::string_view k, bool value) {
  key(k);
  out_ += value ? "true" : "false";
  return *this;
}

ObjectWriter& ObjectWriter::str_array(std::string_view k, const std::vector<std::string>& values) {
  key(k);
  out_.push_back('[');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out_.push_back(',');
    quoted(values[i]);
  }
  out_.push_back(']');
  return *this;
}

std::string ObjectWriter::finish() {
  out_.push_back('}');
  std::string done = std::move(out_);
  out_.assign(1, '{');
  ok_ = true;
  return done;
}

}  // namespace authd::json
