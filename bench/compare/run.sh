#!/usr/bin/env bash
# Every headline figure of authd next to its reference, measured in one run on one machine, on
# the README's set-up (Postgres 15 primary + synchronous standby and Redis on loopback, ES256),
# printed as one markdown table with the targets (bench/compare/README.md says how to read it):
#   GET /healthz, GET /.well-known/jwks.json   vs nginx returning the same bytes (wrk, c64, c1024)
#   POST /refresh                              vs pgbench of the same rotation function
#   POST /login                                vs libsodium's Argon2id rate on every core, and
#                                              vs the Node peer's (@node-rs/argon2, node-argon2/)
#   Argon2id 2 threads / 1 thread, RSS, ready time, and a per-core scaling section.
# Each comparison runs ROUNDS alternating rounds of both sides; the table shows medians.
# Usage: bench/compare/run.sh [BUILD_DIR] [DURATION_S]
#   env ROUNDS (default 3); HASH_S, seconds per hash-rate cell (default 2); LOGINS_PER_S and
#   REFRESHES_PER_S, the load the replica estimate is for (default 1000 and 10000); POOL_SIZES,
#   the store.pool_size values of the /refresh pool section (default "4 16").
# Progress goes to stderr, the table to stdout and to BUILD_DIR/bench-compare.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${1:-build}; DUR=${2:-10}; ROUNDS=${ROUNDS:-3}; HASH_S=${HASH_S:-2}
LOGINS=${LOGINS_PER_S:-1000}; REFRESHES=${REFRESHES_PER_S:-10000}
for tool in wrk nginx pgbench taskset; do command -v "$tool" >/dev/null || { scripts/deps all; break; }; done
PGBENCH=$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)
cmake --build "$BUILD" --target authd authctl authd_hashrate_bench >/dev/null
# shellcheck source=bench/lib.sh
. bench/lib.sh
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 2200 ] || { echo "bench/compare: wrk -c1024 needs ulimit -n >= 2200" >&2; exit 1; }

work=$(mktemp -d /tmp/authd-bench-compare.XXXXXX)
chmod 755 "$work"
authd_pid="" NGINX_PID=""
cleanup() {
  stop_authd
  [ -z "$NGINX_PID" ] || { kill "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; }
  "$ROOT/scripts/services" down "$work/svc" >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
started=$SECONDS
say() { echo "[$((SECONDS - started))s] $*" >&2; }

POOL=16; CONNS=64; NPROC=$(nproc)
# /healthz and /readyz on the public listener, as on a replica behind a balancer. All load
# comes from 127.0.0.1, so the per-address connection cap (256) is lifted as for a trusted
# balancer: otherwise authd turns away 768 of wrk's 1024 connections and nginx does not.
export AUTHD_SERVER_ADMIN_LISTEN=shared AUTHD_KEYS_ALGORITHM=ES256 \
  AUTHD_SERVER_MAX_CONNECTIONS_PER_ADDRESS=0
say "starting Postgres (primary + sync standby) and Redis"
pg_setup
PIN=()
start_authd
rss() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$authd_pid/status"; }
sleep 1  # let start-up settle before the idle figure
rss_idle=$(rss)

# --- /refresh vs pgbench (shared placement), /login vs libsodium; RSS after each, first, so
# that the figures are those loads' alone ---
say "POST /refresh vs pgbench, shared placement"
refresh_rounds shared
rss_refresh=$(rss)
say "POST /login vs Argon2id hash rate"
login_rounds "$NPROC"
rss_login=$(rss)

# --- GET routes: authd vs nginx with the same bytes; RSS after those too ---
say "GET /healthz and JWKS vs nginx ($NPROC workers), c64 and c1024"
nport=$(free_port $((PORT + 1)))
nginx_mirror "$work/nginx" "$nport" "$NPROC" "$URL" /healthz /.well-known/jwks.json
NGINX_URL="http://127.0.0.1:$nport"
declare -A got=()  # "route conns server" -> the rounds' req/s; "... p99" -> their p99s
get_wrk() {  # get_wrk ROUTE CONNS SERVER BASE_URL
  wrk -t2 -c"$2" -d"${DUR}s" --latency "$4$1" > "$work/get.out" 2>&1
  local rps p50 p99 err
  read -r rps p50 p99 err <<<"$(wrk_stats "$work/get.out")"
  [ "$err" = 0 ] || echo "  $3 $1 at c$2: $(grep -E 'Non-2xx|Socket errors' "$work/get.out" | xargs)" >&2
  got["$1 $2 $3"]+="$rps "; got["$1 $2 $3 p99"]+="$p99 "
}
for c in 64 1024; do
  for route in /healthz /.well-known/jwks.json; do
    wrk -t2 -c"$c" -d1s "$URL$route" >/dev/null 2>&1; wrk -t2 -c"$c" -d1s "$NGINX_URL$route" >/dev/null 2>&1
  done
done
for r in $(seq 1 "$ROUNDS"); do
  for c in 64 1024; do
    for route in /healthz /.well-known/jwks.json; do
      if [ $((r % 2)) = 1 ]; then  # alternate which server meets the machine first
        get_wrk "$route" "$c" authd "$URL"; get_wrk "$route" "$c" nginx "$NGINX_URL"
      else
        get_wrk "$route" "$c" nginx "$NGINX_URL"; get_wrk "$route" "$c" authd "$URL"
      fi
    done
  done
  say "  GET round $r done"
done
kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=""
rss_get=$(rss)
rss_peak=$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$authd_pid/status")

say "POST /refresh vs pgbench, split placement"
split_refresh_rounds

# --- /refresh by store.pool_size, shared placement: Postgres connections beyond the cores it
# has only queue in its scheduler; authd batches the rotations waiting for a connection ---
POOL_SIZES=(${POOL_SIZES:-4 $POOL})
say "POST /refresh with store.pool_size ${POOL_SIZES[*]}"
declare -A by_pool=()
for r in $(seq 1 "$ROUNDS"); do
  for p in "${POOL_SIZES[@]}"; do
    start_authd AUTHD_STORE_POOL_SIZE="$p"
    read -r a b c d <<<"$(run_refresh)"
    by_pool["$p rps"]+="$a "; by_pool["$p p50"]+="$b "; by_pool["$p p99"]+="$c "; by_pool["$p err"]=$((${by_pool["$p err"]:-0} + d))
    say "  pool round $r, pool $p: /refresh $a req/s, p99 $c ms"
  done
done
stop_authd

# --- Ready time: exec of authd to the first 200 on /readyz, 5 starts ---
say "ready time, 5 starts"
stop_authd
ready_all=""
for _ in 1 2 3 4 5; do
  PORT=$(free_port $((24000 + RANDOM % 4000)))
  t0=$EPOCHREALTIME
  "$BUILD/authd" --listen "127.0.0.1:$PORT" > "$work/authd.log" 2>&1 &
  authd_pid=$!
  until curl -fs -o /dev/null "http://127.0.0.1:$PORT/readyz"; do
    kill -0 "$authd_pid" 2>/dev/null || { tail -5 "$work/authd.log" >&2; exit 1; }
    [ "${EPOCHREALTIME%.*}" -lt $((${t0%.*} + 30)) ] || { echo "bench/compare: authd not ready in 30 s" >&2; exit 1; }
    sleep 0.005
  done
  ready_all+="$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }') "
  stop_authd
done
ready_ms=$(median <<<"$ready_all")

# --- Scaling: authd on 1, 2, 4, ... cores (taskset), as many I/O threads ---
# Hash slots are one per core of the machine whatever the affinity (there is no setting for
# them), so on k cores the hashes share those k cores: /login at k cores is the hash rate of k.
cores=(); for ((k = 1; k <= NPROC; k *= 2)); do cores+=("$k"); done
[ "${cores[-1]}" = "$NPROC" ] || cores+=("$NPROC")
say "scaling: authd on ${cores[*]} cores"
declare -A sc=()
for r in $(seq 1 "$ROUNDS"); do
  for k in "${cores[@]}"; do
    PIN=(taskset -c "0-$((k - 1))")
    start_authd AUTHD_SERVER_THREADS="$k"
    PIN=()  # the load generators and Postgres stay on every core
    wrk -t2 -c64 -d"${DUR}s" --latency "$URL/healthz" > "$work/scale.out" 2>&1
    sc["$k healthz"]+="$(wrk_stats "$work/scale.out" | cut -d' ' -f1) "
    sc["$k refresh"]+="$(run_refresh | cut -d' ' -f1) "
    wrk -t2 -c16 -d"${DUR}s" --latency -s bench/auth/login.lua "$URL/login" > "$work/scale.out" 2>&1
    sc["$k login"]+="$(wrk_stats "$work/scale.out" | cut -d' ' -f1) "
    say "  scaling round $r, $k cores: /healthz $(echo "${sc["$k healthz"]}" | awk '{print $NF}'), /refresh $(echo "${sc["$k refresh"]}" | awk '{print $NF}'), /login $(echo "${sc["$k login"]}" | awk '{print $NF}') req/s"
  done
done
stop_authd

# --- the table ---
met() {  # met VALUE OP LIMIT [VALUE OP LIMIT]: yes when every comparison holds
  awk -v a="$1" -v op="$2" -v b="$3" -v c="${4:-0}" -v op2="${5:->=}" -v d="${6:-0}" 'BEGIN {
    ok1 = (op == ">=") ? a >= b : a <= b; ok2 = (op2 == ">=") ? c >= d : c <= d
    print ((ok1 && ok2) ? "yes" : "**no**") }'
}
# shellcheck disable=SC2154  # shared_* and split_* come from refresh_rounds (printf -v)
{
  printf '## authd vs references, one run (%s)\n\n' "$(date -u +%Y-%m-%dT%H:%MZ)"
  printf '%s cores (%s), Postgres 15 on loopback with a synchronous standby (fsync off, as scripts/services runs its throwaway cluster, for pgbench as for authd), ES256, authd pool %s, ' \
    "$NPROC" "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" "$POOL"
  printf 'I/O threads %s, no per-address connection cap; %s s per measurement, medians of %s alternating rounds.\n\n' \
    "$NPROC" "$DUR" "$ROUNDS"
  printf '| work | authd | reference (same run) | ratio | target | met? |\n|---|---|---|---|---|---|\n'
  for c in 64 1024; do
    for route in /healthz /.well-known/jwks.json; do
      a=$(median <<<"${got["$route $c authd"]}"); n=$(median <<<"${got["$route $c nginx"]}")
      ap=$(median <<<"${got["$route $c authd p99"]}"); np=$(median <<<"${got["$route $c nginx p99"]}")
      ratio=$(div "$a" "$n")
      printf '| GET %s, wrk -t2 -c%s | %.0f req/s, p99 %.2f ms | nginx, %s workers, same bytes: %.0f req/s, p99 %.2f ms | %.2f | ≥ 1.0 | %s |\n' \
        "$route" "$c" "$a" "$ap" "$NPROC" "$n" "$np" "$ratio" "$(met "$ratio" '>=' 1.0)"
    done
  done
  ratio=$(div "$shared_rps" "$shared_tps")
  printf '| POST /refresh, wrk -c%s, shared placement | %.0f req/s, p50 %.1f ms, p99 %.1f ms, %s errors | pgbench -M prepared -c%s, same function: %.0f tps, avg %s ms, p99 %s ms, %s failed; with -c%s as wrk: %.0f tps, p99 %s ms, %s failed | %.2f | ≥ 0.9, p99 ≤ 25 ms | %s |\n' \
    "$CONNS" "$shared_rps" "$shared_p50" "$shared_p99" "$shared_err" "$POOL" "$shared_tps" "$shared_lat" \
    "$shared_pgp99" "$shared_fail" "$CONNS" "$shared_wide_tps" "$shared_wide_p99" "$shared_wide_fail" "$ratio" \
    "$(met "$ratio" '>=' 0.9 "$shared_p99" '<=' 25)"
  printf '| POST /refresh, wrk -c%s, split placement (Postgres on CPU 0, the rest on CPU 1) | %.0f req/s, p50 %.1f ms, p99 %.1f ms, %s errors | pgbench, same placement: %.0f tps, avg %s ms, p99 %s ms, %s failed; with -c%s: %.0f tps, p99 %s ms, %s failed | %.2f | (informative) | |\n' \
    "$CONNS" "$split_rps" "$split_p50" "$split_p99" "$split_err" "$split_tps" "$split_lat" "$split_pgp99" \
    "$split_fail" "$CONNS" "$split_wide_tps" "$split_wide_p99" "$split_wide_fail" "$(div "$split_rps" "$split_tps")"
  ratio=$(div "$login_rps" "$sodium_rate"); spread=$(div "$login_p99" "$login_p50")
  printf '| POST /login, wrk -c16, Argon2id m=19 MiB t=2 p=1 | %.0f req/s, p50 %.1f ms, p99 %.1f ms (p99/p50 %.2f), %s errors | libsodium Argon2id, %s threads: %.1f/s | %.2f | ≥ 2.0, p99 ≤ 2× p50 | %s |\n' \
    "$login_rps" "$login_p50" "$login_p99" "$spread" "$login_err" "$NPROC" "$sodium_rate" "$ratio" \
    "$(met "$ratio" '>=' 2.0 "$spread" '<=' 2.0)"
  if [ "$peer_rate" != - ]; then
    printf '| POST /login against the Node peer'"'"'s ceiling | %.0f req/s | @node-rs/argon2 (Express peers'"'"' Argon2id), %s threads of libuv'"'"'s pool, same cost: %.1f hashes/s, the most logins/s that peer can answer | %.2f | ≥ 1.0 | %s |\n' \
      "$login_rps" "$NPROC" "$peer_rate" "$(div "$login_rps" "$peer_rate")" \
      "$(met "$(div "$login_rps" "$peer_rate")" '>=' 1.0)"
  fi
  ratio=$(div "$authd_rate" "$authd_rate1")
  printf '| Argon2id, authd'"'"'s, %s threads / 1 thread | %.1f hashes/s, CPU %.2f ms a hash | 1 thread: %.1f hashes/s, CPU %.2f ms a hash | %.2f | ≥ %s | %s |\n' \
    "$NPROC" "$authd_rate" "$authd_cpu" "$authd_rate1" "$authd_cpu1" "$ratio" "$(div "$((NPROC * 95))" 100)" \
    "$(met "$ratio" '>=' "$(div "$((NPROC * 95))" 100)")"
  printf '| RSS of authd (VmRSS): idle / after /refresh / after /login flood | %s / %s / %s MiB (then after the GET rows at c1024: %s MiB; peak VmHWM %s MiB) | | | ≤ 64 MiB after the login flood | %s |\n' \
    "$rss_idle" "$rss_refresh" "$rss_login" "$rss_get" "$rss_peak" "$(met "$rss_login" '<=' 64)"
  printf '| ready time: exec of authd (Postgres) to the first 200 on /readyz | %s ms (median of 5: %s) | | | ≤ 200 ms | %s |\n' \
    "$ready_ms" "$(echo "$ready_all" | xargs)" "$(met "$ready_ms" '<=' 200)"

  printf '\n### POST /refresh by store.pool_size (wrk -c%s, shared placement, same rounds alternating)\n\n' "$CONNS"
  printf '| store.pool_size | req/s | p50 ms | p99 ms | errors | rounds p99 ms | p99 ≤ 25 ms? |\n|---|---|---|---|---|---|---|\n'
  for p in "${POOL_SIZES[@]}"; do
    v=$(median <<<"${by_pool["$p p99"]}")
    printf '| %s | %.0f | %.1f | %.1f | %s | %s| %s |\n' "$p" "$(median <<<"${by_pool["$p rps"]}")" \
      "$(median <<<"${by_pool["$p p50"]}")" "$v" "${by_pool["$p err"]}" "${by_pool["$p p99"]}" "$(met "$v" '<=' 25)"
  done

  printf '\n### Scaling: authd on k cores (taskset), k I/O threads; wrk and Postgres on every core\n\n'
  printf '| cores | GET /healthz (c64) | POST /refresh (c%s) | POST /login (c16) | per core: healthz / refresh / login |\n|---|---|---|---|---|\n' "$CONNS"
  for k in "${cores[@]}"; do
    h=$(median <<<"${sc["$k healthz"]}"); f=$(median <<<"${sc["$k refresh"]}"); l=$(median <<<"${sc["$k login"]}")
    printf '| %s | %.0f req/s | %.0f req/s | %.1f req/s | %.0f / %.0f / %.1f |\n' "$k" "$h" "$f" "$l" \
      "$(div "$h" "$k")" "$(div "$f" "$k")" "$(div "$l" "$k")"
  done
  k=${cores[-1]}
  f=$(median <<<"${sc["$k refresh"]}"); l=$(median <<<"${sc["$k login"]}")
  f1=$(median <<<"${sc["1 refresh"]}"); l1=$(median <<<"${sc["1 login"]}")
  awk -v L="$LOGINS" -v R="$REFRESHES" -v k="$k" -v f="$f" -v l="$l" -v f1="$f1" -v l1="$l1" 'BEGIN {
    load = (l > 0 && f > 0) ? L / l + R / f : 0; n = int(load); if (n < load) n++
    cores = (l1 > 0 && f1 > 0) ? L / l1 + R / f1 : 0
    printf "\nreplicas needed for %d logins/s and %d refreshes/s: %d of %d cores (%.2f replica-loads at the %d-core rates: %d/%.1f + %d/%.0f); %.1f cores at the 1-core rates\n",
      L, R, n, k, load, k, L, l, R, f, cores }'
  printf '\nThe database is not counted: Postgres shares these cores with authd and wrk.\n'
} > "$work/table.md"
cp "$work/table.md" "$BUILD/bench-compare.md"
cat "$work/table.md"
say "done in $((SECONDS - started)) s; table saved to $BUILD/bench-compare.md"
