#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

#include "authd/core/clock.h"
#include "authd/core/hex.h"

namespace authd {

void SystemRandom::fill(void* out, std::size_t n) {
  if (n == 0) return;
  // A CSPRNG failure leaves no safe way to continue issuing secrets.
  if (RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(n)) != 1) {
    std::fputs("fatal: RAND_bytes failed\n", stderr);
    std::abort();
  }
}

std::string make_uuid_v4(Random& random) {
  unsigned char b[16];
  random.fill(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    hex::append_byte(s, b[i]);
  }
  return s;
}

}  // namespace authd
