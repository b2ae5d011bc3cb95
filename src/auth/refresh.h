#pragma once
// Refresh: rotate a refresh token, in one home, read top to bottom.
//
//   1. admit    the limits: by address, then (for a well-formed token) by family
//   2. plan     the client may refresh; derive the successor and the rotation request
//   3. rotate   one store round trip: rotated, grace replay, reuse detected, or dead
//   4. finish   tokens for a live family; revoke it on reuse, client mismatch, disabled user
//
// run() takes these steps on the calling (worker) thread. start() takes them from an event
// loop without blocking it: the limits asynchronously when they are remote, the rotation
// asynchronously where the store can, and offloads to a worker whatever would block.

#include <memory>

#include "auth/context.h"

namespace authd::auth::detail {

class Refresh {
 public:
  explicit Refresh(Context& c) : c_(c) {}

  AuthResult<TokenPair> run(const RefreshRequest& req);
  /// See AuthService::refresh_async.
  bool start(const RefreshRequest& req, AuthService::RefreshDone done, AuthService::Resume resume);

 private:
  struct Plan {
    Client client;
    std::string successor;
    RotateRequest rotate;
    std::int64_t issued_at = 0;  ///< now, for the new tokens (rotate.now may be earlier)
    std::string scope;           ///< requested; narrowed within the session's in finish()
    TokenSpec spec;              ///< audiences and lifetime; the scope comes from the session
    std::string ip;              ///< the caller's address, for the audit trail
    std::string request_id;      ///< the HTTP request's id, for the audit trail
  };
  using Admitted = std::function<void(std::optional<Error>)>;

  // 1. admit
  std::optional<Error> admit(const RefreshRequest& req);
  void admit_async(std::shared_ptr<const RefreshRequest> req, Admitted done);
  // 2. plan (the client is known, or looked up)
  AuthResult<Plan> plan(const RefreshRequest& req, std::optional<Client> known);
  // 3. rotate from an event loop, then finish there or on a worker
  void rotate_async(AuthResult<Plan> plan, AuthService::RefreshDone done);
  // 4. finish
  AuthResult<TokenPair> finish(const Plan& plan, store::StoreResult<RotateResult> rotated);
  /// True when finish() would write (a revocation, a user lookup): not on an event loop.
  static bool finish_blocks(const Plan& plan, const store::StoreResult<RotateResult>& rotated);
  /// Ends a family whose token was presented in a way that means theft or a dead account.
  void revoke_family(const Session& s, const char* reason, std::int64_t now,
                     const std::string& ip = {}, const std::string& request_id = {});
  void audit(const char* type, bool ok, std::string reason, const Plan& p, const Session* s) const;

  Context& c_;
};

}  // namespace authd::auth::detail
