// Single-threaded throughput of authd::jose sign and verify, per algorithm.
//
// The "token" figures run the full path a request takes: sign() builds header + claims JSON,
// base64url-encodes and signs; verify() parses, checks header policy, looks the key up,
// verifies the signature and checks exp/nbf/iat/iss/aud/typ. The "raw" figures run only
// sign_bytes()/verify_bytes() on the same signing input, i.e. the OpenSSL cost plus our
// per-call EVP_MD_CTX, to compare with `openssl speed`.
//
// Rates are per second of this thread's CPU time, like `openssl speed`, which divides by CPU
// user time unless given -elapsed: on a shared machine, time spent descheduled would
// otherwise count against one side only.
//
// Usage: authd_jose_bench [seconds-per-measurement [RS256|ES256|EdDSA ...]]
//        (defaults: 3 seconds, all three algorithms)
// Output: one line per algorithm:
//   <alg> <token sign/s> <token verify/s> <raw sign/s> <raw verify/s>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "authd/jose/jws.h"
#include "authd/jose/key.h"

namespace {

using authd::jose::Alg;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

constexpr std::int64_t kNow = 1'700'000'000;

// Runs `op` in batches until it has used `seconds` of CPU time; returns operations per second.
// Exits on the first failure: a benchmark of a failing path would be meaningless.
template <class Op>
double ops_per_second(double seconds, Op op) {
  for (int i = 0; i < 3; ++i) op();  // warm caches and OpenSSL's lazy fetches
  long long n = 0;
  const double start = thread_cpu_seconds();
  double elapsed = 0;
  do {
    for (int i = 0; i < 16; ++i) {
      if (!op()) {
        std::fprintf(stderr, "operation failed\n");
        std::exit(1);
      }
    }
    n += 16;
    elapsed = thread_cpu_seconds() - start;
  } while (elapsed < seconds);
  return static_cast<double>(n) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  const nlohmann::json claims = {{"iss", "https://auth.example.com"},
                                 {"sub", "5c0f7d1e-2f0e-4d6b-9c1a-8e3f2b7a9d10"},
                                 {"aud", "api://orders"},
                                 {"iat", kNow - 5},
                                 {"nbf", kNow - 5},
                                 {"exp", kNow + 600},
                                 {"jti", "0d9e4c8a-1b2f-4a3e-9f7d-6c5b4a3e2d1f"},
                                 {"client_id", "web-app"},
                                 {"scope", "orders:read orders:write"},
                                 {"sid", "7a1c9e2b-3d4f-4e5a-8b6c-9d0e1f2a3b4c"}};
  authd::jose::VerifyOptions opts;
  opts.issuer = "https://auth.example.com";
  opts.audience = "api://orders";

  std::vector<Alg> algs;
  for (int i = 2; i < argc; ++i) {
    const auto alg = authd::jose::alg_from_string(argv[i]);
    if (!alg) {
      std::fprintf(stderr, "unknown algorithm %s\n", argv[i]);
      return 2;
    }
    algs.push_back(*alg);
  }
  if (algs.empty()) algs = {Alg::RS256, Alg::ES256, Alg::EdDSA};

  for (Alg alg : algs) {
    const auto key = authd::jose::Key::generate(alg);
    if (!key) return 1;
    const auto pub = authd::jose::Key::from_jwk_object((*key)->public_jwk());
    if (!pub) return 1;
    const authd::jose::KeyPtr verifier = *pub;
    const authd::jose::KeyLookup lookup = [&verifier](std::string_view kid) {
      return kid == verifier->kid() ? verifier : nullptr;
    };
    const std::string token = *authd::jose::sign(**key, claims);
    const std::string input = token.substr(0, token.rfind('.'));
    const std::string raw_sig = *authd::jose::sign_bytes(**key, input);

    const double sign_s =
        ops_per_second(seconds, [&] { return authd::jose::sign(**key, claims).has_value(); });
    const double verify_s = ops_per_second(
        seconds, [&] { return authd::jose::verify(token, lookup, kNow, opts).has_value(); });
    const double raw_sign_s =
        ops_per_second(seconds, [&] { return authd::jose::sign_bytes(**key, input).has_value(); });
    const double raw_verify_s = ops_per_second(
        seconds, [&] { return authd::jose::verify_bytes(*verifier, input, raw_sig).has_value(); });
    std::printf("%s %.1f %.1f %.1f %.1f\n", std::string(authd::jose::to_string(alg)).c_str(),
                sign_s, verify_s, raw_sign_s, raw_verify_s);
    std::fflush(stdout);
  }
  return 0;
}
