#include "authd/crypto/password.h"

#include <sodium.h>

#include <charconv>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "authd/crypto/init.h"
#include "authd/crypto/secret.h"
#include "crypto/argon2/argon2.h"

namespace authd::crypto {
namespace {

// What hash_password() writes, as libsodium's crypto_pwhash_str does.
constexpr std::size_t kSaltBytes = crypto_pwhash_argon2id_SALTBYTES;
constexpr std::size_t kTagBytes = 32;
// The longest salt and tag this parser takes; longer ones go to libsodium.
constexpr std::size_t kMaxSalt = 64;
constexpr std::size_t kMaxTag = 64;

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

// A PHC string "$argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<tag>" (or $argon2i$), base64
// without padding, as libsodium and the reference implementation write it.
struct Encoded {
  argon2::Params params;
  unsigned char salt[kMaxSalt];
  std::size_t salt_len = 0;
  unsigned char tag[kMaxTag];
  std::size_t tag_len = 0;
};

bool consume(std::string_view& s, std::string_view prefix) {
  if (!s.starts_with(prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

// A decimal without sign or leading zero that fits 32 bits.
bool consume_u32(std::string_view& s, std::uint32_t& out) {
  if (s.empty() || (s[0] == '0' && s.size() > 1 && s[1] >= '0' && s[1] <= '9')) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end == s.data()) return false;
  s.remove_prefix(static_cast<std::size_t>(end - s.data()));
  return true;
}

// Strict base64 (standard alphabet, no padding, no stray bits) of at most `max` bytes.
bool decode_b64(std::string_view in, unsigned char* out, std::size_t max, std::size_t& len) {
  if (in.empty()) return false;
  const char* end = nullptr;
  if (sodium_base642bin(out, max, in.data(), in.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0) {
    return false;
  }
  return end == in.data() + in.size();
}

std::optional<Encoded> parse(std::string_view s) {
  Encoded e;
  if (consume(s, "$argon2id$")) {
    e.params.type = argon2::Type::kArgon2id;
  } else if (consume(s, "$argon2i$")) {
    e.params.type = argon2::Type::kArgon2i;
  } else {
    return std::nullopt;
  }
  if (!consume(s, "v=19$m=") || !consume_u32(s, e.params.m_cost_kib) || !consume(s, ",t=") ||
      !consume_u32(s, e.params.t_cost) || !consume(s, ",p=") || !consume_u32(s, e.params.lanes) ||
      !consume(s, "$")) {
    return std::nullopt;
  }
  const auto dollar = s.find('$');
  if (dollar == std::string_view::npos) return std::nullopt;
  if (!decode_b64(s.substr(0, dollar), e.salt, kMaxSalt, e.salt_len) ||
      !decode_b64(s.substr(dollar + 1), e.tag, kMaxTag, e.tag_len)) {
    return std::nullopt;
  }
  const argon2::Inputs in{.password = {}, .salt = {e.salt, e.salt_len}};
  if (!argon2::valid(e.params, in, e.tag_len)) return std::nullopt;
  return e;
}

std::string encode(const argon2::Params& p, std::span<const unsigned char> salt,
                   std::span<const unsigned char> tag) {
  std::string out = "$argon2id$v=19$m=" + std::to_string(p.m_cost_kib) +
                    ",t=" + std::to_string(p.t_cost) + ",p=" + std::to_string(p.lanes) + "$";
  char b64[sodium_base64_ENCODED_LEN(kMaxTag, sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
  out += sodium_bin2base64(b64, sizeof b64, salt.data(), salt.size(),
                           sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  out += '$';
  out += sodium_bin2base64(b64, sizeof b64, tag.data(), tag.size(),
                           sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  return out;
}

std::span<const unsigned char> byte_span(std::string_view s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
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
  // The same parameters libsodium's crypto_pwhash_str_alg derives: m in KiB, one lane.
  const argon2::Params p{.type = argon2::Type::kArgon2id,
                         .t_cost = static_cast<std::uint32_t>(params.ops_limit),
                         .m_cost_kib = static_cast<std::uint32_t>(params.mem_limit_bytes / 1024),
                         .lanes = 1};
  unsigned char salt[kSaltBytes];
  randombytes_buf(salt, sizeof salt);
  unsigned char tag[kTagBytes];
  if (!argon2::hash(p, {.password = byte_span(password), .salt = salt}, tag)) {
    return unexpected(Errc::HashFailed);
  }
  std::string out = encode(p, salt, tag);
  sodium_memzero(tag, sizeof tag);
  return out;
}

bool verify_password(std::string_view encoded_hash, std::string_view password) noexcept {
  if (!init()) return false;
  if (auto e = parse(encoded_hash)) {
    unsigned char tag[kMaxTag];
    const bool computed =
        argon2::hash(e->params, {.password = byte_span(password), .salt = {e->salt, e->salt_len}},
                     {tag, e->tag_len});
    // Constant time: how much of the tag matched says nothing.
    const bool ok = computed && sodium_memcmp(tag, e->tag, e->tag_len) == 0;
    sodium_memzero(tag, sizeof tag);
    return ok;
  }
  // Anything else libsodium may still read (older spellings of the format): it decides.
  char buf[crypto_pwhash_argon2id_STRBYTES];
  if (!to_c_string(encoded_hash, buf)) return false;
  return crypto_pwhash_str_verify(buf, password.data(), password.size()) == 0;
}

bool needs_rehash(std::string_view encoded_hash, const PasswordParams& params) noexcept {
  if (!validate(params)) return true;
  const auto e = parse(encoded_hash);
  // Not Argon2id (a legacy $argon2i$ still verifies, but is upgraded), or other costs.
  return !e || e->params.type != argon2::Type::kArgon2id || e->params.t_cost != params.ops_limit ||
         e->params.m_cost_kib != params.mem_limit_bytes / 1024 || e->params.lanes != 1;
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
