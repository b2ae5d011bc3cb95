#pragma once
// A fast reader for the JSON objects tokens usually carry, for the verification hot path.
// Internal to src/jose (and the verifier built on it).
//
// scan_flat_object() accepts only a subset of JSON it can judge exactly: one object whose
// member names and string values are printable ASCII without escapes, whose values are
// strings, integers of at most 18 digits, true, false, null, or arrays of those, with no
// duplicate member name. Every such text is one the strict parser (parse_strict_json) accepts
// with the same meaning; anything else, valid or not, makes it return false, and the caller
// then uses the strict parser, which decides (and reports) exactly as before. So the subset
// changes speed, never a verdict.

#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace authd::jose::detail {

enum class FlatKind : std::uint8_t { kString, kInteger, kTrue, kFalse, kNull, kArray };

/// A std::string_view whose default constructor is trivial: std::string_view's stores zeros,
/// and a FlatObject's arrays hold ~130 of them, which cost more to clear than to scan.
struct FlatText {
  const char* ptr;
  std::size_t len;

  FlatText() = default;
  FlatText(std::string_view s) noexcept : ptr(s.data()), len(s.size()) {}  // NOLINT: implicit
  operator std::string_view() const noexcept { return {ptr, len}; }        // NOLINT: implicit
  std::size_t size() const noexcept { return len; }
};

// No default member initialisers: a FlatObject holds ~100 of these per scan, and the scanner
// sets every field of each value it fills in.
struct FlatValue {
  FlatKind kind;
  FlatText text;         // string contents (no quotes) or the integer's digits
  std::int64_t integer;  // kInteger
  std::uint16_t first;   // kArray: index of the first element in FlatObject::elements
  std::uint16_t count;   // kArray: number of elements
};

/// Equal names; cheaper than string_view's == for the short names of claims (most differ
/// in length or first byte).
inline bool same_name(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && (a.empty() || (a[0] == b[0] && a == b));
}

struct FlatMember {
  FlatText name;
  FlatValue value;
};

/// A scanned object; its views point into the scanned text, which must outlive it.
struct FlatObject {
  static constexpr std::size_t kMaxMembers = 32;
  static constexpr std::size_t kMaxElements = 64;
  std::array<FlatMember, kMaxMembers> members;
  std::array<FlatValue, kMaxElements> elements;
  std::size_t size = 0;
  std::size_t element_count = 0;

  const FlatValue* find(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < size; ++i)
      if (same_name(members[i].name, name)) return &members[i].value;
    return nullptr;
  }
  /// The object as nlohmann's dump() writes the same JSON: compact, members sorted by name.
  std::string dump() const;
};

/// True (and `out` filled) when `text` is an object in the subset above; see the file comment.
bool scan_flat_object(std::string_view text, FlatObject& out) noexcept;

// One vocabulary over both representations, so that the policy checks are written once and
// run identically on either (see jws.cpp and the verifier).
inline const nlohmann::json* member(const nlohmann::json& o, const char* name) {
  const auto it = o.find(name);
  return it == o.end() ? nullptr : &*it;
}
inline bool is_string(const nlohmann::json& v) { return v.is_string(); }
inline std::string_view string_of(const nlohmann::json& v) {
  return v.get_ref<const std::string&>();
}
inline bool is_boolean(const nlohmann::json& v) { return v.is_boolean(); }
inline bool boolean_of(const nlohmann::json& v) { return v.get<bool>(); }
inline bool is_number(const nlohmann::json& v) { return v.is_number(); }
inline double number_of(const nlohmann::json& v) { return v.get<double>(); }
inline bool is_array(const nlohmann::json& v) { return v.is_array(); }
template <class F>
bool each_element(const nlohmann::json& /*doc*/, const nlohmann::json& v, F&& f) {
  for (const auto& e : v)
    if (!f(e)) return false;
  return true;
}

// A string_view, not const char*: with the literal names of the checks, no strlen per call.
inline const FlatValue* member(const FlatObject& o, std::string_view name) { return o.find(name); }
inline bool is_string(const FlatValue& v) { return v.kind == FlatKind::kString; }
inline std::string_view string_of(const FlatValue& v) { return v.text; }
inline bool is_boolean(const FlatValue& v) {
  return v.kind == FlatKind::kTrue || v.kind == FlatKind::kFalse;
}
inline bool boolean_of(const FlatValue& v) { return v.kind == FlatKind::kTrue; }
inline bool is_number(const FlatValue& v) { return v.kind == FlatKind::kInteger; }
// As nlohmann's get<double>() on an integer: a plain conversion.
inline double number_of(const FlatValue& v) { return static_cast<double>(v.integer); }
inline bool is_array(const FlatValue& v) { return v.kind == FlatKind::kArray; }
template <class F>
bool each_element(const FlatObject& doc, const FlatValue& v, F&& f) {
  for (std::size_t i = v.first; i < static_cast<std::size_t>(v.first) + v.count; ++i)
    if (!f(doc.elements[i])) return false;
  return true;
}

}  // namespace authd::jose::detail
