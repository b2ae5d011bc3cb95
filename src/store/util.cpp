#include "store/util.h"

#include <cctype>

namespace authd::store {

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string schema_mismatch_message(int found, int expected) {
  if (found == expected) return "";
  if (found < expected) {
    if (found == 0) {
      return "the database has no authd schema (this build needs version " +
             std::to_string(expected) + "): run `authd migrate`";
    }
    return "the database schema is at version " + std::to_string(found) +
           " but this build needs version " + std::to_string(expected) + ": run `authd migrate`";
  }
  return "the database schema is at version " + std::to_string(found) +
         ", newer than this build knows (this build knows version " + std::to_string(expected) +
         "): upgrade authd, or roll the schema back with the down migrations";
}

}  // namespace authd::store
