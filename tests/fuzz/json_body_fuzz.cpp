// JSON request bodies (and JOSE headers and claims) through authd's strict parser. Besides not
// crashing, a document it accepts must read the same to nlohmann::json, which other code uses
// on the same text, and must survive a round trip: parsers that disagree on a document are how
// a check passes on one reading and acts on another.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "authd/core/strict_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto strict = authd::parse_strict_json(text);
  if (!strict) return 0;
  auto lax = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (lax.is_discarded() || lax != *strict) std::abort();
  auto again = authd::parse_strict_json(strict->dump());
  if (!again || *again != *strict) std::abort();
  // What json_body() and json_string() do with an object body.
  if (strict->is_object())
    for (const auto& [name, value] : strict->items())
      if (value.is_string()) (void)value.get_ref<const std::string&>();
  return 0;
}
