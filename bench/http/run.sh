#!/usr/bin/env bash
# wrk benchmark of a small GET route: authd's /healthz next to nginx returning the same bytes,
# same machine, same run, same wrk settings. Prints a table with the ratio.
#   bench/http/run.sh [BUILD_DIR] [DURATION_S] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}; DUR=${2:-10}; CONNS=${3:-64}
command -v wrk >/dev/null && command -v nginx >/dev/null || scripts/deps all
[ -x "$BUILD/authd" ] || scripts/build "$BUILD" >/dev/null

. bench/lib.sh
work=$(mktemp -d /tmp/authd-bench-http.XXXXXX)
authd_pid="" NGINX_PID=""
cleanup() { stop_authd; [ -z "$NGINX_PID" ] || kill "$NGINX_PID" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

AUTHD_PORT=$(free_port 23080); NGINX_PORT=$(free_port $((AUTHD_PORT+1)))
THREADS=$(nproc)

# All of wrk's connections come from 127.0.0.1: the per-address cap (256) is lifted, as for a
# trusted balancer, or authd would turn away most of a -c1024 run and nginx would not.
AUTHD_LOG_LEVEL=warn AUTHD_LOG_ACCESS_LOG=false AUTHD_SERVER_THREADS=$THREADS \
  AUTHD_SERVER_MAX_CONNECTIONS_PER_ADDRESS=0 \
  "$BUILD/authd" --dev --listen "127.0.0.1:$AUTHD_PORT" --data "$work/data" >"$work/authd.log" 2>&1 &
authd_pid=$!
wait_http "http://127.0.0.1:$AUTHD_PORT/healthz"
# nginx answers with authd's bytes and headers: {"status":"ok"}, no-store, nosniff.
nginx_mirror "$work/nginx" "$NGINX_PORT" "$THREADS" "http://127.0.0.1:$AUTHD_PORT" /healthz

run_wrk() {  # prints "rps p50_ms p99_ms"
  wrk -t2 -c"$CONNS" -d"${DUR}s" --latency "$1" > "$work/wrk.out" 2>&1
  wrk_stats "$work/wrk.out" | cut -d' ' -f1-3
}

wrk -t2 -c"$CONNS" -d2s "http://127.0.0.1:$AUTHD_PORT/healthz" >/dev/null 2>&1  # warm-up
wrk -t2 -c"$CONNS" -d2s "http://127.0.0.1:$NGINX_PORT/healthz" >/dev/null 2>&1
read -r a_rps a_p50 a_p99 <<<"$(run_wrk "http://127.0.0.1:$AUTHD_PORT/healthz")"
read -r n_rps n_p50 n_p99 <<<"$(run_wrk "http://127.0.0.1:$NGINX_PORT/healthz")"

printf '\nGET /healthz, wrk -t2 -c%s -d%ss, %s cores, server threads/workers = %s\n' "$CONNS" "$DUR" "$(nproc)" "$THREADS"
printf '| server | req/s | p50 ms | p99 ms |\n|---|---|---|---|\n'
printf '| authd | %.0f | %.3f | %.3f |\n' "$a_rps" "$a_p50" "$a_p99"
printf '| nginx %s | %.0f | %.3f | %.3f |\n' "$(nginx -v 2>&1 | sed 's|.*/||')" "$n_rps" "$n_p50" "$n_p99"
awk -v a="$a_rps" -v n="$n_rps" -v ap="$a_p99" -v np="$n_p99" \
  'BEGIN { printf "| ratio authd/nginx | %.2f | | %.2f (p99) |\n", a/n, ap/np }'
