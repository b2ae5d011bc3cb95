// The hand-written raw R||S -> DER encoder must agree with OpenSSL's i2d_ECDSA_SIG on every
// shape of integer: leading zero bytes, top bit set (needs a 0x00 pad), tiny and maximal.

#include "jose/ecdsa_der.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>

#include <string>
#include <vector>

namespace authd::jose::detail {
namespace {

std::string openssl_der(const std::string& raw) {
  ECDSA_SIG* sig = ECDSA_SIG_new();
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  ECDSA_SIG_set0(sig, BN_bin2bn(p, 32, nullptr), BN_bin2bn(p + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

std::string ours(const std::string& raw) {
  std::array<unsigned char, kMaxEcdsaDer> der{};
  const std::size_t len = ecdsa_raw_to_der(reinterpret_cast<const unsigned char*>(raw.data()), der);
  return {reinterpret_cast<const char*>(der.data()), len};
}

TEST(JoseEcdsaDerTest, MatchesOpenSslForEdgeShapes) {
  std::vector<std::string> halves;
  halves.push_back(std::string(31, '\0') + "\x01");                  // 1
  halves.push_back(std::string(31, '\0') + "\x80");                  // 128: pad in one byte
  halves.push_back(std::string(1, '\0') + std::string(31, '\x7f'));  // leading zero, no pad
  halves.push_back(std::string(1, '\0') + std::string(31, '\x80'));  // leading zero, pad
  halves.push_back(std::string(5, '\0') + std::string(27, '\x42'));
  halves.push_back(std::string(32, '\x7f'));  // full, no pad
  halves.push_back(std::string(32, '\xff'));  // full, pad: 33 bytes
  halves.push_back(std::string("\x80") + std::string(31, '\0'));
  for (const auto& r : halves) {
    for (const auto& s : halves) {
      const std::string raw = r + s;
      EXPECT_EQ(ours(raw), openssl_der(raw));
    }
  }
}

}  // namespace
}  // namespace authd::jose::detail
