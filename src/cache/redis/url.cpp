// parse_redis_url() and describe(): the one configuration string of the Redis connection.

#include <charconv>
#include <string>

#include "authd/cache/redis_client.h"

namespace authd::cache {
namespace {

constexpr int kRedisPort = 6379;
constexpr int kSentinelPort = 26379;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool percent_decode(std::string_view in, std::string* out) {
  out->clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

bool parse_int(std::string_view s, int min, int max, int* out) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < min || v > max) return false;
  *out = v;
  return true;
}

bool parse_host_port(std::string_view s, int default_port, RedisEndpoint* ep) {
  std::string_view host;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {  // [v6]:port
    const auto close = s.find(']');
    if (close == std::string_view::npos) return false;
    host = s.substr(1, close - 1);
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
    }
  } else {
    const auto colon = s.rfind(':');
    if (colon != std::string_view::npos) {
      host = s.substr(0, colon);
      port = s.substr(colon + 1);
      if (host.find(':') != std::string_view::npos) return false;  // bare IPv6: use brackets
    } else {
      host = s;
    }
  }
  if (host.empty()) return false;
  ep->host = std::string(host);
  ep->port = default_port;
  if (!port.empty() && !parse_int(port, 1, 65535, &ep->port)) return false;
  if (port.empty() && s.back() == ':') return false;
  return true;
}

std::string format_host(const RedisEndpoint& ep) {
  const bool v6 = ep.host.find(':') != std::string::npos;
  return (v6 ? "[" + ep.host + "]" : ep.host) + ":" + std::to_string(ep.port);
}

}  // namespace

CacheResult<RedisOptions> parse_redis_url(std::string_view url) {
  RedisOptions o;
  bool sentinel = false;
  std::string_view rest;
  for (std::string_view scheme : {"redis://", "redis-sentinel://", "redis+sentinel://"}) {
    if (url.substr(0, scheme.size()) == scheme) {
      rest = url.substr(scheme.size());
      sentinel = scheme != "redis://";
      break;
    }
  }
  if (rest.data() == nullptr) {
    return fail(Errc::kInvalidArgument,
                "redis url: scheme must be redis://, redis-sentinel:// or redis+sentinel://");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return fail(Errc::kInvalidArgument, "redis url: query strings are not supported");
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path =
      slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);

  // Never echo the user info in an error: it holds the password.
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const auto colon = userinfo.find(':');
    std::string_view user =
        colon == std::string_view::npos ? std::string_view{} : userinfo.substr(0, colon);
    std::string_view pass = colon == std::string_view::npos ? userinfo : userinfo.substr(colon + 1);
    if (!percent_decode(user, &o.username) || !percent_decode(pass, &o.password)) {
      return fail(Errc::kInvalidArgument, "redis url: bad percent-encoding in the user info");
    }
  }
  if (authority.empty()) return fail(Errc::kInvalidArgument, "redis url: no host");

  if (sentinel) {
    std::size_t start = 0;
    while (start <= authority.size()) {
      const auto comma = authority.find(',', start);
      std::string_view one = authority.substr(
          start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      RedisEndpoint ep;
      if (!parse_host_port(one, kSentinelPort, &ep)) {
        return fail(Errc::kInvalidArgument,
                    "redis url: bad sentinel address '" + std::string(one) + "'");
      }
      o.sentinels.push_back(std::move(ep));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    const auto next = path.find('/');
    std::string_view master = path.substr(0, next);
    if (master.empty() || !percent_decode(master, &o.master_name)) {
      return fail(Errc::kInvalidArgument, "redis url: sentinel mode needs /<master name>");
    }
    path = next == std::string_view::npos ? std::string_view{} : path.substr(next + 1);
  } else if (!parse_host_port(authority, kRedisPort, &o.endpoint)) {
    return fail(Errc::kInvalidArgument, "redis url: bad address '" + std::string(authority) + "'");
  }

  if (!path.empty() && !parse_int(path, 0, 1'000'000, &o.db)) {
    return fail(Errc::kInvalidArgument, "redis url: database must be a non-negative number");
  }
  return o;
}

std::string describe(const RedisOptions& o) {
  std::string s = o.sentinels.empty() ? "redis://" : "redis-sentinel://";
  if (!o.password.empty()) s += o.username + ":***@";
  if (o.sentinels.empty()) {
    s += format_host(o.endpoint);
  } else {
    for (std::size_t i = 0; i < o.sentinels.size(); ++i) {
      if (i > 0) s += ',';
      s += format_host(o.sentinels[i]);
    }
    s += "/" + o.master_name;
  }
  s += "/" + std::to_string(o.db);
  return s;
}

}  // namespace authd::cache
