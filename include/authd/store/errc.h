#pragma once
// Storage errors, classified once by each backend (Postgres SQLSTATE, SQLite result codes)
// so that callers decide on a handful of cases, never on driver details.

#include <string>
#include <string_view>

#include "authd/core/result.h"

namespace authd::store {

enum class Errc {
  kNotFound,     ///< the row addressed does not exist
  kConflict,     ///< a uniqueness or concurrency conflict (SQLSTATE 23505, 40001, 40P01)
  kUnavailable,  ///< backend unreachable or read-only (classes 08, 53, 57, 25006); retry later
  kSchema,       ///< the database schema is missing, older or newer than this build knows
  kInternal,     ///< anything else; a bug or a corrupt row
};

std::string_view to_string(Errc e);

/// An error with a message safe to log: never contains secrets, tokens or hashes.
struct Error {
  Errc code = Errc::kInternal;
  std::string message;
};

template <class T>
using StoreResult = Result<T, Error>;

inline Unexpected<Error> fail(Errc code, std::string message) {
  return {Error{code, std::move(message)}};
}

}  // namespace authd::store
