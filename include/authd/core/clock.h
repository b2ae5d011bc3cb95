#pragma once
// Time and randomness are inputs: services take a Clock& and a Random& so tests can pin them.

#include <chrono>
#include <cstddef>
#include <string>

namespace authd {

using SystemTime = std::chrono::system_clock::time_point;

/// Source of wall-clock time. Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual SystemTime now() const = 0;
  /// Seconds since the Unix epoch.
  std::int64_t now_unix() const {
    return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
  }
};

/// The real clock.
class SystemClock final : public Clock {
 public:
  SystemTime now() const override { return std::chrono::system_clock::now(); }
};

/// Source of cryptographically secure random bytes. Implementations must be thread-safe.
class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(void* out, std::size_t n) = 0;
  std::string bytes(std::size_t n) {
    std::string s(n, '\0');
    fill(s.data(), n);
    return s;
  }
};

/// OpenSSL's CSPRNG.
class SystemRandom final : public Random {
 public:
  void fill(void* out, std::size_t n) override;
};

/// Returns a random RFC 4122 version-4 UUID in canonical text form.
std::string make_uuid_v4(Random& random);

}  // namespace authd
