#include "authd/crypto/password.h"

#include <sodium.h>

#include <map>
#include <mutex>
#include <utility>

#include "authd/crypto/init.h"
#include "authd/crypto/secret.h"

namespace authd::crypto {
namespace {

// libsodium reads the encoded hash as a C string of at most STRBYTES - 1 characters.
constexpr std::size_t kMaxEncodedHash = crypto_pwhash_argon2id_STRBYTES - 1;

// Copies an encoded hash into a NUL-terminated buffer, or fails if libsodium would misread it.
bool to_c_string(std::string_view encoded, char (&out)[crypto_pwhash_argon2id_STRBYTES]) {
  if (encoded.empty() || encoded.size() > kMaxEncodedHash) return false;
  if (encoded.find('\0') != std::string_view::npos) return false;
  encoded.copy(out, encoded.size());
  out[encoded.size()] = '\0';
  return true;
}

}  // namespace

Result<void, Errc> validate(const PasswordParams& params) {
  if (params.ops_limit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      params.ops_limit > crypto_pwhash_argon2id_OPSLIMIT_MAX) {
    return unexpected(Errc::InvalidParams);
  }
  if (params.mem_limit_bytes < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
      params.mem_limit_bytes > crypto_pwhash_argon2id_MEMLIMIT_MAX) {
    return unexpected(Errc::InvalidParams);
  }
  return {};
}

Result<std::string, Errc> hash_password(std::string_view password, const PasswordParams& params) {
  if (!init()) return unexpected(Errc::InitFailed);
  if (auto ok = validate(params); !ok) return unexpected(ok.error());
  char out[crypto_pwhash_argon2id_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), params.ops_limit,
                            params.mem_limit_bytes, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return unexpected(Errc::HashFailed);
  }
  return std::string(out);
}

bool verify_password(std::string_view encoded_hash, std::string_view password) noexcept {
  if (!init()) return false;
  char buf[crypto_pwhash_argon2id_STRBYTES];
  if (!to_c_string(encoded_hash, buf)) return false;
  // Accepts $argon2i$ too, so legacy hashes still verify and needs_rehash() upgrades them.
  return crypto_pwhash_str_verify(buf, password.data(), password.size()) == 0;
}

bool needs_rehash(std::string_view encoded_hash, const PasswordParams& params) noexcept {
  if (!init()) return true;
  if (!validate(params)) return true;
  char buf[crypto_pwhash_argon2id_STRBYTES];
  if (!to_c_string(encoded_hash, buf)) return true;
  // The argon2id-specific call answers -1 for $argon2i$ strings, which we want upgraded too.
  return crypto_pwhash_argon2id_str_needs_rehash(buf, params.ops_limit, params.mem_limit_bytes) !=
         0;
}

Result<std::string, Errc> dummy_hash(const PasswordParams& params) {
  static std::mutex mutex;
  static std::map<std::pair<std::uint64_t, std::size_t>, std::string> cache;

  const auto key = std::make_pair(params.ops_limit, params.mem_limit_bytes);
  // Hashing under the lock is deliberate: concurrent first logins then cost one Argon2
  // computation, not one each. It happens once per params per process.
  std::lock_guard lock(mutex);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  // The password is random and dropped, so the dummy can never match anything a client sends.
  const Secret password = Secret::random(32);
  auto hashed = hash_password(password.view(), params);
  if (!hashed) return unexpected(hashed.error());
  return cache.emplace(key, std::move(hashed).value()).first->second;
}

}  // namespace authd::crypto
