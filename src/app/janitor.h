#pragma once
// Background store work off the I/O and Redis threads: deletes long-dead sessions and expired
// authorization codes and used client assertions every `interval`, and runs posted tasks (the
// revocation re-sync after a Redis reconnect).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "authd/auth/client_store.h"
#include "authd/auth/code_store.h"
#include "authd/auth/session_store.h"
#include "authd/core/clock.h"

namespace authd::app {

class Janitor {
 public:
  /// Starts the thread. The stores and `clock` must outlive the janitor.
  Janitor(auth::SessionStore& sessions, auth::CodeStore& codes, auth::ClientStore& clients,
          const Clock& clock, std::chrono::milliseconds interval,
          std::chrono::milliseconds retention);
  /// Stops between tasks or purge batches and joins.
  ~Janitor();
  Janitor(const Janitor&) = delete;
  Janitor& operator=(const Janitor&) = delete;

  /// Runs `task` on the janitor's thread, before the next purge.
  void post(std::function<void()> task);

 private:
  void run();
  void purge();
  void purge_codes(std::int64_t cutoff);
  void purge_assertions(std::int64_t now);

  auth::SessionStore& sessions_;
  auth::CodeStore& codes_;
  auth::ClientStore& clients_;
  const Clock& clock_;
  const std::chrono::milliseconds interval_, retention_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<std::function<void()>> tasks_;
  std::thread thread_;
};

}  // namespace authd::app
