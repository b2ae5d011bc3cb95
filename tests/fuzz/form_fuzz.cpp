// application/x-www-form-urlencoded bodies (the token endpoint's) and HTTP Basic client
// credentials, on untrusted bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "authd/http/form.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto form = authd::http::parse_form(text)) {
    for (const auto& [name, value] : *form)
      if (name.empty()) std::abort();  // an empty name is refused, never kept
  }
  if (auto decoded = authd::http::form_decode(text)) {
    // Decoding never lengthens: "%41" is one byte, '+' one space.
    if (decoded->size() > text.size()) std::abort();
  }
  (void)authd::http::parse_basic_auth(text);
  (void)authd::http::parse_basic_auth("Basic " + std::string(text));
  return 0;
}
