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

work=$(mktemp -d /tmp/authd-bench-auth.XXXXXX)
chmod 755 "$work"
authd_pid=""
cleanup() {
  [ -n "$authd_pid" ] && kill "$authd_pid" 2>/dev/null || true
  "$ROOT/scripts/services" down "$work/svc" >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
AUTHD_SERVICES_REPLICA=${AUTHD_SERVICES_REPLICA:-1} "$ROOT/scripts/services" up "$work/svc" 2>/dev/null
. "$work/svc/env"

POOL=16; CONNS=64; THREADS=$(nproc)
head -c32 /dev/urandom | base64 > "$work/kek"; head -c32 /dev/urandom | base64 > "$work/pepper"
chmod 600 "$work/kek" "$work/pepper"
export AUTHD_STORE_URL="$AUTHD_TEST_PG_URL" AUTHD_STORE_POOL_SIZE=$POOL \
  AUTHD_KEYS_KEK_FILE="$work/kek" AUTHD_AUTH_PEPPER_FILE="$work/pepper" \
  AUTHD_LOG_LEVEL=warn AUTHD_LOG_ACCESS_LOG=false AUTHD_SERVER_ADMIN_LISTEN=127.0.0.1:0 \
  AUTHD_LIMITS_ENABLED=${AUTHD_LIMITS_ENABLED:-false}
"$BUILD/authd" migrate >/dev/null
echo "bench-password-1" | "$BUILD/authctl" user add bench@example.com >/dev/null
PIN=()  # the taskset prefix of authd and the load generators: none (shared) or CPU 1 (split)
start_authd() {  # start_authd [ENV=VALUE...]: (re)starts authd with extra environment
  [ -n "$authd_pid" ] && { kill "$authd_pid"; wait "$authd_pid" 2>/dev/null || true; }
  PORT=$(( 24000 + RANDOM % 4000 ))
  "${PIN[@]}" env "$@" "$BUILD/authd" --listen "127.0.0.1:$PORT" > "$work/authd.log" 2>&1 &
  authd_pid=$!
  for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/.well-known/jwks.json" && break; sleep 0.1; done
  URL="http://127.0.0.1:$PORT"
}
start_authd

wrk_stats() {  # file -> "rps p50_ms p99_ms errors"
  awk '
    function ms(v) { if (v ~ /us$/) { sub(/us$/,"",v); return v/1000 } if (v ~ /ms$/) { sub(/ms$/,"",v); return v+0 } sub(/s$/,"",v); return v*1000 }
    /Requests\/sec/ { rps=$2 } $1=="50%" { p50=ms($2) } $1=="99%" { p99=ms($2) }
    /Non-2xx/ { err+=$NF } /Socket errors/ { err+=1 }
    END { printf "%s %.2f %.2f %d\n", rps, p50, p99, err }' "$1"
}

median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{v[NR]=$1} END {print v[int((NR + 1) / 2)]}'; }

# --- /login vs Argon2id hash rate (both cores), ROUNDS alternating rounds ---
wrk -t2 -c16 -d2s -s bench/auth/login.lua "$URL/login" >/dev/null 2>&1
l_all="" l50_all="" l99_all="" l_err=0 h_all="" o_all=""
for r in $(seq 1 "$ROUNDS"); do
  wrk -t2 -c16 -d"${DUR}s" --latency -s bench/auth/login.lua "$URL/login" > "$work/login.out" 2>&1
  read -r a b c d <<<"$(wrk_stats "$work/login.out")"
  l_all+="$a "; l50_all+="$b "; l99_all+="$c "; l_err=$((l_err + d))
  # One round of the hash-rate probe: libsodium and authd's Argon2id on 1..THREADS threads.
  "${HASHRATE:-$BUILD/bench/crypto/authd_hashrate_bench}" "${HASH_S:-3}" "$THREADS" 2 19922944 1 > "$work/hash.out"
  h=$(awk -v t="$THREADS" '$1=="libsodium" && $2==t {print $3}' "$work/hash.out"); h_all+="$h "
  o=$(awk -v t="$THREADS" '$1=="authd" && $2==t {print $3}' "$work/hash.out"); o_all+="$o "
  echo "  login round $r: /login $a req/s (p50 $b ms, p99 $c ms), Argon2id on $THREADS threads: libsodium $h/s, authd $o/s" >&2
done
l_rps=$(median <<<"$l_all"); l_p50=$(median <<<"$l50_all"); l_p99=$(median <<<"$l99_all")
h_rate=$(median <<<"$h_all"); o_rate=$(median <<<"$o_all")
if [ -n "${LOGIN_ONLY:-}" ]; then
  printf '\n%s cores, worker threads %s\n| benchmark | authd | reference (same run) | ratio |\n|---|---|---|---|\n' \
    "$(nproc)" "$((4 * THREADS))"
  printf '| /login (wrk -c16) | %.0f req/s, p50 %.1f ms, p99 %.1f ms (p99/p50 %.2f), %d errors | libsodium Argon2id, %d threads: %.0f/s (authd Argon2id: %.0f/s) | %.2f |\n' \
    "$l_rps" "$l_p50" "$l_p99" "$(awk -v a="$l_p99" -v b="$l_p50" 'BEGIN{print a/b}')" "$l_err" \
    "$THREADS" "$h_rate" "$o_rate" "$(awk -v a="$l_rps" -v b="$h_rate" 'BEGIN{print a/b}')"
  exit 0
fi

# --- /refresh vs pgbench on the same rotation function ---
run_refresh() {  # prints "rps p50 p99 errors"
: > "$work/tokens"
# wrk builds one request per connection that it then throws away, so each chain needs a spare.
for _ in $(seq 1 $((CONNS * 2))); do
  curl -s "$URL/login" -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com","password":"bench-password-1"}' |
    grep -o '"refresh_token":"[^"]*"' | cut -d'"' -f4 >> "$work/tokens"
done
WRK_THREADS=2 TOKENS_FILE="$work/tokens" "${PIN[@]}" wrk -t2 -c$CONNS -d"${DUR}s" --latency \
  -s bench/auth/refresh.lua "$URL/refresh" > "$work/refresh.out" 2>&1
wrk_stats "$work/refresh.out"
}
run_pgbench() {  # run_pgbench ROUND: prints "tps avg_ms failed"; each round has fresh chains
  local g=$(($1 * 1000000))  # token (client, g) is sha256('client:g')
  psql "$AUTHD_TEST_PG_URL" -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL
INSERT INTO sessions (id, user_id, client_id, created_at, last_used_at, absolute_expires_at, idle_expires_at)
SELECT gen_random_uuid(), (SELECT id FROM users LIMIT 1), 'authd', $g, 0, 4000000000, 4000000000
FROM generate_series(0, $POOL - 1);
INSERT INTO refresh_tokens (hash, session_id, generation, issued_at)
SELECT sha256(convert_to(n || ':$g', 'UTF8')), id, 1, 0
FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM sessions WHERE created_at = $g) s;
SQL
  "${PIN[@]}" "$PGBENCH" -n -M prepared -c $POOL -j 2 -T "$DUR" -D g=$g \
    -f bench/auth/pgbench_rotate.sql "$AUTHD_TEST_PG_URL" > "$work/pgbench.out" 2>&1
  awk '/^tps/ {t=$3} /latency average/ {l=$4} /number of failed transactions/ {f=$5}
       END {printf "%s %s %s\n", t, l, (f == "" ? 0 : f)}' "$work/pgbench.out"
}
pin_postgres() {  # pin_postgres CPULIST: the postmasters and every process they have forked
  local f pm c
  for f in "$work"/svc/pg/*/postmaster.pid; do
    pm=$(head -1 "$f")
    taskset -p -c "$1" "$pm" >/dev/null
    for c in $(pgrep -P "$pm"); do taskset -p -c "$1" "$c" >/dev/null 2>&1 || true; done
  done
}
pgbench_round=0
refresh_rounds() {  # refresh_rounds NAME: ROUNDS alternating rounds; sets NAME_* medians
  local r rps="" p50="" p99="" err=0 tps="" lat="" fail=0 a b c d
  for r in $(seq 1 "$ROUNDS"); do
    read -r a b c d <<<"$(run_refresh)"; rps+="$a "; p50+="$b "; p99+="$c "; err=$((err + d))
    pgbench_round=$((pgbench_round + 1))
    read -r a b c <<<"$(run_pgbench "$pgbench_round")"; tps+="$a "; lat+="$b "; fail=$((fail + ${c%.*}))
    echo "  $1 round $r: /refresh $(echo "$rps" | awk '{print $NF}') req/s, pgbench $(echo "$tps" | awk '{print $NF}') tps" >&2
  done
  printf -v "${1}_rps" %s "$(median <<<"$rps")"; printf -v "${1}_p50" %s "$(median <<<"$p50")"
  printf -v "${1}_p99" %s "$(median <<<"$p99")"; printf -v "${1}_err" %s "$err"
  printf -v "${1}_tps" %s "$(median <<<"$tps")"; printf -v "${1}_lat" %s "$(median <<<"$lat")"
  printf -v "${1}_fail" %s "$fail"
}
refresh_rounds shared
# The same with shared rate limits in Redis (limits high enough never to deny), for the cost
# of the checks themselves: one EVALSHA per limit on the request path.
start_authd AUTHD_LIMITS_ENABLED=true AUTHD_REDIS_URL="$AUTHD_TEST_REDIS_URL" \
  AUTHD_LIMITS_REFRESH_PER_IP=1000000/1000000 AUTHD_LIMITS_REFRESH_PER_FAMILY=1000000/1000000 \
  AUTHD_LIMITS_LOGIN_PER_IP=1000000/1000000 AUTHD_LIMITS_LOGIN_PER_ACCOUNT=1000000/1000000
read -r rl_rps rl_p50 rl_p99 rl_err <<<"$(run_refresh)"
wrk -t2 -c16 -d"${DUR}s" --latency -s bench/auth/login.lua "$URL/login" > "$work/login_rl.out" 2>&1
read -r ll_rps ll_p50 ll_p99 ll_err <<<"$(wrk_stats "$work/login_rl.out")"
# Split placement: Postgres keeps CPU 0, everything else runs on CPU 1.
pin_postgres 0
PIN=(taskset -c 1)
start_authd
refresh_rounds split
PIN=()
pin_postgres 0-$(( $(nproc) - 1 ))

printf '\nPostgres 15 on loopback (sync standby attached), %s cores, authd pool %s, worker threads %s\n' \
  "$(nproc)" "$POOL" "$((4 * THREADS))"
printf '| benchmark | authd | reference (same run) | ratio |\n|---|---|---|---|\n'
printf '| /login (wrk -c16) | %.0f req/s, p50 %.1f ms, p99 %.1f ms (p99/p50 %.2f), %d errors | libsodium Argon2id, %d threads: %.0f/s (authd Argon2id: %.0f/s) | %.2f |\n' \
  "$l_rps" "$l_p50" "$l_p99" "$(awk -v a="$l_p99" -v b="$l_p50" 'BEGIN{print a/b}')" "$l_err" \
  "$THREADS" "$h_rate" "$o_rate" "$(awk -v a="$l_rps" -v b="$h_rate" 'BEGIN{print a/b}')"
for t in shared split; do
  rps=${t}_rps p50=${t}_p50 p99=${t}_p99 err=${t}_err tps=${t}_tps lat=${t}_lat fail=${t}_fail
  printf '| /refresh (wrk -c%s), %s | %.0f req/s, p50 %.1f ms, p99 %.1f ms, %d errors | pgbench -M prepared -c%s, same function: %.0f tps, avg %s ms, failed %s | %.2f |\n' \
    "$CONNS" "$t" "${!rps}" "${!p50}" "${!p99}" "${!err}" "$POOL" "${!tps}" "${!lat}" "${!fail}" \
    "$(awk -v a="${!rps}" -v b="${!tps}" 'BEGIN{print a/b}')"
done
printf '| /login + Redis rate limits (2 checks + back-off peek) | %.0f req/s, p50 %.1f ms, p99 %.1f ms, %d errors | /login without limits (above) | %.2f |\n' \
  "$ll_rps" "$ll_p50" "$ll_p99" "$ll_err" "$(awk -v a="$ll_rps" -v b="$l_rps" 'BEGIN{print a/b}')"
printf '| /refresh + Redis rate limits (2 checks), shared | %.0f req/s, p50 %.1f ms, p99 %.1f ms, %d errors | /refresh without limits, shared (median above) | %.2f |\n' \
  "$rl_rps" "$rl_p50" "$rl_p99" "$rl_err" "$(awk -v a="$rl_rps" -v b="$shared_rps" 'BEGIN{print a/b}')"
