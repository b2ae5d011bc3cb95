#pragma once
// Lists of strings stored as JSON arrays in TEXT columns (SQLite has no array type). Private to
// the SQLite backend.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace authd::store::sqlite {

/// ["a","b"]; nullopt if a string is not valid UTF-8 (Postgres would reject it as well).
std::optional<std::string> to_json_list(const std::vector<std::string>& values);
/// nullopt unless `json` is an array of strings.
std::optional<std::vector<std::string>> from_json_list(std::string_view json);

}  // namespace authd::store::sqlite
