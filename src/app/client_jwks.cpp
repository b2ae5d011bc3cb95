#include "app/client_jwks.h"

#include <cctype>

namespace authd::app {

ClientJwks::ClientJwks(ClientJwksOptions options) : options_(std::move(options)) {
  if (!options_.fetcher) {
    verify::FetcherOptions f;
    f.timeout = options_.timeout;
    f.allow_loopback_http = options_.allow_loopback_http;
    f.max_body_bytes = options_.max_body_bytes;
    // Made at the first fetch: loading the trust store is not start-up work (most set-ups
    // have no jwks_uri client, and start-up holds back the reactions to Redis' state).
    auto once = std::make_shared<std::once_flag>();
    auto fetcher = std::make_shared<verify::Fetcher>();
    options_.fetcher = [f, once, fetcher](const std::string& url, const verify::Headers& h) {
      std::call_once(*once, [&] { *fetcher = verify::https_fetcher(f); });
      return (*fetcher)(url, h);
    };
  }
}

std::shared_ptr<verify::JwksCache> ClientJwks::cache_for(const auth::Client& client) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(client.id);
  if (it != entries_.end() && it->second.jwks_uri == client.jwks_uri) {
    it->second.last_used = ++uses_;
    return it->second.cache;
  }
  if (it == entries_.end() && entries_.size() >= options_.max_clients) {
    auto oldest = entries_.begin();
    for (auto e = entries_.begin(); e != entries_.end(); ++e)
      if (e->second.last_used < oldest->second.last_used) oldest = e;
    entries_.erase(oldest);
  }
  verify::CacheOptions o;
  o.jwks_uri = client.jwks_uri;
  o.fetcher = options_.fetcher;
  o.unknown_kid_cooldown = options_.unknown_kid_cooldown;
  o.max_stale = options_.max_stale;
  o.clock = options_.clock;
  if (options_.on_event)
    o.on_event = [report = options_.on_event, id = client.id](const verify::CacheEventInfo& e) {
      report(id, e);
    };
  auto cache = std::make_shared<verify::JwksCache>(std::move(o));
  // A changed URI replaces the entry: keys from the old location are never used again.
  entries_[client.id] = Entry{client.jwks_uri, cache, ++uses_};
  return cache;
}

std::optional<std::string> ClientJwks::verify(const auth::Client& client,
                                              std::string_view assertion,
                                              const std::vector<std::string>& audiences) {
  if (client.jwks_uri.empty()) return std::nullopt;
  verify::Options o;
  o.issuer = client.id;
  o.audiences = audiences;
  o.typ = "";  // RFC 7523 assertions carry "JWT" or nothing
  o.leeway = options_.leeway;
  o.clock = options_.clock;
  const verify::Verifier verifier(std::move(o), cache_for(client));
  auto r = verifier.verify(assertion);
  if (!r) return std::nullopt;
  return r->json;
}

void ClientJwks::forget(const std::string& client_id) {
  std::lock_guard lock(mu_);
  if (client_id.empty())
    entries_.clear();
  else
    entries_.erase(client_id);
}

std::shared_ptr<verify::JwksCache> ClientJwks::cache_of(const std::string& client_id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(client_id);
  return it == entries_.end() ? nullptr : it->second.cache;
}

std::size_t ClientJwks::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

bool jwks_uri_registrable(std::string_view uri) {
  if (uri.size() > 2048) return false;
  for (char c : uri)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '#') return false;
  std::string_view rest;
  bool tls = true;
  if (uri.substr(0, 8) == "https://") {
    rest = uri.substr(8);
  } else if (uri.substr(0, 7) == "http://") {
    rest = uri.substr(7);
    tls = false;
  } else {
    return false;
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  // No userinfo: credentials in a URL end up in logs.
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  std::string_view host = authority;
  if (host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    host = host.substr(1, close - 1);
  } else {
    host = host.substr(0, host.rfind(':'));
  }
  if (host.empty()) return false;
  if (tls) return true;
  return host == "localhost" || host == "::1" || host.substr(0, 4) == "127.";
}

}  // namespace authd::app
