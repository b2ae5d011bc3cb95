#include "authd/core/strict_json.h"

#include <string>
#include <utility>
#include <vector>

namespace authd {
namespace {

using Json = nlohmann::json;

// Builds the DOM from SAX events so that it can stop at the first duplicate member name.
// nlohmann's own DOM builder cannot: its parser callback sees keys but cannot abort.
class StrictDomBuilder {
 public:
  StrictDomBuilder(Json& root, std::size_t max_depth) : root_(root), max_depth_(max_depth) {}

  bool null() { return put(Json(nullptr)); }
  bool boolean(bool v) { return put(Json(v)); }
  bool number_integer(Json::number_integer_t v) { return put(Json(v)); }
  bool number_unsigned(Json::number_unsigned_t v) { return put(Json(v)); }
  bool number_float(Json::number_float_t v, const Json::string_t& /*text*/) { return put(Json(v)); }
  bool string(Json::string_t& v) { return put(Json(std::move(v))); }
  bool binary(Json::binary_t& /*v*/) { return false; }  // JSON text has no binary values

  bool start_object(std::size_t /*elements*/) { return open(Json::object()); }
  bool key(Json::string_t& k) {
    // One map operation both detects the duplicate and reserves the member's slot.
    auto [it, inserted] = stack_.back()->emplace(std::move(k), nullptr);
    if (!inserted) {
      error_ = StrictJsonError::kDuplicateMember;
      return false;
    }
    slot_ = &it.value();
    return true;
  }
  bool end_object() {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t /*elements*/) { return open(Json::array()); }
  bool end_array() {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& /*ex*/) {
    return false;  // error_ is still kSyntax
  }

  StrictJsonError error() const { return error_; }

 private:
  // Stores a value in the innermost open container (or as the root) and returns it.
  Json* insert(Json&& v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Json& parent = *stack_.back();
    if (parent.is_object()) {
      *slot_ = std::move(v);  // std::map nodes never move, so slot_ is still valid
      return slot_;
    }
    parent.push_back(std::move(v));
    return &parent.back();
  }
  bool put(Json&& v) {
    insert(std::move(v));
    return true;
  }
  bool open(Json&& container) {
    if (stack_.size() >= max_depth_) {
      error_ = StrictJsonError::kTooDeep;
      return false;
    }
    // Only ancestors of the insertion point are on the stack, so a push_back that moves
    // the elements of an array never invalidates a pointer held here.
    stack_.push_back(insert(std::move(container)));
    return true;
  }

  Json& root_;
  const std::size_t max_depth_;
  StrictJsonError error_ = StrictJsonError::kSyntax;
  std::vector<Json*> stack_;
  Json* slot_ = nullptr;  // member reserved by the last key() event
};

}  // namespace

Result<Json, StrictJsonError> parse_strict_json(std::string_view text, std::size_t max_depth) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") return unexpected(StrictJsonError::kSyntax);
  Json root;
  StrictDomBuilder builder(root, max_depth);
  try {
    if (!Json::sax_parse(text.begin(), text.end(), &builder)) return unexpected(builder.error());
  } catch (const std::exception&) {
    // nlohmann reports syntax errors through parse_error(); only allocation failure is left.
    return unexpected(StrictJsonError::kNoMemory);
  }
  return root;
}

}  // namespace authd
