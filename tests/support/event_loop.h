#pragma once
// Test helper: an event loop on its own thread and a worker pool, with a database attached to
// them as the daemon's HTTP server attaches it (store::Database::attach_event_loops).

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <functional>
#include <thread>

#include "authd/store/database.h"

namespace authd::testing {

class AttachedEventLoop {
 public:
  AttachedEventLoop(store::Database& db, std::size_t workers) : db_(db), workers_(workers) {
    db_.attach_event_loops({&loop_}, offload());
    thread_ = std::thread([this] { loop_.run(); });
  }
  /// Lets the loop finish what it runs, joins both, then detaches the database.
  ~AttachedEventLoop() {
    work_.reset();
    thread_.join();
    workers_.join();
    db_.detach_event_loops();
  }
  AttachedEventLoop(const AttachedEventLoop&) = delete;
  AttachedEventLoop& operator=(const AttachedEventLoop&) = delete;

  /// Runs a task on the worker pool (what the daemon hands the stores and the service).
  std::function<void(std::function<void()>)> offload() {
    return [this](std::function<void()> task) { boost::asio::post(workers_, std::move(task)); };
  }
  /// Runs a task on the loop thread.
  void post(std::function<void()> task) { boost::asio::post(loop_, std::move(task)); }
  bool on_loop_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  store::Database& db_;
  boost::asio::io_context loop_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(loop_);
  boost::asio::thread_pool workers_;
  std::thread thread_;
};

}  // namespace authd::testing
