#!/usr/bin/env bash
# Builds and runs the Argon2id hash-rate probe against the crypto module's static libraries.
# Usage: bench/crypto/run.sh [build_dir=build-crypto] [hashrate args...]
#   hashrate args: [seconds_per_run=2] [max_threads=2] [ops_limit=2] [mem_limit_bytes=19922944]
#                  [rounds=3]
# Prints authd's Argon2id against libsodium's, 1..max_threads, alternating rounds, medians and
# ratios (authd / libsodium, 2 threads / 1).
# Numbers are only meaningful on an otherwise idle machine.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-${root}/build-crypto}"
[[ "${build}" = /* ]] || build="${root}/${build}"
shift || true

crypto_lib="${build}/src/crypto/libauthd_crypto.a"
core_lib="${build}/src/core/libauthd_core.a"
# Other modules' in-progress CMake files can break regeneration; stale but present libraries
# are still good enough for a hash-rate probe, so only a missing library is fatal.
if ! cmake --build "${build}" --target authd_crypto authd_core >/dev/null 2>&1; then
  echo "warning: could not rebuild ${build}; using existing libraries" >&2
  [[ -f "${crypto_lib}" && -f "${core_lib}" ]] || { echo "error: libraries missing" >&2; exit 1; }
fi
out="${build}/bench/crypto"
mkdir -p "${out}"
g++ -std=c++20 -O2 -Wall -Wextra -Wpedantic -pthread \
  -I "${root}/include" -I "${root}/src" \
  "${root}/bench/crypto/hashrate.cpp" \
  "${crypto_lib}" "${core_lib}" \
  -lsodium -lcrypto \
  -o "${out}/hashrate"
exec "${out}/hashrate" "$@"
