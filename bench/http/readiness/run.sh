#!/usr/bin/env bash
# What a readiness-tracking loop could give authd's HTTP core on this machine: probe.cpp's two
# read disciplines (speculative, as Asio's reactor reads; drained, as nginx reads) next to
# nginx answering the same bytes, in alternating rounds; prints medians and ratios.
#   bench/http/readiness/run.sh [DURATION_S] [ROUNDS] [CONNECTIONS...]
set -euo pipefail
cd "$(dirname "$0")/../../.."
DUR=${1:-4}; ROUNDS=${2:-3}; shift 2 2>/dev/null || shift $#
CONNS=("$@"); [ ${#CONNS[@]} -gt 0 ] || CONNS=(64 1024)
command -v wrk >/dev/null && command -v nginx >/dev/null && command -v g++ >/dev/null ||
  scripts/deps all

. bench/lib.sh
work=$(mktemp -d /tmp/authd-bench-readiness.XXXXXX)
pids=() NGINX_PID=""
cleanup() {
  for p in "${pids[@]}" $NGINX_PID; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

g++ -O2 -std=c++20 -pthread bench/http/readiness/probe.cpp -o "$work/probe"
THREADS=$(nproc)
SPEC_PORT=$(free_port 23180); DRAIN_PORT=$(free_port $((SPEC_PORT + 1)))
NGINX_PORT=$(free_port $((DRAIN_PORT + 1)))
"$work/probe" speculative "$SPEC_PORT" "$THREADS" & pids+=($!)
"$work/probe" drained "$DRAIN_PORT" "$THREADS" & pids+=($!)
wait_http "http://127.0.0.1:$SPEC_PORT/healthz"
wait_http "http://127.0.0.1:$DRAIN_PORT/healthz"
nginx_mirror "$work/nginx" "$NGINX_PORT" "$THREADS" "http://127.0.0.1:$SPEC_PORT" /healthz

rps() {  # rps PORT CONNS
  wrk -t2 -c"$2" -d"${DUR}s" "http://127.0.0.1:$1/healthz" | awk '/Requests\/sec/ { print $2 }'
}

declare -A got
for c in "${CONNS[@]}"; do
  for port in "$SPEC_PORT" "$DRAIN_PORT" "$NGINX_PORT"; do rps "$port" "$c" >/dev/null; done  # warm-up
  for r in $(seq 1 "$ROUNDS"); do
    for port in "$SPEC_PORT" "$DRAIN_PORT" "$NGINX_PORT"; do got["$c $port"]+="$(rps "$port" "$c") "; done
    echo "  c$c round $r done" >&2
  done
done

printf '\nGET /healthz, wrk -t2 -d%ss, %s cores, %s loops/workers each; medians of %s alternating rounds\n\n' \
  "$DUR" "$(nproc)" "$THREADS" "$ROUNDS"
printf '| connections | speculative read (Asio) | drained flag (nginx) | nginx | drained / speculative | speculative / nginx | drained / nginx |\n|---|---|---|---|---|---|---|\n'
for c in "${CONNS[@]}"; do
  s=$(median <<<"${got["$c $SPEC_PORT"]}"); d=$(median <<<"${got["$c $DRAIN_PORT"]}")
  n=$(median <<<"${got["$c $NGINX_PORT"]}")
  printf '| %s | %.0f req/s | %.0f req/s | %.0f req/s | %.2f | %.2f | %.2f |\n' \
    "$c" "$s" "$d" "$n" "$(div "$d" "$s")" "$(div "$s" "$n")" "$(div "$d" "$n")"
done
