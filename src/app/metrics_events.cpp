#include "app/metrics_events.h"

#include "authd/obs/log.h"

namespace authd::app {

MetricsEvents::MetricsEvents(obs::Registry& m, AuditSink* audit)
    : logins_(m.counter("authd_logins_total", "Login attempts by result.", {"result"})),
      refreshes_(
          m.counter("authd_refresh_total", "Refresh-token presentations by outcome.", {"outcome"})),
      reuse_(m.counter("authd_refresh_reuse_detected_total",
                       "Refresh-token reuse detections; each revoked a whole session.")
                 .get()),
      revocations_(m.counter("authd_sessions_revoked_total", "Sessions revoked.").get()),
      password_hashes_(m.counter("authd_password_hashes_total",
                                 "Argon2id password hashes run (logins, legacy client secrets, "
                                 "dummy work for unknown accounts).")
                           .get()),
      tokens_issued_(m.counter("authd_tokens_issued_total",
                               "Access tokens issued, by grant and (registered) client.",
                               {"grant", "client"})),
      hash_queue_(m.gauge("authd_password_hash_queue_depth",
                          "Password hashes waiting for a hash slot (served in order of arrival).")
                      .get()),
      hash_wait_(m.histogram("authd_password_hash_wait_seconds",
                             "Time a password hash waited for its slot (0 when one was free).", {},
                             {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5})
                     .get()),
      hash_rejected_(m.counter("authd_password_hash_rejected_total",
                               "Password hashes refused (503) because the hash queue was full.")
                         .get()),
      audit_events_(m.counter("authd_audit_events_total",
                              "Audit events by event type and outcome (README: Audit trail).",
                              {"event", "outcome"})),
      audit_(audit) {}

void MetricsEvents::audit(const auth::AuditEvent& e) {
  // Types and outcomes are the service's own constants: the label set stays bounded.
  audit_events_.with({e.type, e.outcome}).inc();
  if (audit_) audit_->write(e);
}

void MetricsEvents::login(bool ok) { logins_.with({ok ? "success" : "failure"}).inc(); }

void MetricsEvents::refresh(auth::RotateOutcome o) {
  static const char* kNames[] = {"rotated", "grace_replay", "reuse_detected",
                                 "unknown", "revoked",      "expired"};
  refreshes_.with({kNames[static_cast<int>(o)]}).inc();
}

void MetricsEvents::reuse_detected(const auth::Session& s) {
  reuse_.inc();
  log::warn("auth.refresh_reuse", {{"session_id", s.id},
                                   {"user_id", s.user_id},
                                   {"client_id", s.client_id},
                                   {"generation", s.generation},
                                   {"action", "family_revoked"}});
}

void MetricsEvents::revoked(const std::string& session_id, std::int64_t) {
  revocations_.inc();
  log::info("auth.session_revoked", {{"session_id", session_id}});
}

void MetricsEvents::password_hashed() { password_hashes_.inc(); }

void MetricsEvents::token_issued(std::string_view grant, const std::string& client_id) {
  tokens_issued_.with({std::string(grant), client_id}).inc();
}

void MetricsEvents::password_hash_queue(std::size_t waiting) {
  hash_queue_.set(static_cast<double>(waiting));
}

void MetricsEvents::password_hash_waited(double seconds) { hash_wait_.observe(seconds); }

void MetricsEvents::password_hash_rejected() { hash_rejected_.inc(); }

}  // namespace authd::app
