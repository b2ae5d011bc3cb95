#include "authd/crypto/keyed_hash.h"

#include <sodium.h>

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "authd/crypto/init.h"

namespace authd::crypto {
namespace {

static_assert(KeyedHasher::kMaxKeyBytes == crypto_generichash_KEYBYTES_MAX);
static_assert(KeyedHasher::kMinKeyBytes >= crypto_generichash_KEYBYTES_MIN);
static_assert(KeyedHasher::kDigestBytes == crypto_generichash_BYTES);

bool key_size_ok(std::size_t n) {
  return n >= KeyedHasher::kMinKeyBytes && n <= KeyedHasher::kMaxKeyBytes;
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

Result<KeyedHasher, Errc> KeyedHasher::create(Secret key) {
  if (!key_size_ok(key.size())) return unexpected(Errc::InvalidKey);
  return KeyedHasher(std::move(key));
}

KeyedHasher::KeyedHasher(Secret key) : key_(std::move(key)) {
  if (!key_size_ok(key_.size())) {
    // The message names the length only; the key itself is never printed.
    std::fprintf(stderr, "fatal: KeyedHasher key must be %zu..%zu bytes, got %zu\n", kMinKeyBytes,
                 kMaxKeyBytes, key_.size());
    std::abort();
  }
  init();
}

std::string KeyedHasher::hash(std::string_view data) const {
  std::string out(kDigestBytes, '\0');
  // crypto_generichash only fails for out-of-range lengths, which the constructor excludes.
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(), bytes(data),
                     data.size(), key_.data(), key_.size());
  return out;
}

std::string KeyedHasher::derive(std::string_view context, std::string_view data) const {
  assert(context.find('\0') == std::string_view::npos);
  static constexpr unsigned char kSeparator = 0x00;
  crypto_generichash_state state;
  crypto_generichash_init(&state, key_.data(), key_.size(), kDigestBytes);
  crypto_generichash_update(&state, bytes(context), context.size());
  crypto_generichash_update(&state, &kSeparator, 1);
  crypto_generichash_update(&state, bytes(data), data.size());
  std::string out(kDigestBytes, '\0');
  crypto_generichash_final(&state, reinterpret_cast<unsigned char*>(out.data()), out.size());
  // The state holds key-derived material.
  sodium_memzero(&state, sizeof state);
  return out;
}

}  // namespace authd::crypto
