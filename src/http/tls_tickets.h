#pragma once
// TLS session-ticket keys that rotate. OpenSSL's default is one random key per SSL_CTX, kept
// for the life of the process: whoever reads it from memory once can decrypt every session
// resumed since start-up, which undoes forward secrecy. Here a key encrypts tickets for one
// rotation period and still opens them (asking the client to take a fresh ticket) for one more;
// then it is wiped. One set serves every TLS context of the process, so a certificate reload
// (SIGHUP) does not invalidate the tickets clients hold.

#include <openssl/ssl.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

namespace authd::http {

class TicketKeys {
 public:
  struct Key {
    std::array<unsigned char, 16> name{};
    std::array<unsigned char, 32> aes{};   // AES-256-CBC
    std::array<unsigned char, 32> hmac{};  // HMAC-SHA256
    std::int64_t created = 0;              // seconds, of the clock given
  };
  /// What decrypting a ticket may use.
  struct Found {
    Key key;
    bool renew = false;  ///< the key no longer encrypts: the client should get a new ticket
  };

  /// @param now  seconds; the system clock by default (tests pass their own).
  explicit TicketKeys(std::chrono::seconds rotation, std::function<std::int64_t()> now = {});
  ~TicketKeys();
  TicketKeys(const TicketKeys&) = delete;
  TicketKeys& operator=(const TicketKeys&) = delete;

  /// The key that encrypts new tickets; rotated (the previous one kept for decryption) once
  /// it is a rotation period old. std::nullopt only if the random generator failed.
  std::optional<Key> current();
  /// The key named `name`, if it is the current one or the one before it, and not older than
  /// two periods.
  std::optional<Found> find(const unsigned char* name);

  /// Makes `ctx` use these keys (which must outlive it) and tells clients a ticket lasts two
  /// periods.
  void install(SSL_CTX* ctx);

 private:
  void rotate_if_due(std::int64_t now);  // under mu_

  const std::int64_t period_s_;
  const std::function<std::int64_t()> now_;
  std::mutex mu_;
  std::optional<Key> current_, previous_;
};

}  // namespace authd::http
