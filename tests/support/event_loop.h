#pragma once
// Test helper: an event loop on its own thread and a worker pool, with a database attached to
// them as the daemon's HTTP server attaches it (store::Database::attach_event_loops).

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "authd/store/database.h"

namespace authd::testing {

class AttachedEventLoop {
 public:
  /// `loops` event loops, each on its own thread, as the daemon's I/O threads.
  AttachedEventLoop(store::Database& db, std::size_t workers, std::size_t loops = 1)
      : db_(db), workers_(workers) {
    std::vector<boost::asio::io_context*> attached;
    for (std::size_t i = 0; i < loops; ++i) {
      loops_.push_back(std::make_unique<Loop>());
      attached.push_back(&loops_.back()->context);
    }
    db_.attach_event_loops(attached, offload());
    for (auto& loop : loops_)
      loop->thread = std::thread([&context = loop->context] { context.run(); });
  }
  /// Lets the loops finish what they run, joins them and the workers, then detaches the
  /// database.
  ~AttachedEventLoop() {
    for (auto& loop : loops_) loop->work.reset();
    for (auto& loop : loops_) loop->thread.join();
    workers_.join();
    db_.detach_event_loops();
  }
  AttachedEventLoop(const AttachedEventLoop&) = delete;
  AttachedEventLoop& operator=(const AttachedEventLoop&) = delete;

  /// Runs a task on the worker pool (what the daemon hands the stores and the service).
  std::function<void(std::function<void()>)> offload() {
    return [this](std::function<void()> task) { boost::asio::post(workers_, std::move(task)); };
  }
  /// Runs a task on a loop's thread.
  void post(std::function<void()> task, std::size_t loop = 0) {
    boost::asio::post(loops_.at(loop)->context, std::move(task));
  }
  bool on_loop_thread() const {
    for (const auto& loop : loops_) {
      if (std::this_thread::get_id() == loop->thread.get_id()) return true;
    }
    return false;
  }

 private:
  struct Loop {
    boost::asio::io_context context{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
        boost::asio::make_work_guard(context);
    std::thread thread;
  };
  store::Database& db_;
  boost::asio::thread_pool workers_;
  std::vector<std::unique_ptr<Loop>> loops_;
};

}  // namespace authd::testing
