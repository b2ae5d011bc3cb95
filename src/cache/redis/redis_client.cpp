// RedisClient: the façade. Impl owns the I/O thread and the parts (links.h, pipeline.h,
// sentinel.h, pubsub.h, callback_registry.h) and is the ClientCore they report to; the
// public member functions forward to them. Threading: see the contract at the top of
// include/authd/cache/redis_client.h.

#include "authd/cache/redis_client.h"

#include <openssl/evp.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "authd/core/hex.h"
#include "cache/redis/callback_registry.h"
#include "cache/redis/client_core.h"
#include "cache/redis/counters.h"
#include "cache/redis/host_lookup.h"
#include "cache/redis/link.h"
#include "cache/redis/pipeline.h"
#include "cache/redis/pubsub.h"
#include "cache/redis/sentinel.h"

namespace authd::cache {

namespace asio = boost::asio;
using detail::CallbackRegistry;
using detail::ClientCounters;
using detail::format_endpoint;
using detail::Link;
using detail::LinkKind;
using detail::Pipeline;
using Millis = std::chrono::milliseconds;
using Done = Pipeline::Done;

namespace {

CacheResult<RedisOptions> validate(RedisOptions o) {
  auto bad = [](std::string m) { return fail(Errc::kInvalidArgument, "redis options: " + m); };
  auto port_ok = [](const RedisEndpoint& ep) {
    return !ep.host.empty() && ep.port > 0 && ep.port <= 65535;
  };
  if (o.sentinels.empty()) {
    if (!port_ok(o.endpoint)) return bad("bad host or port");
  } else {
    if (o.master_name.empty()) return bad("sentinel mode needs a master name");
    for (const auto& s : o.sentinels) {
      if (!port_ok(s)) return bad("bad sentinel host or port");
    }
  }
  if (o.db < 0) return bad("db must be >= 0");
  if (o.command_timeout <= Millis(0) || o.connect_timeout <= Millis(0) ||
      o.health_interval <= Millis(0) || o.health_timeout <= Millis(0)) {
    return bad("timeouts must be positive");
  }
  if (o.backoff_initial <= Millis(0) || o.backoff_max < o.backoff_initial) {
    return bad("need 0 < backoff_initial <= backoff_max");
  }
  if (o.max_in_flight == 0) return bad("max_in_flight must be positive");
  return o;
}

std::shared_ptr<const std::vector<std::string>> evalsha_argv(const RedisScript& script,
                                                             std::vector<std::string> keys,
                                                             std::vector<std::string> args) {
  auto argv = std::make_shared<std::vector<std::string>>();
  argv->reserve(3 + keys.size() + args.size());
  argv->push_back("EVALSHA");
  argv->push_back(script.sha1().empty() ? std::string(40, '0') : script.sha1());
  argv->push_back(std::to_string(keys.size()));
  for (auto& k : keys) argv->push_back(std::move(k));
  for (auto& a : args) argv->push_back(std::move(a));
  return argv;
}

}  // namespace

RedisScript::RedisScript(std::string source) : source_(std::move(source)) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(source_.data(), source_.size(), md, &n, EVP_sha1(), nullptr) == 1) {
    sha1_ = hex::encode({reinterpret_cast<const char*>(md), n});
  }
  // On failure sha1_ stays empty: EVALSHA then answers NOSCRIPT and eval() sends EVAL.
}

class RedisClient::Impl final : public detail::ClientCore {
 public:
  explicit Impl(RedisOptions options)
      : options_(std::move(options)),
        work_(asio::make_work_guard(io_)),
        cmd_(*this, LinkKind::kCommand),
        sub_(*this, LinkKind::kSubscriber),
        watch_(*this, LinkKind::kSentinelWatch),
        pipeline_(*this, cmd_, available_, io_thread_id_, counters_) {}

  ~Impl() {
    if (thread_.joinable()) {
      asio::post(io_, [this] {
        cmd_.stop();
        sub_.stop();
        watch_.stop();
      });
      work_.reset();
      thread_.join();
    }
  }

  bool start(std::string* error) {
    try {
      thread_ = std::thread([this] { run(); });
    } catch (const std::exception& e) {
      *error = e.what();
      return false;
    }
    asio::post(io_, [this] {
      cmd_.start();
      if (detail::sentinel_mode(options_)) watch_.start();
    });
    return true;
  }

  // --- ClientCore (I/O thread unless said otherwise) -------------------------------------

  const RedisOptions& options() const noexcept override { return options_; }
  asio::io_context& io() noexcept override { return io_; }

  // Any thread.
  void post(std::function<void()> fn) override {
    try {
      asio::post(io_, std::move(fn));
    } catch (...) {
    }
  }

  void note_error(const std::string& e) override {
    std::lock_guard lock(info_mutex_);
    last_error_ = e;
  }

  void command_link_up() override {
    ClientCounters::bump(counters_.reconnects);
    {
      std::lock_guard lock(info_mutex_);
      endpoint_ = format_endpoint(cmd_.endpoint());
    }
    set_available(true);
    // Follow the master: a subscriber still on another server (the old master, demoted
    // but alive) is moved over.
    if (sub_.running() && sub_.up() && !sub_.on(cmd_.endpoint())) {
      sub_.restart("following the master to " + format_endpoint(cmd_.endpoint()));
    }
  }

  void command_link_down(const std::string& reason) override {
    ClientCounters::bump(counters_.disconnects);
    note_error(reason);
    {
      std::lock_guard lock(info_mutex_);
      endpoint_.clear();
    }
    set_available(false);
  }

  void subscriber_ready() override { resubscribed_->invoke(); }

  std::vector<std::string> channels() override { return subscriptions_->channels(); }

  void deliver(const std::string& channel, const std::string& message) override {
    ClientCounters::bump(counters_.messages);
    subscriptions_->deliver(channel, message);
  }

  // A link already up on the new master (it found the master itself, through a reconnect)
  // is left alone: restarting it would fail calls for nothing.
  void master_switched(const RedisEndpoint& master, const std::string& reason) override {
    if (master.port <= 0) {
      restart_links(reason, true);
      return;
    }
    ClientCounters::bump(counters_.master_switches);
    note_error(reason);
    const auto on_master = [&](const Link& l) { return l.up() && l.on(master); };
    if (!on_master(cmd_)) cmd_.restart(reason);
    if (sub_.running() && !on_master(sub_)) sub_.restart(reason);
  }

  void restart_links(const std::string& reason, bool master_switch) override {
    if (master_switch) ClientCounters::bump(counters_.master_switches);
    note_error(reason);
    cmd_.restart(reason);
    if (sub_.running()) sub_.restart(reason);
  }

  // --- the façade's helpers ---------------------------------------------------------------

  void ensure_subscriber(const std::string& channel) {
    if (!sub_.running()) {
      sub_.start();  // subscribes to every channel in the table, this one included
    } else {
      sub_.add_channel(channel);
    }
  }

  void command_link_failed(const std::string& reason) override {
    note_error(reason);
    set_available(false);  // news only for the first attempt: the state becomes known
  }

  void set_available(bool up) {
    {
      std::lock_guard lock(avail_mutex_);
      const bool was = available_.exchange(up, std::memory_order_acq_rel);
      if (state_known_ && was == up) return;
      state_known_ = true;
    }
    avail_cv_.notify_all();
    state_callbacks_->invoke_state(up);
  }

  void run() {
    io_thread_id_.store(std::this_thread::get_id());
    for (;;) {
      try {
        io_.run();
        return;
      } catch (...) {
        // A handler threw (allocation failure): keep the loop alive.
      }
    }
  }

  RedisOptions options_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::atomic<bool> available_{false};
  std::atomic<std::thread::id> io_thread_id_{};
  ClientCounters counters_;
  Link cmd_;
  Link sub_;
  Link watch_;
  Pipeline pipeline_;
  std::thread thread_;

  mutable std::mutex avail_mutex_;
  bool state_known_ = false;  // a connection came up or an attempt failed (avail_mutex_)
  mutable std::condition_variable avail_cv_;

  mutable std::mutex info_mutex_;
  std::string endpoint_;
  std::string last_error_;

  std::shared_ptr<CallbackRegistry<std::function<void(bool)>>> state_callbacks_ =
      std::make_shared<CallbackRegistry<std::function<void(bool)>>>();
  std::shared_ptr<CallbackRegistry<std::function<void()>>> resubscribed_ =
      std::make_shared<CallbackRegistry<std::function<void()>>>();
  std::shared_ptr<detail::SubscriptionTable> subscriptions_ =
      std::make_shared<detail::SubscriptionTable>();
};

// --- RedisClient ------------------------------------------------------------------------

CacheResult<std::unique_ptr<RedisClient>> RedisClient::create(RedisOptions options) {
  auto valid = validate(std::move(options));
  if (!valid) return Unexpected<Error>{valid.error()};
  std::unique_ptr<Impl> impl;
  try {
    impl = std::make_unique<Impl>(std::move(valid).value());
  } catch (const std::exception& e) {
    return fail(Errc::kInternal, std::string("redis client: ") + e.what());
  }
  std::string error;
  if (!impl->start(&error))
    return fail(Errc::kInternal, "redis client: cannot start thread: " + error);
  return std::unique_ptr<RedisClient>(new RedisClient(std::move(impl)));
}

RedisClient::RedisClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RedisClient::~RedisClient() = default;

CacheResult<Reply> RedisClient::command(std::vector<std::string> args,
                                        std::optional<std::chrono::milliseconds> timeout) {
  if (args.empty()) return fail(Errc::kInvalidArgument, "empty redis command");
  auto shared = std::make_shared<const std::vector<std::string>>(std::move(args));
  Pipeline* pipeline = &impl_->pipeline_;
  return pipeline->call(
      [pipeline, shared](Done done) { pipeline->send_command(*shared, std::move(done)); }, timeout);
}

CacheResult<Reply> RedisClient::eval(const RedisScript& script, std::vector<std::string> keys,
                                     std::vector<std::string> args,
                                     std::optional<std::chrono::milliseconds> timeout) {
  auto cargv = evalsha_argv(script, std::move(keys), std::move(args));
  auto source = std::make_shared<const std::string>(script.source());
  Pipeline* pipeline = &impl_->pipeline_;
  return pipeline->call(
      [pipeline, cargv, source](Done done) { pipeline->send_eval(cargv, source, std::move(done)); },
      timeout);
}

void RedisClient::eval_async(const RedisScript& script, std::vector<std::string> keys,
                             std::vector<std::string> args,
                             std::optional<std::chrono::milliseconds> timeout,
                             std::function<void(CacheResult<Reply>)> done) {
  auto cargv = evalsha_argv(script, std::move(keys), std::move(args));
  auto source = std::make_shared<const std::string>(script.source());
  Pipeline* pipeline = &impl_->pipeline_;
  pipeline->call_async(
      [pipeline, cargv, source](Done d) { pipeline->send_eval(cargv, source, std::move(d)); },
      timeout, std::move(done));
}

CacheResult<std::int64_t> RedisClient::publish(std::string_view channel, std::string_view message,
                                               std::optional<std::chrono::milliseconds> timeout) {
  auto r = command({"PUBLISH", std::string(channel), std::string(message)}, timeout);
  if (!r) return Unexpected<Error>{r.error()};
  if (r->type != Reply::Type::kInteger) return fail(Errc::kReplyError, "PUBLISH: unexpected reply");
  return r->integer;
}

void RedisClient::command_async(std::vector<std::string> args,
                                std::function<void(CacheResult<Reply>)> done) {
  if (!done) done = [](CacheResult<Reply>) {};
  if (args.empty()) {
    impl_->post([done] { done(fail(Errc::kInvalidArgument, "empty redis command")); });
    return;
  }
  Pipeline* pipeline = &impl_->pipeline_;
  impl_->post([pipeline, args = std::move(args), done = std::move(done)]() mutable {
    pipeline->send_command(args, std::move(done));
  });
}

bool RedisClient::available() const noexcept {
  return impl_->available_.load(std::memory_order_acquire);
}

bool RedisClient::wait_until_available(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->avail_mutex_);
  return impl_->avail_cv_.wait_for(lock, timeout, [this] { return available(); });
}

std::string RedisClient::endpoint() const {
  std::lock_guard lock(impl_->info_mutex_);
  return impl_->endpoint_;
}

std::string RedisClient::last_error() const {
  std::lock_guard lock(impl_->info_mutex_);
  return impl_->last_error_;
}

RedisClientStats RedisClient::stats() const { return impl_->counters_.snapshot(); }

CallbackHandle RedisClient::on_state_change(std::function<void(bool up)> callback) {
  Impl* impl = impl_.get();
  return impl->state_callbacks_->add_replaying(
      std::move(callback), [impl](std::function<void()> fn) { impl->post(std::move(fn)); });
}

CallbackHandle RedisClient::subscribe(std::string channel,
                                      std::function<void(const std::string&)> callback) {
  auto handle = impl_->subscriptions_->add(channel, std::move(callback));
  Impl* impl = impl_.get();
  impl->post([impl, channel = std::move(channel)] { impl->ensure_subscriber(channel); });
  return handle;
}

CallbackHandle RedisClient::on_resubscribed(std::function<void()> callback) {
  return impl_->resubscribed_->add(std::move(callback));
}

void RedisClient::reconnect() {
  Impl* impl = impl_.get();
  impl->post([impl] {
    impl->cmd_.restart("reconnect requested");
    if (impl->sub_.running()) impl->sub_.restart("reconnect requested");
  });
}

const RedisOptions& RedisClient::options() const noexcept { return impl_->options_; }

}  // namespace authd::cache
