#include "authd/cache/redis_used_assertions.h"

namespace authd::cache {

std::optional<bool> RedisUsedAssertions::first_use(const std::string& key, std::int64_t until) {
  auto r = client_.command({"SET", prefix_ + key, "1", "NX", "PXAT", std::to_string(until * 1000)});
  if (!r) return std::nullopt;
  if (r->type == Reply::Type::kStatus && r->str == "OK") return true;
  if (r->is_nil()) return false;
  return std::nullopt;
}

}  // namespace authd::cache
