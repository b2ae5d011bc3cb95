#include "jose/flat_json.h"

#include <algorithm>

namespace authd::jose::detail {
namespace {

// Bytes a string of the subset holds as they are: printable ASCII but '"' and '\\'.
constexpr std::array<bool, 256> make_plain() {
  std::array<bool, 256> t{};
  for (int c = 0x20; c <= 0x7E; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return t;
}
constexpr auto kPlain = make_plain();

class Scanner {
 public:
  explicit Scanner(std::string_view t) : p_(t.data()), end_(t.data() + t.size()) {}

  void skip_ws() noexcept {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool eat(char c) noexcept {
    skip_ws();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  bool peek(char c) noexcept {
    skip_ws();
    return p_ != end_ && *p_ == c;
  }
  bool at_end() noexcept {
    skip_ws();
    return p_ == end_;
  }

  // A string of printable ASCII without escapes; its contents.
  bool string(std::string_view& out) noexcept {
    if (!eat('"')) return false;
    const char* start = p_;
    while (p_ != end_ && kPlain[static_cast<unsigned char>(*p_)]) ++p_;
    if (p_ == end_ || *p_ != '"') return false;  // an escape, a control or non-ASCII byte
    out = std::string_view(start, static_cast<std::size_t>(p_ - start));
    ++p_;
    return true;
  }

  bool scalar(FlatValue& v) noexcept {
    v = FlatValue{};
    skip_ws();
    if (p_ == end_) return false;
    const char c = *p_;
    if (c == '"') {
      v.kind = FlatKind::kString;
      return string(v.text);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return integer(v);
    if (literal("true")) {
      v.kind = FlatKind::kTrue;
      return true;
    }
    if (literal("false")) {
      v.kind = FlatKind::kFalse;
      return true;
    }
    if (literal("null")) {
      v.kind = FlatKind::kNull;
      return true;
    }
    return false;
  }

 private:
  bool literal(std::string_view word) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::string_view(p_, word.size()) != word)
      return false;
    p_ += word.size();
    return true;
  }

  // -?(0|[1-9][0-9]*), at most 18 digits (fits int64 and, below 2^53, a double exactly as
  // nlohmann would convert it); "-0", fractions and exponents are left to the strict parser.
  bool integer(FlatValue& v) noexcept {
    const char* start = p_;
    const bool neg = *p_ == '-';
    if (neg) ++p_;
    const char* digits = p_;
    std::int64_t n = 0;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
      n = n * 10 + (*p_ - '0');
      ++p_;
      if (p_ - digits > 18) return false;
    }
    const auto len = p_ - digits;
    if (len == 0 || (*digits == '0' && (len > 1 || neg))) return false;
    if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    v.kind = FlatKind::kInteger;
    v.text = std::string_view(start, static_cast<std::size_t>(p_ - start));
    v.integer = neg ? -n : n;
    return true;
  }

  const char* p_;
  const char* end_;
};

void dump_value(const FlatObject& o, const FlatValue& v, std::string& out) {
  switch (v.kind) {
    case FlatKind::kString:
      out += '"';
      out += v.text;
      out += '"';
      return;
    case FlatKind::kInteger:
      out += v.text;
      return;
    case FlatKind::kTrue:
      out += "true";
      return;
    case FlatKind::kFalse:
      out += "false";
      return;
    case FlatKind::kNull:
      out += "null";
      return;
    case FlatKind::kArray:
      out += '[';
      for (std::size_t i = 0; i < v.count; ++i) {
        if (i > 0) out += ',';
        dump_value(o, o.elements[v.first + i], out);
      }
      out += ']';
      return;
  }
}

}  // namespace

bool scan_flat_object(std::string_view text, FlatObject& out) noexcept {
  out.size = 0;
  out.element_count = 0;
  Scanner s(text);
  if (!s.eat('{')) return false;
  if (!s.eat('}')) {
    do {
      if (out.size == FlatObject::kMaxMembers) return false;
      FlatMember& m = out.members[out.size];
      if (!s.string(m.name) || !s.eat(':')) return false;
      // Names have no escapes, so equal bytes are exactly the strict parser's duplicates.
      for (std::size_t i = 0; i < out.size; ++i)
        if (same_name(out.members[i].name, m.name)) return false;
      if (s.peek('[')) {
        s.eat('[');
        m.value = FlatValue{};
        m.value.kind = FlatKind::kArray;
        m.value.first = static_cast<std::uint16_t>(out.element_count);
        if (!s.eat(']')) {
          do {
            if (out.element_count == FlatObject::kMaxElements) return false;
            if (!s.scalar(out.elements[out.element_count])) return false;
            ++out.element_count;
          } while (s.eat(','));
          if (!s.eat(']')) return false;
        }
        m.value.count = static_cast<std::uint16_t>(out.element_count - m.value.first);
      } else if (!s.scalar(m.value)) {
        return false;
      }
      ++out.size;
    } while (s.eat(','));
    if (!s.eat('}')) return false;
  }
  return s.at_end();
}

std::string FlatObject::dump() const {
  std::array<const FlatMember*, kMaxMembers> order{};
  for (std::size_t i = 0; i < size; ++i) order[i] = &members[i];
  // nlohmann keeps members in a std::map<std::string, json>: byte order of the names.
  std::sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(size),
            [](const FlatMember* a, const FlatMember* b) { return a->name < b->name; });
  std::string out;
  std::size_t need = 2;
  for (std::size_t i = 0; i < size; ++i) need += members[i].name.size() + 4;
  out.reserve(need + 64);
  out += '{';
  for (std::size_t i = 0; i < size; ++i) {
    if (i > 0) out += ',';
    out += '"';
    out += order[i]->name;
    out += "\":";
    dump_value(*this, order[i]->value, out);
  }
  out += '}';
  return out;
}

}  // namespace authd::jose::detail
