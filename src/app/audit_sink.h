#pragma once
// Where audit lines go (config `audit.sink`): stdout (one JSON object per line, marked
// "log":"audit", beside the ordinary log), stderr, a file of its own (appended), or nowhere.

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "authd/auth/audit.h"
#include "authd/config/config.h"

namespace authd::app {

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  virtual void write(const auth::AuditEvent& e) = 0;
  /// Opens its file again (SIGHUP, after logrotate moved it away); false, with `error` set,
  /// when that fails, and the sink keeps writing where it did. Streams have nothing to do.
  virtual bool reopen(std::string& error) { return (void)error, true; }
};

/// Thread-safe: whole lines, flushed one by one.
class StreamAuditSink final : public AuditSink {
 public:
  /// The sink `cfg` names; nullptr and `error` set when the file cannot be opened.
  static std::unique_ptr<AuditSink> open(const config::AuditConfig& cfg, std::string& error);
  /// `path` names the file `f` was opened from when owned (reopen() opens it again).
  StreamAuditSink(std::FILE* f, bool owned, std::string path = {})
      : f_(f), owned_(owned), path_(std::move(path)) {}
  ~StreamAuditSink() override;
  StreamAuditSink(const StreamAuditSink&) = delete;
  StreamAuditSink& operator=(const StreamAuditSink&) = delete;
  void write(const auth::AuditEvent& e) override;
  bool reopen(std::string& error) override;

 private:
  std::mutex mu_;
  std::FILE* f_;
  bool owned_;
  std::string path_;
};

/// "off".
class NullAuditSink final : public AuditSink {
 public:
  void write(const auth::AuditEvent&) override {}
};

}  // namespace authd::app
