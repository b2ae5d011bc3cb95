// RedisClient: the I/O thread, its links (command, subscriber, sentinel watch) and the
// blocking calls that worker threads make into it.
//
// Threading: everything named Link, Connection or AsioHiredis runs on the I/O thread only.
// Worker threads touch only atomics, the callback registries (mutexes) and asio::post.

#include "authd/cache/redis_client.h"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "cache/redis/connection.h"

namespace authd::cache {

namespace asio = boost::asio;
using detail::Connection;
using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;
using Done = std::function<void(CacheResult<Reply>)>;

namespace {

// A connection that stayed up this long is "stable": losing it retries at once and restarts
// the backoff. A shorter-lived one keeps backing off, so a server that accepts and then
// drops us is not hammered.
constexpr auto kStableAfter = std::chrono::seconds(1);
constexpr std::string_view kSwitchMasterChannel = "+switch-master";

template <class F>
void guarded(F&& f) noexcept {
  try {
    f();
  } catch (...) {
  }
}

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

// Error replies are classified once, here. The first word of a Redis error is its code.
struct Classified {
  Error error;
  bool readonly = false;  // the server is a replica now: re-resolve the master
};

Classified classify_error(std::string_view msg) {
  Classified c;
  c.error.message = std::string(msg.substr(0, 200));
  if (starts_with(msg, "NOSCRIPT")) {
    c.error.code = Errc::kNoScript;
  } else if (starts_with(msg, "READONLY")) {
    c.error.code = Errc::kUnavailable;
    c.readonly = true;
  } else if (starts_with(msg, "LOADING") || starts_with(msg, "MASTERDOWN") ||
             starts_with(msg, "NOAUTH") || starts_with(msg, "BUSY") ||
             starts_with(msg, "TRYAGAIN") || starts_with(msg, "CLUSTERDOWN")) {
    c.error.code = Errc::kUnavailable;
  } else {
    c.error.code = Errc::kReplyError;
  }
  return c;
}

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    s.push_back(kDigits[p[i] >> 4]);
    s.push_back(kDigits[p[i] & 0xf]);
  }
  return s;
}

std::string format_endpoint(const RedisEndpoint& ep) {
  return (ep.host.find(':') != std::string::npos ? "[" + ep.host + "]" : ep.host) + ":" +
         std::to_string(ep.port);
}

/// Callbacks by id. Invocation holds the (recursive) mutex, so removing a callback waits for
/// a running invocation: after CallbackHandle::reset() returns the callback is not running.
/// Recursive so that a callback may register or remove callbacks itself.
template <class Fn>
class Registry : public std::enable_shared_from_this<Registry<Fn>> {
 public:
  CallbackHandle add(Fn fn) {
    std::lock_guard lock(mutex_);
    const auto id = next_id_++;
    fns_.emplace(id, std::move(fn));
    return CallbackHandle([weak = this->weak_from_this(), id] {
      if (auto self = weak.lock()) {
        std::lock_guard lock(self->mutex_);
        self->fns_.erase(id);
      }
    });
  }

  template <class... Args>
  void invoke(const Args&... args) {
    std::lock_guard lock(mutex_);
    std::vector<std::uint64_t> ids;
    ids.reserve(fns_.size());
    for (const auto& kv : fns_) ids.push_back(kv.first);
    for (auto id : ids) {
      auto it = fns_.find(id);  // a callback may have removed a later one
      if (it != fns_.end()) guarded([&] { it->second(args...); });
    }
  }

 private:
  std::recursive_mutex mutex_;
  std::map<std::uint64_t, Fn> fns_;
  std::uint64_t next_id_ = 1;
};

using MessageFn = std::function<void(const std::string&)>;

/// channel → callbacks, with the same removal guarantee as Registry.
class SubscriptionTable : public std::enable_shared_from_this<SubscriptionTable> {
 public:
  /// Returns the handle and whether the channel is new.
  CallbackHandle add(const std::string& channel, MessageFn fn) {
    std::lock_guard lock(mutex_);
    const auto id = next_id_++;
    table_[channel].emplace(id, std::move(fn));
    return CallbackHandle([weak = weak_from_this(), channel, id] {
      if (auto self = weak.lock()) {
        std::lock_guard lock(self->mutex_);
        auto it = self->table_.find(channel);
        if (it == self->table_.end()) return;
        it->second.erase(id);
        // The server-side subscription stays until the next reconnect: harmless.
        if (it->second.empty()) self->table_.erase(it);
      }
    });
  }

  std::vector<std::string> channels() {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& kv : table_) out.push_back(kv.first);
    return out;
  }

  void deliver(const std::string& channel, const std::string& message) {
    std::lock_guard lock(mutex_);
    auto it = table_.find(channel);
    if (it == table_.end()) return;
    std::vector<std::uint64_t> ids;
    for (const auto& kv : it->second) ids.push_back(kv.first);
    for (auto id : ids) {
      auto ch = table_.find(channel);
      if (ch == table_.end()) break;
      auto fn = ch->second.find(id);
      if (fn != ch->second.end()) guarded([&] { fn->second(message); });
    }
  }

 private:
  std::recursive_mutex mutex_;
  std::map<std::string, std::map<std::uint64_t, MessageFn>> table_;
  std::uint64_t next_id_ = 1;
};

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

}  // namespace

RedisScript::RedisScript(std::string source) : source_(std::move(source)) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(source_.data(), source_.size(), md, &n, EVP_sha1(), nullptr) == 1) {
    sha1_ = hex(md, n);
  }
  // On failure sha1_ stays empty: EVALSHA then answers NOSCRIPT and eval() sends EVAL.
}

// ---------------------------------------------------------------------------------------

enum class LinkKind { kCommand, kSubscriber, kSentinelWatch };

/// One logical connection that keeps itself connected: resolve (Sentinel) → connect →
/// handshake → up → (lost) → backoff → again. I/O thread only.
class Link {
 public:
  Link(RedisClient::Impl& core, LinkKind kind);
  void start();
  void stop();
  /// Drops the connection (if any) and reconnects at once.
  void restart(const std::string& reason);
  bool running() const noexcept { return running_; }
  bool up() const noexcept { return state_ == State::kUp; }
  Connection* connection() noexcept { return conn_.get(); }
  std::uint64_t generation() const noexcept { return gen_; }
  const RedisEndpoint& endpoint() const noexcept { return endpoint_; }
  /// Subscriber link: subscribe to a channel added while connected.
  void add_channel(const std::string& channel);

 private:
  enum class State { kIdle, kResolving, kConnecting, kHandshake, kUp };

  void attempt();
  void resolve(std::size_t tried);
  void connect(const RedisEndpoint& ep);
  void handshake();
  void subscribe_all();
  void become_up();
  void down(const std::string& reason, bool forced);
  void post_down(const std::string& reason);
  void schedule_health();
  void on_push(redisReply* r);
  void arm_handshake_timer();
  /// The IP of `ep` (at once for IP literals); `done` is not called after a drop (gen_).
  void lookup(const RedisEndpoint& ep,
              std::function<void(const std::string& ip, const std::string& error)> done);
  Millis next_backoff();

  RedisClient::Impl& core_;
  LinkKind kind_;
  State state_ = State::kIdle;
  bool running_ = false;
  std::uint64_t gen_ = 0;  // bumped on every drop: callbacks of older attempts are ignored
  std::unique_ptr<Connection> conn_;
  std::unique_ptr<Connection> query_;  // sentinel query in progress
  std::uint64_t query_seq_ = 0;
  asio::steady_timer retry_timer_;
  asio::steady_timer step_timer_;  // sentinel query or handshake deadline
  asio::steady_timer health_timer_;
  asio::ip::tcp::resolver resolver_;
  Millis backoff_{0};
  Clock::time_point up_since_{};
  RedisEndpoint endpoint_;
  std::size_t sentinel_next_ = 0;
  bool health_pending_ = false;
  Clock::time_point health_sent_{};
  bool subscribe_sent_ = false;
  std::size_t awaiting_confirms_ = 0;
};

class RedisClient::Impl {
 public:
  explicit Impl(RedisOptions options)
      : options_(std::move(options)),
        work_(asio::make_work_guard(io_)),
        cmd_(*this, LinkKind::kCommand),
        sub_(*this, LinkKind::kSubscriber),
        watch_(*this, LinkKind::kSentinelWatch),
        rng_(std::random_device{}()) {}

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
      if (sentinel_mode()) watch_.start();
    });
    return true;
  }

  // --- called from any thread -------------------------------------------------------

  // Queues `issue` on the I/O thread; `on_reply` runs there with the reply (or the
  // connection's failure), and only then does the call stop counting against max_in_flight,
  // however long its caller waited. Fails, having called nothing, when it cannot be queued.
  CacheResult<void> queue(std::function<void(Done)> issue, Done on_reply) {
    if (!available_.load(std::memory_order_acquire)) {
      unavailable_.fetch_add(1, std::memory_order_relaxed);
      return fail(Errc::kUnavailable, "redis is not connected");
    }
    if (in_flight_.fetch_add(1, std::memory_order_relaxed) >= options_.max_in_flight) {
      in_flight_.fetch_sub(1, std::memory_order_relaxed);
      unavailable_.fetch_add(1, std::memory_order_relaxed);
      return fail(Errc::kUnavailable, "too many redis calls in flight");
    }
    try {
      asio::post(io_, [this, issue = std::move(issue), on_reply = std::move(on_reply)] {
        issue([this, on_reply](CacheResult<Reply> r) {
          in_flight_.fetch_sub(1, std::memory_order_relaxed);
          on_reply(std::move(r));
        });
      });
    } catch (...) {
      in_flight_.fetch_sub(1, std::memory_order_relaxed);
      return fail(Errc::kInternal, "cannot queue the redis call");
    }
    return {};
  }

  static Unexpected<Error> timed_out(Millis t) {
    return fail(Errc::kTimeout, "redis call timed out after " + std::to_string(t.count()) + " ms");
  }

  CacheResult<Reply> call(std::function<void(Done)> issue, std::optional<Millis> timeout) {
    calls_.fetch_add(1, std::memory_order_relaxed);
    if (std::this_thread::get_id() == io_thread_id_.load()) {
      return fail(Errc::kInternal, "blocking redis call on the redis I/O thread");
    }
    const Millis t = timeout.value_or(options_.command_timeout);
    std::future<CacheResult<Reply>> future;
    try {
      auto promise = std::make_shared<std::promise<CacheResult<Reply>>>();
      future = promise->get_future();
      auto queued = queue(std::move(issue),
                          [promise](CacheResult<Reply> r) { promise->set_value(std::move(r)); });
      if (!queued) return Unexpected<Error>{queued.error()};
    } catch (...) {
      return fail(Errc::kInternal, "cannot queue the redis call");
    }
    if (future.wait_for(t) != std::future_status::ready) {
      timeouts_.fetch_add(1, std::memory_order_relaxed);
      return timed_out(t);
    }
    try {
      auto r = future.get();
      if (!r && r.error().code == Errc::kUnavailable) {
        unavailable_.fetch_add(1, std::memory_order_relaxed);
      }
      return r;
    } catch (...) {  // broken promise: the client is shutting down
      return fail(Errc::kUnavailable, "redis client stopped");
    }
  }

  // As call(), without waiting: `done` runs once, on the I/O thread with the reply or, at the
  // deadline, kTimeout; or before this returns when the call cannot be queued.
  void call_async(std::function<void(Done)> issue, std::optional<Millis> timeout, Done done) {
    calls_.fetch_add(1, std::memory_order_relaxed);
    struct Pending {
      Pending(asio::io_context& io, Done d) : timer(io), done(std::move(d)) {}
      asio::steady_timer timer;
      Done done;  // emptied by whichever of the reply and the deadline comes first
    };
    const Millis t = timeout.value_or(options_.command_timeout);
    std::shared_ptr<Pending> p;
    try {
      p = std::make_shared<Pending>(io_, std::move(done));
    } catch (...) {
      return;  // `done` went with the failed allocation: nothing is left to answer
    }
    auto answer = [this](const std::shared_ptr<Pending>& pending, CacheResult<Reply> r) {
      if (!pending->done) return;
      Done d = std::move(pending->done);
      pending->done = nullptr;
      pending->timer.cancel();
      if (!r && r.error().code == Errc::kUnavailable) {
        unavailable_.fetch_add(1, std::memory_order_relaxed);
      } else if (!r && r.error().code == Errc::kTimeout) {
        timeouts_.fetch_add(1, std::memory_order_relaxed);
      }
      d(std::move(r));
    };
    auto queued = queue(
        [p, t, answer, issue = std::move(issue)](Done on_reply) {
          p->timer.expires_after(t);
          p->timer.async_wait([p, t, answer](boost::system::error_code ec) {
            if (!ec) answer(p, timed_out(t));  // else cancelled: the reply came first
          });
          issue(std::move(on_reply));
        },
        [p, answer](CacheResult<Reply> r) { answer(p, std::move(r)); });
    if (!queued) p->done(Unexpected<Error>{queued.error()});
  }

  void post(std::function<void()> fn) {
    try {
      asio::post(io_, std::move(fn));
    } catch (...) {
    }
  }

  // --- I/O thread -------------------------------------------------------------------

  /// Sends on the command link; `done` runs exactly once on the I/O thread.
  void send_command(const std::vector<std::string>& args, Done done) {
    if (!cmd_.up()) {
      done(fail(Errc::kUnavailable, "redis is not connected"));
      return;
    }
    const auto gen = cmd_.generation();
    cmd_.connection()->send(
        args, [this, gen, done = std::move(done)](redisReply* r) { done(finish(r, gen)); });
  }

  void send_eval(std::shared_ptr<const std::vector<std::string>> evalsha_args,
                 std::shared_ptr<const std::string> source, Done done) {
    if (!cmd_.up()) {
      done(fail(Errc::kUnavailable, "redis is not connected"));
      return;
    }
    const auto gen = cmd_.generation();
    cmd_.connection()->send(*evalsha_args, [this, gen, evalsha_args, source,
                                            done = std::move(done)](redisReply* r) {
      if (r != nullptr && r->type == REDIS_REPLY_ERROR && starts_with(reply_str(r), "NOSCRIPT")) {
        // Script cache empty (restart, failover, SCRIPT FLUSH): EVAL loads it as it runs,
        // so later calls find it again. Same args, the source in place of the SHA1.
        noscript_reloads_.fetch_add(1, std::memory_order_relaxed);
        if (!cmd_.up() || cmd_.generation() != gen) {
          done(fail(Errc::kUnavailable, "redis connection lost"));
          return;
        }
        std::vector<std::string> eval_args = *evalsha_args;
        eval_args[0] = "EVAL";
        eval_args[1] = *source;
        cmd_.connection()->send(eval_args,
                                [this, gen, done](redisReply* r2) { done(finish(r2, gen)); });
        return;
      }
      done(finish(r, gen));
    });
  }

  CacheResult<Reply> finish(redisReply* r, std::uint64_t gen) {
    if (r == nullptr) return fail(Errc::kUnavailable, "redis connection lost");
    if (r->type == REDIS_REPLY_ERROR) {
      auto c = classify_error(reply_str(r));
      if (c.readonly) {
        post([this, gen] {
          if (cmd_.generation() == gen)
            restart_links("READONLY reply: the server is a replica now", true);
        });
      }
      return Unexpected<Error>{std::move(c.error)};
    }
    return to_reply(r);
  }

  void command_link_up() {
    reconnects_.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lock(info_mutex_);
      endpoint_ = format_endpoint(cmd_.endpoint());
    }
    set_available(true);
    // Follow the master: a subscriber still on another server (the old master, demoted
    // but alive) is moved over.
    if (sub_.running() && sub_.up() &&
        (sub_.endpoint().host != cmd_.endpoint().host ||
         sub_.endpoint().port != cmd_.endpoint().port)) {
      sub_.restart("following the master to " + format_endpoint(cmd_.endpoint()));
    }
  }

  void command_link_down(const std::string& reason) {
    disconnects_.fetch_add(1, std::memory_order_relaxed);
    note_error(reason);
    {
      std::lock_guard lock(info_mutex_);
      endpoint_.clear();
    }
    set_available(false);
  }

  void subscriber_ready() { resubscribed_->invoke(); }

  void deliver(const std::string& channel, const std::string& message) {
    messages_.fetch_add(1, std::memory_order_relaxed);
    subs_->deliver(channel, message);
  }

  /// Reconnects both data links (re-resolving the master with Sentinel).
  /// Sentinel announced a new master. A link already up on it (it found the master itself,
  /// through a reconnect) is left alone: restarting it would fail calls for nothing.
  void follow_master(const std::string& host, int port, const std::string& reason) {
    master_switches_.fetch_add(1, std::memory_order_relaxed);
    note_error(reason);
    const auto on_master = [&](const Link& l) {
      return l.up() && l.endpoint().host == host && l.endpoint().port == port;
    };
    if (!on_master(cmd_)) cmd_.restart(reason);
    if (sub_.running() && !on_master(sub_)) sub_.restart(reason);
  }

  void restart_links(const std::string& reason, bool master_switch) {
    if (master_switch) master_switches_.fetch_add(1, std::memory_order_relaxed);
    note_error(reason);
    cmd_.restart(reason);
    if (sub_.running()) sub_.restart(reason);
  }

  void ensure_subscriber(const std::string& channel) {
    if (!sub_.running()) {
      sub_.start();  // subscribes to every channel in the table, this one included
    } else {
      sub_.add_channel(channel);
    }
  }

  void note_error(const std::string& e) {
    std::lock_guard lock(info_mutex_);
    last_error_ = e;
  }

  void set_available(bool up) {
    {
      std::lock_guard lock(avail_mutex_);
      if (available_.exchange(up, std::memory_order_acq_rel) == up) return;
    }
    avail_cv_.notify_all();
    state_cbs_->invoke(up);
  }

  Millis jitter(Millis d) {
    if (d.count() <= 1) return d;
    std::uniform_int_distribution<std::int64_t> dist(d.count() * 8 / 10, d.count());
    return Millis(dist(rng_));
  }

  bool sentinel_mode() const { return !options_.sentinels.empty(); }
  asio::io_context& io() { return io_; }

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
  Link cmd_;
  Link sub_;
  Link watch_;
  std::thread thread_;
  std::atomic<std::thread::id> io_thread_id_{};
  std::mt19937_64 rng_;

  std::atomic<bool> available_{false};
  mutable std::mutex avail_mutex_;
  mutable std::condition_variable avail_cv_;
  std::atomic<std::size_t> in_flight_{0};

  mutable std::mutex info_mutex_;
  std::string endpoint_;
  std::string last_error_;

  std::shared_ptr<Registry<std::function<void(bool)>>> state_cbs_ =
      std::make_shared<Registry<std::function<void(bool)>>>();
  std::shared_ptr<Registry<std::function<void()>>> resubscribed_ =
      std::make_shared<Registry<std::function<void()>>>();
  std::shared_ptr<SubscriptionTable> subs_ = std::make_shared<SubscriptionTable>();

  std::atomic<std::uint64_t> calls_{0}, unavailable_{0}, timeouts_{0}, reconnects_{0},
      disconnects_{0}, noscript_reloads_{0}, master_switches_{0}, messages_{0};
};

// --- Link -------------------------------------------------------------------------------

Link::Link(RedisClient::Impl& core, LinkKind kind)
    : core_(core),
      kind_(kind),
      retry_timer_(core.io()),
      step_timer_(core.io()),
      health_timer_(core.io()),
      resolver_(core.io()) {}

void Link::start() {
  if (running_) return;
  running_ = true;
  backoff_ = Millis(0);
  attempt();
}

void Link::stop() {
  running_ = false;
  ++gen_;
  ++query_seq_;
  retry_timer_.cancel();
  step_timer_.cancel();
  health_timer_.cancel();
  resolver_.cancel();
  if (query_) query_->close();
  if (conn_) conn_->close();  // pending commands complete with kUnavailable
  const bool was_up = state_ == State::kUp;
  state_ = State::kIdle;
  if (was_up && kind_ == LinkKind::kCommand) core_.command_link_down("client stopped");
}

void Link::restart(const std::string& reason) {
  if (!running_) return;
  down(reason, /*forced=*/true);
}

Millis Link::next_backoff() {
  const auto& o = core_.options_;
  backoff_ =
      backoff_ < o.backoff_initial ? o.backoff_initial : std::min(backoff_ * 2, o.backoff_max);
  return core_.jitter(backoff_);
}

void Link::down(const std::string& reason, bool forced) {
  const bool was_up = state_ == State::kUp;
  ++gen_;
  ++query_seq_;
  step_timer_.cancel();
  health_timer_.cancel();
  retry_timer_.cancel();
  resolver_.cancel();
  if (query_) query_->close();
  if (conn_) conn_->close();
  state_ = State::kIdle;
  health_pending_ = false;
  if (kind_ == LinkKind::kCommand) {
    if (was_up) {
      core_.command_link_down(reason);
    } else {
      core_.note_error(reason);
    }
  }
  if (!running_) return;
  Millis delay;
  if ((was_up && Clock::now() - up_since_ >= kStableAfter) || forced) {
    // A connection that worked, or a deliberate switch: retry now, back off from scratch.
    backoff_ = Millis(0);
    delay = Millis(0);
  } else {
    delay = next_backoff();
  }
  retry_timer_.expires_after(delay);
  retry_timer_.async_wait([this, gen = gen_](const boost::system::error_code& ec) {
    if (!ec && running_ && gen == gen_) attempt();
  });
}

// Failures reported from inside hiredis callbacks are handled on a clean stack.
void Link::post_down(const std::string& reason) {
  core_.post([this, gen = gen_, reason] {
    if (gen == gen_) down(reason, false);
  });
}

void Link::attempt() {
  if (!running_) return;
  const auto& o = core_.options_;
  if (kind_ == LinkKind::kSentinelWatch) {
    connect(o.sentinels[sentinel_next_++ % o.sentinels.size()]);
  } else if (core_.sentinel_mode()) {
    state_ = State::kResolving;
    resolve(0);
  } else {
    connect(o.endpoint);
  }
}

void Link::resolve(std::size_t tried) {
  const auto& o = core_.options_;
  if (tried >= o.sentinels.size()) {
    post_down("no sentinel gave an address for master '" + o.master_name + "'");
    return;
  }
  const std::size_t index = (sentinel_next_ + tried) % o.sentinels.size();
  const RedisEndpoint sentinel = o.sentinels[index];
  const auto seq = ++query_seq_;
  const auto gen = gen_;
  // Give up on this sentinel (once), try the next one on a clean stack.
  auto next = [this, seq, gen, tried](const std::string& why) {
    if (seq != query_seq_ || gen != gen_) return;
    ++query_seq_;
    step_timer_.cancel();
    if (query_) query_->close();
    core_.note_error("sentinel: " + why);
    core_.post([this, gen, tried] {
      if (gen == gen_ && running_) resolve(tried + 1);
    });
  };

  query_ = std::make_unique<Connection>(core_.io());
  Connection::Handlers h;
  h.on_connected = [this, seq, next, index](bool ok, const std::string& err) {
    if (seq != query_seq_) return;
    if (!ok) {
      next(err);
      return;
    }
    const auto& opts = core_.options_;
    if (!opts.sentinel_password.empty()) {
      query_->send({"AUTH", opts.sentinel_password}, [this, seq, next](redisReply* r) {
        if (seq == query_seq_ && (r == nullptr || r->type == REDIS_REPLY_ERROR)) {
          next("AUTH to the sentinel failed");
        }
      });
    }
    query_->send({"SENTINEL", "get-master-addr-by-name", opts.master_name}, [this, seq, next,
                                                                             index](redisReply* r) {
      if (seq != query_seq_) return;
      if (r == nullptr) return next("connection lost");
      if (r->type == REDIS_REPLY_ERROR) return next(std::string(reply_str(r).substr(0, 200)));
      if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
          r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING) {
        return next("master '" + core_.options_.master_name + "' unknown");
      }
      RedisEndpoint ep;
      ep.host = std::string(reply_str(r->element[0]));
      ep.port = std::atoi(std::string(reply_str(r->element[1])).c_str());
      if (ep.port <= 0 || ep.port > 65535) return next("bad master port");
      ++query_seq_;  // done: ignore anything else from this query
      step_timer_.cancel();
      sentinel_next_ = index;  // ask the one that answered first next time
      core_.post([this, gen = gen_, ep] {
        if (gen != gen_ || !running_) return;
        if (query_) query_->close();
        connect(ep);
      });
    });
  };
  h.on_lost = [next](const std::string& why) { next(why); };
  step_timer_.expires_after(core_.options_.connect_timeout);
  step_timer_.async_wait([next](const boost::system::error_code& ec) {
    if (!ec) next("no answer in time");
  });
  lookup(sentinel, [this, seq, next, h = std::move(h), port = sentinel.port](
                       const std::string& ip, const std::string& error) mutable {
    if (seq != query_seq_) return;
    std::string err = error;
    if (ip.empty() || !query_->open(ip, port, core_.options_.connect_timeout, std::move(h), &err)) {
      next(err);
    }
  });
}

void Link::lookup(const RedisEndpoint& ep,
                  std::function<void(const std::string& ip, const std::string& error)> done) {
  boost::system::error_code ec;
  asio::ip::make_address(ep.host, ec);
  if (!ec) {
    done(ep.host, {});
    return;
  }
  // hiredis 0.14 would call getaddrinfo() on this thread and stall every connection for as
  // long as DNS takes; Asio resolves on its own background thread.
  resolver_.async_resolve(
      ep.host, std::to_string(ep.port),
      [this, gen = gen_, host = ep.host, done = std::move(done)](
          const boost::system::error_code& error, asio::ip::tcp::resolver::results_type results) {
        if (gen != gen_) return;
        if (error || results.empty()) {
          done({}, "cannot resolve " + host + ": " + (error ? error.message() : "no address"));
          return;
        }
        // IPv4 first when there is one: "localhost" often lists ::1 first while Redis
        // commonly binds 127.0.0.1 only.
        auto chosen = results.begin();
        for (auto it = results.begin(); it != results.end(); ++it) {
          if (it->endpoint().address().is_v4()) {
            chosen = it;
            break;
          }
        }
        done(chosen->endpoint().address().to_string(), {});
      });
}

void Link::connect(const RedisEndpoint& ep) {
  state_ = State::kConnecting;
  endpoint_ = ep;
  conn_ = std::make_unique<Connection>(core_.io());
  const auto gen = gen_;
  Connection::Handlers h;
  h.on_connected = [this, gen](bool ok, const std::string& err) {
    if (gen != gen_) return;
    if (!ok) {
      post_down("connect to " + format_endpoint(endpoint_) + ": " + err);
      return;
    }
    handshake();
  };
  h.on_lost = [this, gen](const std::string& why) {
    if (gen == gen_) post_down(format_endpoint(endpoint_) + ": " + why);
  };
  if (kind_ != LinkKind::kCommand) {
    h.on_push = [this, gen](redisReply* r) {
      if (gen == gen_) on_push(r);
    };
  }
  lookup(ep, [this, gen, ep, h = std::move(h)](const std::string& ip,
                                               const std::string& error) mutable {
    if (gen != gen_) return;
    std::string err = error;
    if (ip.empty() ||
        !conn_->open(ip, ep.port, core_.options_.connect_timeout, std::move(h), &err)) {
      post_down("connect to " + format_endpoint(ep) + ": " + err);
    }
  });
}

void Link::arm_handshake_timer() {
  step_timer_.expires_after(core_.options_.connect_timeout);
  step_timer_.async_wait([this, gen = gen_](const boost::system::error_code& ec) {
    if (!ec && gen == gen_ && state_ == State::kHandshake) down("handshake timed out", false);
  });
}

void Link::handshake() {
  state_ = State::kHandshake;
  subscribe_sent_ = false;
  awaiting_confirms_ = 0;
  arm_handshake_timer();
  const auto& o = core_.options_;
  const auto gen = gen_;
  // Shared by the pipelined steps: the first failure wins.
  auto failure = std::make_shared<std::string>();
  auto check = [this, gen, failure](const char* step) {
    return [this, gen, failure, step](redisReply* r) {
      if (gen != gen_ || !failure->empty()) return;
      if (r == nullptr) {
        *failure = std::string(step) + ": connection lost";
      } else if (r->type == REDIS_REPLY_ERROR) {
        // Only the error code: the message of a failed AUTH is not repeated anywhere.
        std::string_view msg = reply_str(r);
        *failure =
            std::string(step) + " failed (" + std::string(msg.substr(0, msg.find(' '))) + ")";
      }
    };
  };

  const std::string& password =
      kind_ == LinkKind::kSentinelWatch ? o.sentinel_password : o.password;
  const std::string& username = kind_ == LinkKind::kSentinelWatch ? std::string() : o.username;
  if (!password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!username.empty()) auth.push_back(username);
    auth.push_back(password);
    conn_->send(auth, check("AUTH"));
  }

  switch (kind_) {
    case LinkKind::kCommand: {
      if (o.db != 0) conn_->send({"SELECT", std::to_string(o.db)}, check("SELECT"));
      const bool sentinel = core_.sentinel_mode();
      conn_->send({sentinel ? "ROLE" : "PING"}, [this, gen, failure, sentinel](redisReply* r) {
        if (gen != gen_) return;
        if (failure->empty() && r == nullptr) *failure = "handshake: connection lost";
        if (failure->empty() && r->type == REDIS_REPLY_ERROR) {
          *failure = "handshake: " + std::string(reply_str(r).substr(0, 200));
        }
        if (failure->empty() && sentinel) {
          std::string_view role = r->type == REDIS_REPLY_ARRAY && r->elements > 0
                                      ? reply_str(r->element[0])
                                      : std::string_view("unknown");
          if (role != "master") {
            *failure =
                format_endpoint(endpoint_) + " is a " + std::string(role) + ", not the master";
          }
        }
        if (!failure->empty()) {
          post_down(*failure);
          return;
        }
        become_up();
      });
      break;
    }
    case LinkKind::kSubscriber:
    case LinkKind::kSentinelWatch:
      if (password.empty()) {
        subscribe_all();
      } else {
        // SUBSCRIBE only after AUTH succeeded: a rejected SUBSCRIBE would arrive as an
        // unsolicited error, which hiredis 0.14 treats as a fatal protocol state.
        conn_->send({"PING"}, [this, gen, failure](redisReply* r) {
          if (gen != gen_) return;
          if (failure->empty() && r == nullptr) *failure = "handshake: connection lost";
          if (!failure->empty()) {
            post_down(*failure);
            return;
          }
          subscribe_all();
        });
      }
      break;
  }
}

void Link::subscribe_all() {
  std::vector<std::string> channels =
      kind_ == LinkKind::kSentinelWatch
          ? std::vector<std::string>{std::string(kSwitchMasterChannel)}
          : core_.subs_->channels();
  subscribe_sent_ = true;
  if (channels.empty()) {
    become_up();
    return;
  }
  awaiting_confirms_ = channels.size();
  if (!conn_->subscribe(channels)) post_down("SUBSCRIBE could not be sent");
}

void Link::add_channel(const std::string& channel) {
  if (kind_ != LinkKind::kSubscriber || !conn_ || !subscribe_sent_) return;
  if (state_ != State::kHandshake && state_ != State::kUp) return;
  if (!conn_->subscribe({channel})) return;  // the next reconnect subscribes it
  if (state_ == State::kHandshake) ++awaiting_confirms_;
}

void Link::on_push(redisReply* r) {
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;
  const std::string_view kind = reply_str(r->element[0]);
  if (kind == "subscribe") {
    if (state_ == State::kHandshake && awaiting_confirms_ > 0 && --awaiting_confirms_ == 0) {
      become_up();
    }
    return;
  }
  if (kind != "message") return;
  const std::string channel(reply_str(r->element[1]));
  const std::string payload(reply_str(r->element[2]));
  if (kind_ == LinkKind::kSentinelWatch) {
    // "<master name> <old ip> <old port> <new ip> <new port>"
    const std::string& name = core_.options_.master_name;
    if (payload.size() > name.size() && payload.compare(0, name.size(), name) == 0 &&
        payload[name.size()] == ' ') {
      // The new master is the last two fields.
      const auto last = payload.rfind(' ');
      const auto before = last == std::string::npos ? last : payload.rfind(' ', last - 1);
      int port = 0;
      if (before != std::string::npos) {
        const std::string_view p = std::string_view(payload).substr(last + 1);
        std::from_chars(p.data(), p.data() + p.size(), port);
      }
      const std::string host = before == std::string::npos
                                   ? std::string()
                                   : payload.substr(before + 1, last - before - 1);
      core_.post([&core = core_, payload, host, port] {
        const std::string why = "sentinel +switch-master " + payload;
        if (port > 0)
          core.follow_master(host, port, why);
        else
          core.restart_links(why, true);
      });
    }
    return;
  }
  core_.deliver(channel, payload);
}

void Link::become_up() {
  step_timer_.cancel();
  state_ = State::kUp;
  up_since_ = Clock::now();
  switch (kind_) {
    case LinkKind::kCommand:
      health_pending_ = false;
      schedule_health();
      core_.command_link_up();
      break;
    case LinkKind::kSubscriber:
      core_.subscriber_ready();
      break;
    case LinkKind::kSentinelWatch:
      break;
  }
}

void Link::schedule_health() {
  health_timer_.expires_after(core_.options_.health_interval);
  health_timer_.async_wait([this, gen = gen_](const boost::system::error_code& ec) {
    if (ec || gen != gen_ || state_ != State::kUp) return;
    const auto& o = core_.options_;
    if (health_pending_) {
      if (Clock::now() - health_sent_ > o.health_timeout) {
        // A hung or partitioned server sends no EOF: without this we would wait for TCP.
        core_.restart_links("health check: no reply from " + format_endpoint(endpoint_) +
                                " within " + std::to_string(o.health_timeout.count()) + " ms",
                            false);
        return;
      }
    } else {
      health_pending_ = true;
      health_sent_ = Clock::now();
      const bool sentinel = core_.sentinel_mode();
      conn_->send({sentinel ? "ROLE" : "PING"}, [this, gen, sentinel](redisReply* r) {
        if (gen != gen_ || r == nullptr) return;  // a loss is reported through on_lost
        health_pending_ = false;
        if (sentinel && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
            reply_str(r->element[0]) != "master") {
          core_.post([this, gen] {
            if (gen == gen_) {
              core_.restart_links(format_endpoint(endpoint_) + " is no longer the master", true);
            }
          });
        }
      });
    }
    schedule_health();
  });
}

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
  Impl* impl = impl_.get();
  return impl_->call([impl, shared](Done done) { impl->send_command(*shared, std::move(done)); },
                     timeout);
}

namespace {

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

CacheResult<Reply> RedisClient::eval(const RedisScript& script, std::vector<std::string> keys,
                                     std::vector<std::string> args,
                                     std::optional<std::chrono::milliseconds> timeout) {
  auto cargv = evalsha_argv(script, std::move(keys), std::move(args));
  auto source = std::make_shared<const std::string>(script.source());
  Impl* impl = impl_.get();
  return impl_->call(
      [impl, cargv, source](Done done) { impl->send_eval(cargv, source, std::move(done)); },
      timeout);
}

void RedisClient::eval_async(const RedisScript& script, std::vector<std::string> keys,
                             std::vector<std::string> args,
                             std::optional<std::chrono::milliseconds> timeout,
                             std::function<void(CacheResult<Reply>)> done) {
  auto cargv = evalsha_argv(script, std::move(keys), std::move(args));
  auto source = std::make_shared<const std::string>(script.source());
  Impl* impl = impl_.get();
  impl_->call_async([impl, cargv, source](Done d) { impl->send_eval(cargv, source, std::move(d)); },
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
    Impl* impl = impl_.get();
    impl->post([done] { done(fail(Errc::kInvalidArgument, "empty redis command")); });
    return;
  }
  Impl* impl = impl_.get();
  impl->post([impl, args = std::move(args), done = std::move(done)]() mutable {
    impl->send_command(args, std::move(done));
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

RedisClientStats RedisClient::stats() const {
  RedisClientStats s;
  s.calls = impl_->calls_.load();
  s.unavailable = impl_->unavailable_.load();
  s.timeouts = impl_->timeouts_.load();
  s.reconnects = impl_->reconnects_.load();
  s.disconnects = impl_->disconnects_.load();
  s.noscript_reloads = impl_->noscript_reloads_.load();
  s.master_switches = impl_->master_switches_.load();
  s.messages = impl_->messages_.load();
  return s;
}

CallbackHandle RedisClient::on_state_change(std::function<void(bool up)> callback) {
  return impl_->state_cbs_->add(std::move(callback));
}

CallbackHandle RedisClient::subscribe(std::string channel,
                                      std::function<void(const std::string&)> callback) {
  auto handle = impl_->subs_->add(channel, std::move(callback));
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
