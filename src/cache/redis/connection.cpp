#include "cache/redis/connection.h"

#include <hiredis/async.h>

#include <boost/asio/post.hpp>

namespace authd::cache::detail {

namespace asio = boost::asio;

namespace {

// Exceptions must not unwind through hiredis' C frames.
template <class F>
void guarded(F&& f) noexcept {
  try {
    f();
  } catch (...) {
  }
}

}  // namespace

Connection::Connection(asio::io_context& io) : io_(io), connect_timer_(io) {}

Connection::~Connection() { close(); }

bool Connection::open(const std::string& host, int port, std::chrono::milliseconds timeout,
                      Handlers handlers, std::string* error) {
  close();
  connected_ = false;
  redisAsyncContext* ac = redisAsyncConnect(host.c_str(), port);
  if (ac == nullptr) {
    *error = "out of memory";
    return false;
  }
  if (ac->err) {
    *error = ac->errstr != nullptr ? ac->errstr : "connect failed";
    redisAsyncFree(ac);  // nothing attached yet: safe to free here
    return false;
  }
  adapter_ = AsioHiredis::attach(io_, ac);
  if (!adapter_) {
    *error = "cannot register the socket with the event loop";
    redisAsyncFree(ac);
    return false;
  }
  handlers_ = std::make_shared<Handlers>(std::move(handlers));
  ac->data = this;
  redisAsyncSetConnectCallback(ac, &Connection::on_connect_cb);
  redisAsyncSetDisconnectCallback(ac, &Connection::on_disconnect_cb);

  connect_timer_.expires_after(timeout);
  // The handler may already be queued when the timer is cancelled or destroyed, so `this` is
  // checked through a weak reference rather than trusted on a success code.
  const auto seq = ++open_seq_;
  connect_timer_.async_wait(
      [this, seq, life = std::weak_ptr<int>(life_)](const boost::system::error_code& ec) {
        if (ec || life.expired() || seq != open_seq_ || connected_) return;
        auto handlers = handlers_;
        close();
        if (handlers && handlers->on_connected) handlers->on_connected(false, "connect timeout");
      });
  return true;
}

void Connection::on_connect_cb(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<Connection*>(ac->data);
  if (self == nullptr) return;
  self->connect_timer_.cancel();
  auto handlers = self->handlers_;
  if (status != REDIS_OK) {
    // hiredis frees the context as soon as we return; the adapter already knows or will.
    std::string reason = ac->errstr != nullptr ? ac->errstr : "connect failed";
    const_cast<redisAsyncContext*>(ac)->data = nullptr;
    self->adapter_.reset();
    self->handlers_.reset();
    guarded([&] {
      if (handlers->on_connected) handlers->on_connected(false, reason);
    });
    return;  // `self` may be destroyed by the handler
  }
  self->connected_ = true;
  guarded([&] {
    if (handlers->on_connected) handlers->on_connected(true, {});
  });
}

void Connection::on_disconnect_cb(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<Connection*>(ac->data);
  if (self == nullptr) return;
  // Every pending command callback has already run with nullptr; hiredis frees the
  // context when we return.
  std::string reason = status == REDIS_OK      ? "connection closed"
                       : ac->errstr != nullptr ? ac->errstr
                                               : "connection lost";
  if (reason.empty()) reason = "connection lost";
  const_cast<redisAsyncContext*>(ac)->data = nullptr;
  auto handlers = self->handlers_;
  self->adapter_.reset();
  self->handlers_.reset();
  self->connected_ = false;
  guarded([&] {
    if (handlers && handlers->on_lost) handlers->on_lost(reason);
  });
}

void Connection::on_reply_cb(redisAsyncContext*, void* reply, void* privdata) {
  std::unique_ptr<ReplyFn> fn(static_cast<ReplyFn*>(privdata));
  guarded([&] { (*fn)(static_cast<redisReply*>(reply)); });
}

void Connection::on_push_cb(redisAsyncContext* ac, void* reply, void*) {
  auto* self = static_cast<Connection*>(ac->data);
  if (self == nullptr || reply == nullptr) return;
  auto handlers = self->handlers_;
  if (handlers && handlers->on_push) {
    guarded([&] { handlers->on_push(static_cast<redisReply*>(reply)); });
  }
}

void Connection::send(const std::vector<std::string>& args, ReplyFn fn) {
  redisAsyncContext* ac = context();
  if (ac == nullptr || !connected_ || args.empty()) {
    guarded([&] { fn(nullptr); });
    return;
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto holder = std::make_unique<ReplyFn>(std::move(fn));
  if (redisAsyncCommandArgv(ac, &Connection::on_reply_cb, holder.get(),
                            static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK) {
    guarded([&] { (*holder)(nullptr); });
    return;
  }
  holder.release();  // owned by hiredis until on_reply_cb
}

bool Connection::subscribe(const std::vector<std::string>& channels) {
  redisAsyncContext* ac = context();
  if (ac == nullptr || !connected_ || channels.empty()) return false;
  std::vector<const char*> argv{"SUBSCRIBE"};
  std::vector<std::size_t> lens{9};
  for (const auto& c : channels) {
    argv.push_back(c.data());
    lens.push_back(c.size());
  }
  return redisAsyncCommandArgv(ac, &Connection::on_push_cb, nullptr, static_cast<int>(argv.size()),
                               argv.data(), lens.data()) == REDIS_OK;
}

void Connection::close() {
  connect_timer_.cancel();
  connected_ = false;
  handlers_.reset();
  if (!adapter_) return;
  auto adapter = std::move(adapter_);
  adapter_.reset();
  if (redisAsyncContext* ac = adapter->context()) {
    ac->data = nullptr;
    // Deferred: we may be inside a hiredis callback (freeing there is unsafe in 0.14), and
    // hiredis may free the context by itself before the post runs (then context() is null).
    asio::post(io_, [adapter] {
      if (redisAsyncContext* c = adapter->context()) redisAsyncFree(c);
    });
  }
}

}  // namespace authd::cache::detail
