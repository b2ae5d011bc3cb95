#include "cache/redis/pipeline.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>

#include "cache/redis/reply.h"

namespace authd::cache::detail {

namespace {

Unexpected<Error> timed_out(std::chrono::milliseconds t) {
  return fail(Errc::kTimeout, "redis call timed out after " + std::to_string(t.count()) + " ms");
}

}  // namespace

Pipeline::Pipeline(ClientCore& core, Link& command_link, const std::atomic<bool>& available,
                   const std::atomic<std::thread::id>& io_thread, ClientCounters& counters)
    : core_(core),
      link_(command_link),
      available_(available),
      io_thread_(io_thread),
      counters_(counters) {}

CacheResult<void> Pipeline::queue(Issue issue, Done on_reply) {
  if (!available_.load(std::memory_order_acquire)) {
    ClientCounters::bump(counters_.unavailable);
    return fail(Errc::kUnavailable, "redis is not connected");
  }
  if (in_flight_.fetch_add(1, std::memory_order_relaxed) >= core_.options().max_in_flight) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    ClientCounters::bump(counters_.unavailable);
    return fail(Errc::kUnavailable, "too many redis calls in flight");
  }
  try {
    boost::asio::post(core_.io(), [this, issue = std::move(issue), on_reply = std::move(on_reply)] {
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

void Pipeline::count_failure(const CacheResult<Reply>& r) {
  if (r) return;
  if (r.error().code == Errc::kUnavailable) {
    ClientCounters::bump(counters_.unavailable);
  } else if (r.error().code == Errc::kTimeout) {
    ClientCounters::bump(counters_.timeouts);
  }
}

CacheResult<Reply> Pipeline::call(Issue issue, std::optional<Millis> timeout) {
  ClientCounters::bump(counters_.calls);
  if (std::this_thread::get_id() == io_thread_.load()) {
    return fail(Errc::kInternal, "blocking redis call on the redis I/O thread");
  }
  const Millis t = timeout.value_or(core_.options().command_timeout);
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
    ClientCounters::bump(counters_.timeouts);
    return timed_out(t);
  }
  try {
    auto r = future.get();
    count_failure(r);
    return r;
  } catch (...) {  // broken promise: the client is shutting down
    return fail(Errc::kUnavailable, "redis client stopped");
  }
}

void Pipeline::call_async(Issue issue, std::optional<Millis> timeout, Done done) {
  ClientCounters::bump(counters_.calls);
  struct Pending {
    Pending(boost::asio::io_context& io, Done d) : timer(io), done(std::move(d)) {}
    boost::asio::steady_timer timer;
    Done done;  // emptied by whichever of the reply and the deadline comes first
  };
  const Millis t = timeout.value_or(core_.options().command_timeout);
  std::shared_ptr<Pending> p;
  try {
    p = std::make_shared<Pending>(core_.io(), std::move(done));
  } catch (...) {
    return;  // `done` went with the failed allocation: nothing is left to answer
  }
  auto answer = [this](const std::shared_ptr<Pending>& pending, CacheResult<Reply> r) {
    if (!pending->done) return;
    Done d = std::move(pending->done);
    pending->done = nullptr;
    pending->timer.cancel();
    count_failure(r);
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

void Pipeline::send_command(const std::vector<std::string>& args, Done done) {
  if (!link_.up()) {
    done(fail(Errc::kUnavailable, "redis is not connected"));
    return;
  }
  const auto gen = link_.generation();
  link_.connection()->send(
      args, [this, gen, done = std::move(done)](redisReply* r) { done(finish(r, gen)); });
}

void Pipeline::send_eval(std::shared_ptr<const std::vector<std::string>> evalsha_args,
                         std::shared_ptr<const std::string> source, Done done) {
  if (!link_.up()) {
    done(fail(Errc::kUnavailable, "redis is not connected"));
    return;
  }
  const auto gen = link_.generation();
  link_.connection()->send(
      *evalsha_args, [this, gen, evalsha_args, source, done = std::move(done)](redisReply* r) {
        if (r != nullptr && r->type == REDIS_REPLY_ERROR && starts_with(reply_str(r), "NOSCRIPT")) {
          // Script cache empty (restart, failover, SCRIPT FLUSH): EVAL loads it as it runs,
          // so later calls find it again. Same args, the source in place of the SHA1.
          ClientCounters::bump(counters_.noscript_reloads);
          if (!link_.up() || link_.generation() != gen) {
            done(fail(Errc::kUnavailable, "redis connection lost"));
            return;
          }
          std::vector<std::string> eval_args = *evalsha_args;
          eval_args[0] = "EVAL";
          eval_args[1] = *source;
          link_.connection()->send(eval_args,
                                   [this, gen, done](redisReply* r2) { done(finish(r2, gen)); });
          return;
        }
        done(finish(r, gen));
      });
}

CacheResult<Reply> Pipeline::finish(redisReply* r, std::uint64_t gen) {
  if (r == nullptr) return fail(Errc::kUnavailable, "redis connection lost");
  if (r->type == REDIS_REPLY_ERROR) {
    auto c = classify_error(reply_str(r));
    if (c.readonly) {
      core_.post([this, gen] {
        if (link_.generation() == gen) {
          core_.restart_links("READONLY reply: the server is a replica now", true);
        }
      });
    }
    return Unexpected<Error>{std::move(c.error)};
  }
  return to_reply(r);
}

}  // namespace authd::cache::detail
