#!/usr/bin/env bash
# /login and /refresh on Postgres, each next to a reference measured in the same run:
#   /refresh  vs pgbench calling the same rotation function, prepared as authd prepares it,
#             with as many DB connections as authd's pool; ROUNDS alternating rounds of each,
#             medians compared, in two placements on this machine:
#               shared  every process on every core (authd and wrk compete with Postgres)
#               split   Postgres (primary and standby) on CPU 0, authd, wrk and pgbench on
#                       CPU 1: the database on hardware of its own, as in a deployment
#   /login    vs the Argon2id hash rate of this machine (authd_hashrate_bench: libsodium's
#             crypto_pwhash and authd's own, on as many threads as cores), likewise in ROUNDS
#             alternating rounds, medians compared
# Usage: bench/auth/run.sh [BUILD_DIR] [DURATION_S]
#   env ROUNDS (default 3); HASH_S, seconds per hash-rate cell (default 3); LOGIN_ONLY=1 skips
#   the /refresh benchmarks; HASHRATE, the hash-rate probe to use (default BUILD_DIR's; set it
#   to a current build's when BUILD_DIR is an older authd, for a before/after comparison)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${1:-build}; DUR=${2:-10}; ROUNDS=${ROUNDS:-3}
command -v wrk >/dev/null && command -v pgbench >/dev/null 2>&1 || scripts/deps all
PGBENCH=$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)
cmake --build "$BUILD" --target authd authctl authd_hashrate_bench >/dev/null

. bench/lib.sh
work=$(mktemp -d /tmp/authd-bench-auth.XXXXXX)
chmod 755 "$work"
authd_pid=""
cleanup() {
  stop_authd
  "$ROOT/scripts/services" down "$work/svc" >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
POOL=16; CONNS=64; THREADS=$(nproc)
pg_setup
PIN=()  # the taskset prefix of authd and the load generators: none (shared) or CPU 1 (split)
start_authd

# --- /login vs Argon2id hash rate (both cores), ROUNDS alternating rounds ---
login_rounds "$THREADS"
l_rps=$login_rps l_p50=$login_p50 l_p99=$login_p99 l_err=$login_err h_rate=$sodium_rate o_rate=$authd_rate
if [ -n "${LOGIN_ONLY:-}" ]; then
  printf '\n%s cores, worker threads %s\n| benchmark | authd | reference (same run) | ratio |\n|---|---|---|---|\n' \
    "$(nproc)" "$((4 * THREADS))"
  printf '| /login (wrk -c16) | %.0f req/s, p50 %.1f ms, p99 %.1f ms (p99/p50 %.2f), %d errors | libsodium Argon2id, %d threads: %.0f/s (authd Argon2id: %.0f/s) | %.2f |\n' \
    "$l_rps" "$l_p50" "$l_p99" "$(div "$l_p99" "$l_p50")" "$l_err" \
    "$THREADS" "$h_rate" "$o_rate" "$(div "$l_rps" "$h_rate")"
  exit 0
fi

# --- /refresh vs pgbench on the same rotation function ---
refresh_rounds shared
# The same with shared rate limits in Redis (limits high enough never to deny), for the cost
# of the checks themselves: one EVALSHA per limit on the request path.
start_authd AUTHD_LIMITS_ENABLED=true AUTHD_REDIS_URL="$AUTHD_TEST_REDIS_URL" \
  AUTHD_LIMITS_REFRESH_PER_IP=1000000/1000000 AUTHD_LIMITS_REFRESH_PER_FAMILY=1000000/1000000 \
  AUTHD_LIMITS_LOGIN_PER_IP=1000000/1000000 AUTHD_LIMITS_LOGIN_PER_ACCOUNT=1000000/1000000
read -r rl_rps rl_p50 rl_p99 rl_err <<<"$(run_refresh)"
wrk -t2 -c16 -d"${DUR}s" --latency -s bench/auth/login.lua "$URL/login" > "$work/login_rl.out" 2>&1
read -r ll_rps ll_p50 ll_p99 ll_err <<<"$(wrk_stats "$work/login_rl.out")"
split_refresh_rounds

printf '\nPostgres 15 on loopback (sync standby attached), %s cores, authd pool %s, worker threads %s\n' \
  "$(nproc)" "$POOL" "$((4 * THREADS))"
printf '| benchmark | authd | reference (same run) | ratio |\n|---|---|---|---|\n'
printf '| /login (wrk -c16) | %.0f req/s, p50 %.1f ms, p99 %.1f ms (p99/p50 %.2f), %d errors | libsodium Argon2id, %d threads: %.0f/s (authd Argon2id: %.0f/s) | %.2f |\n' \
  "$l_rps" "$l_p50" "$l_p99" "$(div "$l_p99" "$l_p50")" "$l_err" \
  "$THREADS" "$h_rate" "$o_rate" "$(div "$l_rps" "$h_rate")"
for t in shared split; do
  rps=${t}_rps p50=${t}_p50 p99=${t}_p99 err=${t}_err tps=${t}_tps lat=${t}_lat fail=${t}_fail
  pgp99=${t}_pgp99 wtps=${t}_wide_tps wp99=${t}_wide_p99 wfail=${t}_wide_fail
  printf '| /refresh (wrk -c%s), %s | %.0f req/s, p50 %.1f ms, p99 %.1f ms, %d errors | pgbench -M prepared -c%s, same function: %.0f tps, avg %s ms, p99 %s ms, failed %s; with -c%s: %.0f tps, p99 %s ms, failed %s | %.2f |\n' \
    "$CONNS" "$t" "${!rps}" "${!p50}" "${!p99}" "${!err}" "$POOL" "${!tps}" "${!lat}" "${!pgp99}" \
    "${!fail}" "$CONNS" "${!wtps}" "${!wp99}" "${!wfail}" "$(div "${!rps}" "${!tps}")"
done
printf '| /login + Redis rate limits (2 checks + back-off peek) | %.0f req/s, p50 %.1f ms, p99 %.1f ms, %d errors | /login without limits (above) | %.2f |\n' \
  "$ll_rps" "$ll_p50" "$ll_p99" "$ll_err" "$(div "$ll_rps" "$l_rps")"
# shellcheck disable=SC2154  # shared_rps comes from refresh_rounds (printf -v)
printf '| /refresh + Redis rate limits (2 checks), shared | %.0f req/s, p50 %.1f ms, p99 %.1f ms, %d errors | /refresh without limits, shared (median above) | %.2f |\n' \
  "$rl_rps" "$rl_p50" "$rl_p99" "$rl_err" "$(div "$rl_rps" "$shared_rps")"
