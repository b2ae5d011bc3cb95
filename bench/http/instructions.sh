#!/usr/bin/env bash
# User-space instructions authd executes per request (Valgrind's callgrind), for telling whether
# a change to the request path helps: a count, the same on every run, where wall-clock
# benchmarks on a shared 2-core machine vary by several percent from one round to the next.
# One I/O thread, one keep-alive client (curl), N requests after a warm-up; system calls and
# the kernel's work are not counted (bench/http/ab.sh measures those).
#   bench/http/instructions.sh [N] [ROUTE...] -- AUTHD_BINARY...
# e.g. bench/http/instructions.sh 1000 /healthz /.well-known/jwks.json -- /tmp/authd.old build/authd
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000}
shift || true
routes=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do routes+=("$1"); shift; done
[ $# -gt 0 ] && shift
binaries=("$@")
[ ${#routes[@]} -gt 0 ] || routes=(/healthz /.well-known/jwks.json)
[ ${#binaries[@]} -gt 0 ] || binaries=(build/authd)
command -v valgrind >/dev/null && command -v curl >/dev/null ||
  { apt-get install -y -qq valgrind curl >/dev/null; }

. bench/lib.sh
work=$(mktemp -d /tmp/authd-bench-instr.XXXXXX)
pid=""
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

urls() { printf "http://127.0.0.1:$1$2 %.0s" $(seq 1 "$3"); }

per_request() {  # per_request BINARY ROUTE: instructions per request
  local port out
  port=$(free_port $((24400 + RANDOM % 1000)))
  out=$work/cg.out
  rm -rf "$work/data" "$out"*
  AUTHD_LOG_LEVEL=warn AUTHD_LOG_ACCESS_LOG=false AUTHD_SERVER_THREADS=1 \
    AUTHD_SERVER_MAX_CONNECTIONS_PER_ADDRESS=0 \
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
    "$1" --dev --listen "127.0.0.1:$port" --data "$work/data" >"$work/log" 2>&1 &
  pid=$!
  wait_http "http://127.0.0.1:$port/healthz" 120 || { tail -5 "$work/log" >&2; return 1; }
  callgrind_control -i on "$pid" >/dev/null 2>&1
  # shellcheck disable=SC2046  # one URL per word: curl reuses its connection for all of them
  curl -s $(urls "$port" "$2" 200) >/dev/null  # warm-up: caches, metric children, allocator
  callgrind_control -z "$pid" >/dev/null 2>&1
  # shellcheck disable=SC2046
  curl -s $(urls "$port" "$2" "$N") >/dev/null
  callgrind_control -d "$pid" >/dev/null 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  awk -v n="$N" '/^summary:/ { printf "%d\n", $2 / n; exit }' "$out".1
}

printf '| binary | route | instructions per request |\n|---|---|---|\n'
for route in "${routes[@]}"; do
  for b in "${binaries[@]}"; do
    printf '| %s | %s | %s |\n' "$b" "$route" "$(per_request "$b" "$route")"
  done
done
