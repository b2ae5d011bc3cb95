#include "store/sqlite/json_list.h"

#include <nlohmann/json.hpp>

namespace authd::store::sqlite {

std::optional<std::string> to_json_list(const std::vector<std::string>& values) {
  try {
    return nlohmann::json(values).dump();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // dump() throws type_error 316 on invalid UTF-8
  }
}

std::optional<std::vector<std::string>> from_json_list(std::string_view json) {
  const auto parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array()) return std::nullopt;  // also covers a discarded (invalid) document
  std::vector<std::string> out;
  out.reserve(parsed.size());
  for (const auto& element : parsed) {
    if (!element.is_string()) return std::nullopt;
    out.push_back(element.get_ref<const std::string&>());
  }
  return out;
}

}  // namespace authd::store::sqlite
