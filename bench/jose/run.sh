#!/usr/bin/env bash
# Compares authd::jose single-threaded sign/verify throughput with `openssl speed` for the
# same algorithms, in one run on the same machine.
#
# Usage: bench/jose/run.sh [build-dir] [seconds] [rounds]     defaults: build-jose, 3, 1
#
# Both sides count operations per second of CPU time (openssl speed's default; our bench uses
# CLOCK_THREAD_CPUTIME_ID), so other work on the machine does not bias the ratio much. For
# each algorithm the two run back to back; with rounds > 1 each figure is the best of the
# rounds. Builds authd_jose_bench through CMake when the top-level CMakeLists
# includes bench/; otherwise compiles bench/jose/jose_bench.cpp here against the built
# static libraries.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${1:-$ROOT/build-jose}"
SECS="${2:-3}"
ROUNDS="${3:-1}"
if ! [[ "$SECS" =~ ^[1-9][0-9]*$ && "$ROUNDS" =~ ^[1-9][0-9]*$ ]]; then
  echo "seconds and rounds must be positive integers (openssl speed takes whole seconds)" >&2
  exit 2
fi

if [[ ! -f "$BUILD/build.ninja" && ! -f "$BUILD/Makefile" ]]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja >/dev/null
fi
if cmake --build "$BUILD" --target help 2>/dev/null | grep -q '^authd_jose_bench'; then
  cmake --build "$BUILD" --target authd_jose_bench -j1 >/dev/null
  BENCH="$BUILD/bench/jose/authd_jose_bench"
else
  cmake --build "$BUILD" --target authd_jose -j1 >/dev/null
  BENCH="$BUILD/bench-jose/authd_jose_bench"
  mkdir -p "$(dirname "$BENCH")"
  g++ -std=c++20 -O2 -Wall -Wextra -Wpedantic -I"$ROOT/include" \
    "$ROOT/bench/jose/jose_bench.cpp" \
    "$BUILD/src/jose/libauthd_jose.a" "$BUILD/src/core/libauthd_core.a" -lcrypto \
    -o "$BENCH"
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

declare -A SPEED_NAME=([RS256]=rsa2048 [ES256]=ecdsap256 [EdDSA]=ed25519)
declare -A SPEED_LINE=([RS256]='^rsa 2048 bits' [ES256]='ecdsa \\(nistp256\\)'
                       [EdDSA]='EdDSA \\(Ed25519\\)')
ALGS=(RS256 ES256 EdDSA)

# Per round and algorithm: one line "<alg> <ossl sign> <ossl verify> <tok sign> <tok verify>
# <raw sign> <raw verify>" in $TMP/rounds.txt.
for ((round = 1; round <= ROUNDS; round++)); do
  for alg in "${ALGS[@]}"; do
    echo "round $round/$ROUNDS: openssl speed -seconds $SECS ${SPEED_NAME[$alg]}; authd_jose_bench $SECS $alg" >&2
    ossl="$(openssl speed -seconds "$SECS" "${SPEED_NAME[$alg]}" 2>/dev/null |
      awk -v pat="${SPEED_LINE[$alg]}" '$0 ~ pat { print $(NF-1), $NF }')"
    ours="$("$BENCH" "$SECS" "$alg" | cut -d' ' -f2-)"
    echo "$alg $ossl $ours" >>"$TMP/rounds.txt"
  done
done

# Best of the rounds, per algorithm and column.
awk '{ for (i = 2; i <= 7; i++) if ($i > best[$1, i]) best[$1, i] = $i; seen[$1] = 1 }
     END { n = split("RS256 ES256 EdDSA", order, " ");
           for (k = 1; k <= n; k++) { a = order[k]; if (!(a in seen)) continue;
             printf "%s", a; for (i = 2; i <= 7; i++) printf " %s", best[a, i]; printf "\n" } }' \
  "$TMP/rounds.txt" >"$TMP/best.txt"

echo
echo "$(openssl version) | $(nproc) CPUs | load avg $(cut -d' ' -f1-3 /proc/loadavg) |" \
  "${SECS}s per measurement | best of $ROUNDS round(s)"
table() {  # $1 = title, $2/$3 = columns of best.txt holding our sign/verify rates
  printf '\n%s\n' "$1"
  printf '%-6s | %13s | %15s | %5s | %15s | %17s | %5s\n' \
    alg "ours sign/s" "openssl sign/s" ratio "ours verify/s" "openssl verify/s" ratio
  printf '%s\n' "-------+---------------+-----------------+-------+-----------------+-------------------+------"
  awk -v sc="$2" -v vc="$3" '{
    printf "%-6s | %13.0f | %15.0f | %5.2f | %15.0f | %17.0f | %5.2f\n",
      $1, $sc, $2, $sc / $2, $vc, $3, $vc / $3 }' "$TMP/best.txt"
}
table "Full path: sign() = JSON + base64url + signature; verify() = parse + policy + signature + claims" 4 5
table "Signature only: sign_bytes() / verify_bytes() on the same signing input" 6 7
