#include "cache/redis/reply.h"

#include <string>

namespace authd::cache::detail {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string_view reply_str(const redisReply* r) {
  return r != nullptr && r->str != nullptr ? std::string_view(r->str, r->len) : std::string_view{};
}

Reply to_reply(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(to_reply(r->element[i]));
      break;
    default:
      out.type = Reply::Type::kNil;
      break;
  }
  return out;
}

ClassifiedError classify_error(std::string_view message) {
  ClassifiedError c;
  c.error.message = std::string(message.substr(0, 200));
  if (starts_with(message, "NOSCRIPT")) {
    c.error.code = Errc::kNoScript;
  } else if (starts_with(message, "READONLY")) {
    c.error.code = Errc::kUnavailable;
    c.readonly = true;
  } else if (starts_with(message, "LOADING") || starts_with(message, "MASTERDOWN") ||
             starts_with(message, "NOAUTH") || starts_with(message, "BUSY") ||
             starts_with(message, "TRYAGAIN") || starts_with(message, "CLUSTERDOWN")) {
    c.error.code = Errc::kUnavailable;
  } else {
    c.error.code = Errc::kReplyError;
  }
  return c;
}

}  // namespace authd::cache::detail
