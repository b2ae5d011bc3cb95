#pragma once
// Small helpers shared by the storage backends. Private to src/store.

#include <string>
#include <string_view>

#include "authd/store/errc.h"

namespace authd::store {

/// True for the canonical 8-4-4-4-12 hexadecimal UUID text form (either case). Ids are UUIDs in
/// the schema; a malformed id can never match a row, so lookups treat it as "not found" and the
/// backends agree with each other (Postgres would otherwise reject it with a type error).
bool is_uuid(std::string_view s);

/// ASCII lower-casing. Emails are stored normalised; the caller normalises fully (Unicode
/// included) and this makes the stored form deterministic even if it forgot the ASCII part.
std::string ascii_lower(std::string_view s);

/// The message check_schema() returns for a database at `found` when this build needs
/// `expected`, or "" when they match.
std::string schema_mismatch_message(int found, int expected);

}  // namespace authd::store
