#include "jose/flat_json.h"

#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
  bool string(FlatText& out) noexcept {
    if (!eat('"')) return false;
    const char* start = p_;
#if defined(__SSE2__)
    // Sixteen bytes at a time while all are plain (most of a token's bytes are in strings).
    const __m128i space = _mm_set1_epi8(0x1F), del = _mm_set1_epi8(0x7F);
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    while (end_ - p_ >= 16) {
      const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
      // Signed compares: bytes >= 0x80 are negative, so not above 0x1F.
      const __m128i plain = _mm_and_si128(_mm_cmpgt_epi8(c, space), _mm_cmplt_epi8(c, del));
      const __m128i special = _mm_or_si128(_mm_cmpeq_epi8(c, quote), _mm_cmpeq_epi8(c, backslash));
      const int bad = _mm_movemask_epi8(_mm_andnot_si128(special, plain)) ^ 0xFFFF;
      if (bad != 0) {
        p_ += __builtin_ctz(static_cast<unsigned>(bad));
        break;
      }
      p_ += 16;
    }
#endif
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

// Bytes dump_value() writes for `v`.
std::size_t dumped_size(const FlatObject& o, const FlatValue& v) {
  switch (v.kind) {
    case FlatKind::kString:
      return v.text.size() + 2;
    case FlatKind::kInteger:
      return v.text.size();
    case FlatKind::kTrue:
    case FlatKind::kNull:
      return 4;
    case FlatKind::kFalse:
      return 5;
    case FlatKind::kArray: {
      std::size_t n = v.count == 0 ? 2 : 1 + v.count;  // brackets and commas
      for (std::size_t i = 0; i < v.count; ++i) n += dumped_size(o, o.elements[v.first + i]);
      return n;
    }
  }
  return 0;
}

char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// Writes `v` at `p` (dumped_size() bytes) and returns the end. A pre-sized buffer written
// with memcpy: appending piece by piece cost more than the scan (this runs per token).
char* dump_value(const FlatObject& o, const FlatValue& v, char* p) {
  switch (v.kind) {
    case FlatKind::kString:
      *p++ = '"';
      p = put(p, v.text);
      *p++ = '"';
      return p;
    case FlatKind::kInteger:
      return put(p, v.text);
    case FlatKind::kTrue:
      return put(p, "true");
    case FlatKind::kFalse:
      return put(p, "false");
    case FlatKind::kNull:
      return put(p, "null");
    case FlatKind::kArray:
      *p++ = '[';
      for (std::size_t i = 0; i < v.count; ++i) {
        if (i > 0) *p++ = ',';
        p = dump_value(o, o.elements[v.first + i], p);
      }
      *p++ = ']';
      return p;
  }
  return p;
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
  // nlohmann keeps members in a std::map<std::string, json>: byte order of the names. An
  // insertion sort that compares first bytes before calling memcmp: claims have ~10 members,
  // most names differ in their first byte.
  std::array<const FlatMember*, kMaxMembers> order;
  const auto less = [](std::string_view a, std::string_view b) {
    if (!a.empty() && !b.empty() && a[0] != b[0])
      return static_cast<unsigned char>(a[0]) < static_cast<unsigned char>(b[0]);
    return a < b;
  };
  for (std::size_t i = 0; i < size; ++i) {
    std::size_t j = i;
    for (; j > 0 && less(members[i].name, order[j - 1]->name); --j) order[j] = order[j - 1];
    order[j] = &members[i];
  }
  std::size_t need = size == 0 ? 2 : 1 + size;  // braces and commas
  for (std::size_t i = 0; i < size; ++i)
    need += members[i].name.size() + 3 + dumped_size(*this, members[i].value);
  std::string out(need, '\0');
  char* p = out.data();
  *p++ = '{';
  for (std::size_t i = 0; i < size; ++i) {
    if (i > 0) *p++ = ',';
    *p++ = '"';
    p = put(p, order[i]->name);
    *p++ = '"';
    *p++ = ':';
    p = dump_value(*this, order[i]->value, p);
  }
  *p = '}';
  return out;
}

}  // namespace authd::jose::detail
