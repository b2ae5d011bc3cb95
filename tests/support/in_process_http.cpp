#include "support/in_process_http.h"

#include <utility>

#include "authd/auth/client_secret.h"
#include "authd/crypto/init.h"
#include "authd/crypto/password.h"
#include "authd/crypto/secret.h"
#include "authd/http/jwks_route.h"
#include "authd/jose/alg.h"

namespace authd::testing {

void InlineExecutor::post(std::function<void()> task) {
  std::lock_guard lock(mu_);
  tasks_.push_back(std::move(task));
}

void InlineExecutor::run_all() {
  while (true) {
    std::function<void()> task;
    {
      std::lock_guard lock(mu_);
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.erase(tasks_.begin());
    }
    task();
  }
}

std::function<void(std::function<void()>)> InlineExecutor::poster() {
  return [this](std::function<void()> task) { post(std::move(task)); };
}

http::Response InProcessHttp::request(const std::string& method, const std::string& target,
                                      const std::string& body, const Headers& headers) {
  http::Request req;
  req.method = method;
  req.target = target;
  const auto q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) req.query = target.substr(q + 1);
  for (const auto& [name, value] : headers) req.headers.push_back(http::Header{name, value});
  req.body = body;
  req.peer_address = req.client_address = "127.0.0.1";
  http::RequestContext ctx{"in-process-" + std::to_string(++requests_), "unmatched",
                           std::chrono::steady_clock::now()};
  req.request_id = ctx.request_id;

  std::optional<http::Response> answer;
  auto match = router_.match(req.method, req.path);
  if (!match.route) {
    answer = http::unmatched_response(match);
  } else {
    ctx.route = match.route->pattern;
    req.path_params = std::move(match.params);
    if (match.route->dispatch != http::Dispatch::kAsync) {
      answer = match.route->handler(req, ctx);
    } else {
      auto captured = std::make_shared<std::optional<http::Response>>();
      http::Reply::Send send = [captured](http::Response r) { *captured = std::move(r); };
      http::Reply reply(
          send,
          [this, send](std::function<http::Response()> blocking) {
            executor_.post([send, blocking = std::move(blocking)] { send(blocking()); });
          },
          [this](std::function<void()> task) { executor_.post(std::move(task)); });
      match.route->async_handler(req, ctx, reply);
      executor_.run_all();
      answer = std::move(*captured);
    }
  }
  if (!answer) {
    http::Response none;
    none.status = 0;
    return none;
  }
  // Tests read `body` and `headers`: shared ones are copied there (add_transport_headers does
  // it for the headers), as the wire would carry them.
  if (answer->shared_body) answer->body = *std::exchange(answer->shared_body, nullptr);
  if (method == "HEAD") answer->clear_body();
  http::add_transport_headers(*answer, ctx.request_id);
  return std::move(*answer);
}

std::optional<store::Error> FaultyUserStore::failure() {
  std::lock_guard lock(mu_);
  return failure_;
}

store::StoreResult<void> FaultyUserStore::create(const auth::User& user) {
  return guarded([&] { return real_.create(user); });
}
store::StoreResult<std::optional<auth::User>> FaultyUserStore::find_by_email(
    const std::string& email) {
  return guarded([&] { return real_.find_by_email(email); });
}
store::StoreResult<std::optional<auth::User>> FaultyUserStore::find_by_id(const std::string& id) {
  return guarded([&] { return real_.find_by_id(id); });
}
store::StoreResult<void> FaultyUserStore::set_password_hash(const std::string& id,
                                                            const std::string& hash,
                                                            std::int64_t now) {
  return guarded([&] { return real_.set_password_hash(id, hash, now); });
}
store::StoreResult<void> FaultyUserStore::set_disabled(const std::string& id, bool disabled,
                                                       std::int64_t now) {
  return guarded([&] { return real_.set_disabled(id, disabled, now); });
}
store::StoreResult<void> FaultyUserStore::set_roles(const std::string& id,
                                                    const std::vector<std::string>& roles,
                                                    std::int64_t now) {
  return guarded([&] { return real_.set_roles(id, roles, now); });
}
store::StoreResult<std::int64_t> FaultyUserStore::bump_session_version(const std::string& id,
                                                                       std::int64_t now) {
  return guarded([&] { return real_.bump_session_version(id, now); });
}
store::StoreResult<std::vector<auth::User>> FaultyUserStore::list(std::size_t limit,
                                                                  std::size_t offset) {
  return guarded([&] { return real_.list(limit, offset); });
}

auth::Settings InProcessAuthd::fast_settings() {
  auth::Settings s;
  s.issuer = "https://auth.test";
  s.password = crypto::PasswordParams{1, 8 * 1024};  // tests need no hashing cost
  return s;
}

InProcessAuthd::InProcessAuthd(Options options) : settings_(std::move(options.settings)) {
  if (!crypto::init()) {
    error_ = "libsodium did not initialise";
    return;
  }
  if (!database_.ok()) {
    error_ = database_.error();
    return;
  }
  // One key chain (ID tokens signed by the access-token key): an RSA key per harness would
  // cost each test a key generation. The separate RS256 chain is tested in tests/unit/keys and
  // through the daemon's defaults (oidc_interop_openid_client).
  keys::Settings key_settings;
  key_settings.id_token_alg = key_settings.alg;
  options.routes.id_token_signing_alg = std::string(jose::to_string(key_settings.alg));
  ring_ = std::make_unique<keys::KeyRing>(db().keys(), crypto::Secret::random(32), clock_,
                                          key_settings);
  if (auto r = ring_->rotate(false); !r || !ring_->ready()) {
    error_ = "no signing key: " + (r ? std::string("not ready") : r.error().message);
    return;
  }
  ring_keys_ = std::make_unique<app::RingKeys>(*ring_);
  pepper_ = std::make_unique<crypto::KeyedHasher>(crypto::Secret::random(32));
  users_ = std::make_unique<FaultyUserStore>(db().users());
  auth::AuthService::Deps deps{*users_, db().sessions(), db().clients(), *ring_keys_,
                               clock_,  random_,         *pepper_};
  if (options.limits) deps.limiter = deps.refresh_limiter = &limiter_;
  deps.events = &events_;
  deps.offload = executor_.poster();
  deps.codes = &db().codes();
  service_ = std::make_unique<auth::AuthService>(deps, settings_);

  http::add_auth_routes(router_, *service_, std::move(options.routes));
  http::add_jwks_route(router_, [this] {
    auto doc = ring_->jwks();
    return std::make_shared<const http::JwksDocument>(
        http::JwksDocument{doc->body, doc->etag, doc->cache_control});
  });
  std::vector<http::ReadinessProbe> probes;
  if (options.readiness) {
    probes = std::move(*options.readiness);
  } else {
    probes.push_back([this] {
      return ring_->ready() ? std::nullopt : std::optional<std::string>("no_signing_key");
    });
    probes.push_back([this] {
      return db().ping() ? std::nullopt : std::optional<std::string>("store_unavailable");
    });
  }
  http::add_admin_routes(router_, metrics_, std::move(probes));
  http_ = std::make_unique<InProcessHttp>(router_, executor_);
  add_user(kDemoEmail, kDemoPassword);
}

InProcessAuthd::~InProcessAuthd() = default;

std::string InProcessAuthd::password_hash(const std::string& password) {
  auto hash = crypto::hash_password(password, settings_.password);
  if (!hash) error_ = "cannot hash a password";
  return hash ? *hash : std::string();
}

std::string InProcessAuthd::add_user(const std::string& email, const std::string& password) {
  auth::User u;
  u.id = make_uuid_v4(random_);
  u.email = email;
  u.password_hash = password_hash(password);
  u.roles = {"user"};
  u.created_at = u.updated_at = clock_.now_unix();
  if (auto r = db().users().create(u); !r) error_ = "cannot add user: " + r.error().message;
  return u.id;
}

void InProcessAuthd::add_client(auth::Client client, const std::string& secret, bool legacy_hash) {
  if (!secret.empty())
    client.secret_hash = legacy_hash
                             ? password_hash(secret)
                             : auth::ClientSecretCodec(*pepper_).store_hash(client.id, secret);
  client.created_at = clock_.now_unix();
  if (auto r = db().clients().upsert(client); !r)
    error_ = "cannot add client: " + r.error().message;
}

}  // namespace authd::testing
