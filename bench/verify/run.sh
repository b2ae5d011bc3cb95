#!/usr/bin/env bash
# authd::verify under load: verify throughput per core of the built shared library with a
# warm JWKS cache (1 and 2 threads), as a ratio to `openssl speed` verify measured in the same
# run, and verify() latency with many threads while the cache refreshes.
#
# Usage: bench/verify/run.sh [build-dir] [seconds] [rounds] [latency-threads]
#        defaults: build, 3, 3, 1000
#
# Throughput figures are verifications per second of CPU time on both sides (openssl speed's
# default; ours sums CLOCK_THREAD_CPUTIME_ID over the threads), so other work on the machine
# does not bias the ratio much; "2 threads" is per core, so a ratio near the 1-thread one means
# the threads do not slow each other down. Each figure is the median of the rounds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${1:-$ROOT/build}"
SECS="${2:-3}"
ROUNDS="${3:-3}"
LAT_THREADS="${4:-1000}"
if ! [[ "$SECS" =~ ^[1-9][0-9]*$ && "$ROUNDS" =~ ^[1-9][0-9]*$ && "$LAT_THREADS" =~ ^[1-9][0-9]*$ ]]; then
  echo "seconds, rounds and threads must be positive integers (openssl speed takes whole seconds)" >&2
  exit 2
fi

if [[ ! -f "$BUILD/build.ninja" && ! -f "$BUILD/Makefile" ]]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD" --target authd_verify_bench -j1 >/dev/null
BENCH="$BUILD/bench/verify/authd_verify_bench"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

declare -A SPEED_NAME=([RS256]=rsa2048 [ES256]=ecdsap256 [EdDSA]=ed25519)
declare -A SPEED_LINE=([RS256]='^rsa 2048 bits' [ES256]='ecdsa \\(nistp256\\)'
                       [EdDSA]='EdDSA \\(Ed25519\\)')
ALGS=(ES256 RS256 EdDSA)

# Per round and algorithm: "<alg> <openssl verify/s> <1 thread/s> <2 threads per core/s>
# <2 threads wall/s>" in throughput.txt; per round and class: "<class> <calls> <p50> <p99>
# <max>" in latency.txt, and "fetches <n> rotations <n> rejected <n>" in fetches.txt.
for ((round = 1; round <= ROUNDS; round++)); do
  for alg in "${ALGS[@]}"; do
    echo "round $round/$ROUNDS: openssl speed -seconds $SECS ${SPEED_NAME[$alg]};" \
      "authd_verify_bench throughput $SECS $alg 1 and 2" >&2
    ossl="$(openssl speed -seconds "$SECS" "${SPEED_NAME[$alg]}" 2>/dev/null |
      awk -v pat="${SPEED_LINE[$alg]}" '$0 ~ pat { print $NF }')"
    one="$("$BENCH" throughput "$SECS" "$alg" 1 | cut -d' ' -f3)"
    two="$("$BENCH" throughput "$SECS" "$alg" 2 | cut -d' ' -f3-4)"
    echo "$alg $ossl $one $two" >>"$TMP/throughput.txt"
  done
  echo "round $round/$ROUNDS: authd_verify_bench latency $((2 * SECS)) $LAT_THREADS" >&2
  "$BENCH" latency "$((2 * SECS))" "$LAT_THREADS" >"$TMP/lat.txt" || {
    cat "$TMP/lat.txt" >&2
    echo "valid tokens were rejected during the refresh" >&2
    exit 1
  }
  grep -v '^fetches' "$TMP/lat.txt" >>"$TMP/latency.txt"
  grep '^fetches' "$TMP/lat.txt" >>"$TMP/fetches.txt"
done

# Median per key (first field) and column.
median() {
  awk '{ k = $1; if (!(k in seen)) { order[++n] = k; seen[k] = 1 }
         c[k]++; for (i = 2; i <= NF; i++) v[k, i, c[k]] = $i; nf[k] = NF }
       END { for (j = 1; j <= n; j++) { k = order[j]; printf "%s", k
               for (i = 2; i <= nf[k]; i++) {
                 m = c[k]; delete a
                 for (r = 1; r <= m; r++) a[r] = v[k, i, r]
                 for (x = 1; x <= m; x++) for (y = x + 1; y <= m; y++)
                   if (a[y] + 0 < a[x] + 0) { t = a[x]; a[x] = a[y]; a[y] = t }
                 printf " %s", (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
               printf "\n" } }' "$1"
}

echo
echo "$(openssl version) | $(nproc) CPUs | load avg $(cut -d' ' -f1-3 /proc/loadavg) |" \
  "${SECS}s per measurement | median of $ROUNDS round(s)"
echo
echo "Throughput: authd::verify Verifier::verify() (warm JwksCache) vs openssl speed verify"
printf '%-6s | %16s | %14s | %5s | %21s | %5s | %16s\n' alg "openssl verify/s" \
  "1 thread /s" ratio "2 threads /s per core" ratio "2 threads wall/s"
printf '%s\n' "-------+------------------+----------------+-------+-----------------------+-------+-----------------"
median "$TMP/throughput.txt" | awk '{
  printf "%-6s | %16.0f | %14.0f | %5.2f | %21.0f | %5.2f | %16.0f\n",
    $1, $2, $3, $3 / $2, $4, $4 / $2, $5 }'
echo
echo "Latency of verify() with $LAT_THREADS threads (ES256, 100 ms think time; $((2 * SECS)) s steady," \
  "then $((2 * SECS)) s with max-age=1, a new key every 1.5 s, 100 ms per fetch)"
printf '%-18s | %9s | %9s | %9s | %9s\n' calls count "p50 µs" "p99 µs" "max µs"
printf '%s\n' "-------------------+-----------+-----------+-----------+----------"
median "$TMP/latency.txt" | awk '{ printf "%-18s | %9d | %9.0f | %9.0f | %9.0f\n", $1, $2, $3, $4, $5 }'
median "$TMP/fetches.txt" | awk '{ printf "fetches during the refresh phase: %d, rotations: %d, valid tokens rejected: %d\n", $2, $4, $6 }'
