#pragma once
// auth::Events for the daemon: security events counted for /metrics and alerts, and logged as
// audit lines (ids only, never a secret).

#include "authd/auth/service.h"
#include "authd/obs/metrics.h"

namespace authd::app {

class MetricsEvents final : public auth::Events {
 public:
  /// Registers its counters in `metrics`, which must outlive this object.
  explicit MetricsEvents(obs::Registry& metrics);

  void login(bool ok) override;
  void refresh(auth::RotateOutcome outcome) override;
  void reuse_detected(const auth::Session& session) override;
  void revoked(const std::string& session_id, std::int64_t until) override;

 private:
  obs::Family<obs::Counter>& logins_;
  obs::Family<obs::Counter>& refreshes_;
  obs::Counter& reuse_;
  obs::Counter& revocations_;
};

}  // namespace authd::app
