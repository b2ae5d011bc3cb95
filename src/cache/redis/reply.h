#pragma once
// hiredis replies as the rest of the client sees them: Reply values, and error replies
// classified once into an Errc.

#include <hiredis/hiredis.h>

#include <string_view>

#include "authd/cache/redis_client.h"

namespace authd::cache::detail {

bool starts_with(std::string_view s, std::string_view prefix);

/// The string of a string, status or error reply ("" for other types and nullptr).
std::string_view reply_str(const redisReply* r);

/// A non-error reply as a Reply (error replies go through classify_error).
Reply to_reply(const redisReply* r);

struct ClassifiedError {
  Error error;
  bool readonly = false;  ///< the server is a replica now: re-resolve the master
};

/// The first word of a Redis error is its code.
ClassifiedError classify_error(std::string_view message);

}  // namespace authd::cache::detail
