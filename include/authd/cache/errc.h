#pragma once
// The cache module's error enum and error value. Redis failures are classified once, here,
// so that callers decide on a handful of cases and never on hiredis or Redis details.

#include <string>
#include <string_view>

#include "authd/core/result.h"

namespace authd::cache {

/// Every way a Redis call can fail.
enum class Errc {
  /// No usable connection: Redis down, connection lost mid-call, reconnecting, server
  /// LOADING/MASTERDOWN/READONLY, or too many calls in flight. Fall back; never retry in a loop.
  kUnavailable = 1,
  /// The call did not complete within its timeout. Treat like kUnavailable.
  kTimeout,
  /// Redis answered with an error reply (wrong type, bad argument, script error).
  kReplyError,
  /// EVALSHA found no script (normally handled inside RedisClient::eval()).
  kNoScript,
  /// The request was malformed before it reached Redis (bad URL, empty command).
  kInvalidArgument,
  /// A programming error, e.g. a blocking call from the Redis I/O thread itself.
  kInternal,
};

/// Stable snake_case name for logs and metrics, e.g. "unavailable". Never empty.
std::string_view to_string(Errc e) noexcept;

/// An error with a message safe to log: never contains passwords or payloads.
struct Error {
  Errc code = Errc::kInternal;
  std::string message;
};

/// True for the errors that mean "Redis cannot answer now": the caller should fall back.
inline bool is_unavailable(const Error& e) noexcept {
  return e.code == Errc::kUnavailable || e.code == Errc::kTimeout;
}

template <class T>
using CacheResult = Result<T, Error>;

inline Unexpected<Error> fail(Errc code, std::string message) {
  return {Error{code, std::move(message)}};
}

}  // namespace authd::cache
