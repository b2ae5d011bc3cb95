#pragma once
// Shared fixtures for the jose tests: cached keys, token builders, RFC vectors.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>

#include "authd/core/base64url.h"
#include "authd/jose/jws.h"
#include "authd/jose/key.h"

namespace authd::jose::testing {

using json = nlohmann::json;

inline constexpr Alg kAllAlgs[] = {Alg::RS256, Alg::ES256, Alg::EdDSA};
/// A fixed "now" (2023-11-14T22:13:20Z): tests never read the clock.
inline constexpr std::int64_t kNow = 1'700'000'000;
inline constexpr const char* kIssuer = "https://auth.example.com";
inline constexpr const char* kAudience = "api://orders";

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A test vector from tests/testdata/jose/.
inline json load_vector(const std::string& name) {
  return json::parse(read_file(std::string(AUTHD_JOSE_TESTDATA_DIR) + "/" + name));
}

/// Fixed private test keys (tests/testdata/jose/test_keys.json, made with jwcrypto): tests
/// stay deterministic and skip slow RSA generation. `index` 0 is "ours", 1 an unrelated key.
inline KeyPtr fixed_key(Alg alg, int index) {
  static const json keys = load_vector("test_keys.json");
  auto key = Key::from_jwk(keys[std::string(to_string(alg))][index].dump());
  EXPECT_TRUE(key.has_value());
  return key.has_value() ? *key : nullptr;
}

/// Our signing key per algorithm, shared by all tests.
inline KeyPtr test_key(Alg alg) {
  static const KeyPtr keys[] = {fixed_key(Alg::RS256, 0), fixed_key(Alg::ES256, 0),
                                fixed_key(Alg::EdDSA, 0)};
  return keys[static_cast<int>(alg)];
}

/// A second, unrelated key per algorithm (an attacker's, or another issuer's).
inline KeyPtr other_key(Alg alg) {
  static const KeyPtr keys[] = {fixed_key(Alg::RS256, 1), fixed_key(Alg::ES256, 1),
                                fixed_key(Alg::EdDSA, 1)};
  return keys[static_cast<int>(alg)];
}

/// The public half of a key, as a resource server would hold it.
inline KeyPtr public_of(const KeyPtr& key) { return *Key::from_jwk_object(key->public_jwk()); }

inline std::string b64(std::string_view s) { return base64url::encode(s); }

/// Lookup that knows exactly one key, by kid; counts its calls (atomically: tests share one
/// lookup between threads, as a server shares its key ring).
struct CountingLookup {
  KeyPtr key;
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  KeyPtr operator()(std::string_view kid) const {
    ++*calls;
    return kid == key->kid() ? key : nullptr;
  }
};

inline KeyLookup lookup_for(const KeyPtr& key) { return CountingLookup{key}; }

/// Claims authd would issue, valid at kNow.
inline json good_claims() {
  return json{{"iss", kIssuer},    {"sub", "user-42"},   {"aud", kAudience},
              {"iat", kNow - 10},  {"nbf", kNow - 10},   {"exp", kNow + 600},
              {"jti", "2f6c0a4e"}, {"client_id", "cli"}, {"scope", "orders:read"}};
}

inline VerifyOptions good_options() {
  VerifyOptions o;
  o.issuer = kIssuer;
  o.audience = kAudience;
  return o;
}

/// A compact token from literal header and payload text, correctly signed by `key`, so that
/// a rejection can only come from what the test put in the header or payload.
inline std::string make_token(const Key& key, std::string_view header_text,
                              std::string_view payload_text) {
  std::string input = b64(header_text) + "." + b64(payload_text);
  auto sig = sign_bytes(key, input);
  EXPECT_TRUE(sig.has_value());
  return input + "." + b64(sig.has_value() ? *sig : std::string());
}

/// Header text as authd writes it for `key`, with `extra` members merged in.
inline std::string header_for(const Key& key, const json& extra = json::object()) {
  json h = {{"alg", to_string(key.alg())}, {"kid", key.kid()}, {"typ", "at+jwt"}};
  h.update(extra);
  return h.dump();
}

/// Splits a compact token into its three segments.
struct Parts {
  std::string header, payload, signature;
};
inline Parts split(const std::string& token) {
  const auto d1 = token.find('.');
  const auto d2 = token.find('.', d1 + 1);
  return {token.substr(0, d1), token.substr(d1 + 1, d2 - d1 - 1), token.substr(d2 + 1)};
}

inline std::string with_signature(const std::string& token, std::string_view raw_sig) {
  const Parts p = split(token);
  return p.header + "." + p.payload + "." + b64(raw_sig);
}

inline std::string raw_signature(const std::string& token) {
  return *base64url::decode(split(token).signature);
}

}  // namespace authd::jose::testing

namespace authd::jose {
/// gtest prints parameters with this (found by ADL) instead of raw bytes.
inline void PrintTo(Alg alg, std::ostream* os) { *os << to_string(alg); }
}  // namespace authd::jose
