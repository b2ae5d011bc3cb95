#include "http/tls_tickets.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>

namespace authd::http {
namespace {

void wipe(std::optional<TicketKeys::Key>& k) {
  if (k) OPENSSL_cleanse(&*k, sizeof *k);
  k.reset();
}

int ticket_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// OpenSSL's ticket callback: enc = 1 seals a new ticket, enc = 0 opens one. Returns 1 (use
// it), 2 (use it and issue a fresh ticket), 0 (unknown key: full handshake), -1 (error).
int on_ticket(SSL* ssl, unsigned char name[16], unsigned char* iv, EVP_CIPHER_CTX* cipher,
              EVP_MAC_CTX* mac, int enc) {
  auto* keys = static_cast<TicketKeys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ticket_index()));
  if (keys == nullptr) return -1;
  std::optional<TicketKeys::Found> found;
  if (enc == 1) {
    auto key = keys->current();
    if (!key) return 0;  // no ticket this time; the handshake goes on
    found = TicketKeys::Found{*key, false};
    OPENSSL_cleanse(&*key, sizeof *key);
    std::memcpy(name, found->key.name.data(), found->key.name.size());
    if (RAND_bytes(iv, 16) != 1) return -1;
  } else {
    found = keys->find(name);
    if (!found) return 0;
  }
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  const bool ok =
      EVP_MAC_init(mac, found->key.hmac.data(), found->key.hmac.size(), params) == 1 &&
      (enc == 1 ? EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, found->key.aes.data(), iv)
                : EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, found->key.aes.data(),
                                     iv)) == 1;
  OPENSSL_cleanse(&found->key, sizeof found->key);
  if (!ok) return -1;
  return found->renew ? 2 : 1;
}

}  // namespace

TicketKeys::TicketKeys(std::chrono::seconds rotation, std::function<std::int64_t()> now)
    : period_s_(rotation.count() > 0 ? rotation.count() : 1), now_(now ? std::move(now) : [] {
        return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
      }) {}

TicketKeys::~TicketKeys() {
  wipe(current_);
  wipe(previous_);
}

void TicketKeys::rotate_if_due(std::int64_t now) {
  if (current_ && now - current_->created < period_s_) return;
  wipe(previous_);
  previous_ = current_;
  wipe(current_);
  Key k;
  k.created = now;
  // RAND_bytes fails only when the DRBG cannot seed: then no key, and no tickets are issued.
  if (RAND_bytes(k.name.data(), k.name.size()) != 1 ||
      RAND_bytes(k.aes.data(), k.aes.size()) != 1 ||
      RAND_bytes(k.hmac.data(), k.hmac.size()) != 1) {
    OPENSSL_cleanse(&k, sizeof k);
    return;
  }
  current_ = k;
  OPENSSL_cleanse(&k, sizeof k);
}

std::optional<TicketKeys::Key> TicketKeys::current() {
  std::lock_guard lock(mu_);
  rotate_if_due(now_());
  return current_;
}

std::optional<TicketKeys::Found> TicketKeys::find(const unsigned char* name) {
  std::lock_guard lock(mu_);
  const std::int64_t now = now_();
  rotate_if_due(now);
  for (auto* k : {&current_, &previous_}) {
    if (!*k || std::memcmp((*k)->name.data(), name, (*k)->name.size()) != 0) continue;
    if (now - (*k)->created >= 2 * period_s_) return std::nullopt;
    return Found{**k, k == &previous_};
  }
  return std::nullopt;
}

void TicketKeys::install(SSL_CTX* ctx) {
  SSL_CTX_set_ex_data(ctx, ticket_index(), this);
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, on_ticket);
  SSL_CTX_set_timeout(ctx, static_cast<long>(2 * period_s_));
}

}  // namespace authd::http
