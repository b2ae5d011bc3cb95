#pragma once
// The auth service's security events as Prometheus counters and audit log lines (no secrets).
// Shared by the daemon and the in-process HTTP tests, which read the same /metrics.

#include <string>

#include "app/audit_sink.h"
#include "authd/auth/service.h"
#include "authd/obs/metrics.h"

namespace authd::app {

/// Thread-safe. `metrics` must outlive it.
class MetricsEvents final : public auth::Events {
 public:
  /// `audit`, if given, receives every audit record and must outlive this object.
  explicit MetricsEvents(obs::Registry& metrics, AuditSink* audit = nullptr);

  void login(bool ok) override;
  void refresh(auth::RotateOutcome outcome) override;
  void reuse_detected(const auth::Session& family) override;
  void revoked(const std::string& session_id, std::int64_t until) override;
  void password_hashed() override;
  void token_issued(std::string_view grant, const std::string& client_id) override;
  void password_hash_queue(std::size_t waiting) override;
  void password_hash_waited(double seconds) override;
  void password_hash_rejected() override;
  void audit(const auth::AuditEvent& e) override;

 private:
  obs::Family<obs::Counter>& logins_;
  obs::Family<obs::Counter>& refreshes_;
  obs::Counter& reuse_;
  obs::Counter& revocations_;
  obs::Counter& password_hashes_;
  obs::Family<obs::Counter>& tokens_issued_;
  obs::Gauge& hash_queue_;
  obs::Histogram& hash_wait_;
  obs::Counter& hash_rejected_;
  obs::Family<obs::Counter>& audit_events_;
  AuditSink* audit_;
};

}  // namespace authd::app
