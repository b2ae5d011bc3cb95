#pragma once
// A rotation issued from an event loop, as the daemon's /refresh issues it, for the Postgres
// suites that check where and how the store answers.

#include <atomic>
#include <future>
#include <memory>

#include "authd/auth/session_store.h"
#include "authd/store/database.h"
#include "support/event_loop.h"

namespace authd::contract {

/// Rotates from `loop` as the service does there: asynchronously when the store takes the
/// call, else blocking on a worker. Waits for the answer; `async` says which it was, and
/// `answered_on_loop` (if given) whether the answer came on the loop's thread.
inline store::StoreResult<auth::RotateResult> rotate_from_loop(testing::AttachedEventLoop& loop,
                                                               store::Database& db,
                                                               const auth::RotateRequest& r,
                                                               bool* async,
                                                               bool* answered_on_loop = nullptr) {
  auto answer = std::make_shared<std::promise<store::StoreResult<auth::RotateResult>>>();
  std::atomic<bool> on_loop{false};
  auto done = [&loop, answer, &on_loop](store::StoreResult<auth::RotateResult> result) {
    on_loop = loop.on_loop_thread();
    answer->set_value(std::move(result));
  };
  std::promise<bool> took;
  loop.post([&, r, done] {
    const bool started = db.sessions().rotate_async(r, done);
    took.set_value(started);
    if (!started) loop.offload()([&db, r, done] { done(db.sessions().rotate(r)); });
  });
  *async = took.get_future().get();
  auto result = answer->get_future().get();
  if (answered_on_loop != nullptr) *answered_on_loop = on_loop;
  return result;
}

}  // namespace authd::contract
