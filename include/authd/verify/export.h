#pragma once
// Symbol visibility of the authd::verify API. The shared library also exports only
// authd::verify::* through its linker version script, so authd's internal symbols (jose,
// nlohmann/json instantiations) never interpose on a service's own.

#if defined(__GNUC__)
#define AUTHD_VERIFY_API __attribute__((visibility("default")))
#else
#define AUTHD_VERIFY_API
#endif
