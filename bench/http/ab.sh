#!/usr/bin/env bash
# Two authd binaries side by side on GET routes, with nginx answering the same bytes as the
# yardstick: alternating rounds, medians of req/s and of user and system CPU per request
# (from /proc/PID/stat over each run). For telling whether a change to the HTTP core helps.
#   bench/http/ab.sh OLD_AUTHD NEW_AUTHD [ROUNDS] [DURATION_S] [CONNECTIONS] [ROUTE...]
# e.g. cp build/authd /tmp/authd.old; (change, rebuild); bench/http/ab.sh /tmp/authd.old build/authd
set -euo pipefail
cd "$(dirname "$0")/../.."
OLD=$1 NEW=$2 ROUNDS=${3:-5} DUR=${4:-4} CONNS=${5:-64}
shift $(($# < 5 ? $# : 5))
ROUTES=("$@"); [ ${#ROUTES[@]} -gt 0 ] || ROUTES=(/healthz /.well-known/jwks.json)
command -v wrk >/dev/null && command -v nginx >/dev/null || scripts/deps all

. bench/lib.sh
work=$(mktemp -d /tmp/authd-bench-ab.XXXXXX)
declare -A pid=() port=()
NGINX_PID=""
cleanup() {
  for p in "${pid[@]}" $NGINX_PID; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

THREADS=$(nproc)
start() {  # start NAME BINARY: both binaries share one data directory (the same keys)
  port[$1]=$(free_port $((23280 + ${#pid[@]} * 7)))
  AUTHD_LOG_LEVEL=warn AUTHD_LOG_ACCESS_LOG=false AUTHD_SERVER_THREADS=$THREADS \
    AUTHD_SERVER_MAX_CONNECTIONS_PER_ADDRESS=0 \
    "$2" --dev --listen "127.0.0.1:${port[$1]}" --data "$work/data" >"$work/$1.log" 2>&1 &
  pid[$1]=$!
  wait_http "http://127.0.0.1:${port[$1]}/healthz"
}
start old "$OLD"
start new "$NEW"
port[nginx]=$(free_port $((${port[new]} + 1)))
nginx_mirror "$work/nginx" "${port[nginx]}" "$THREADS" "http://127.0.0.1:${port[old]}" "${ROUTES[@]}"
pid[nginx]=$NGINX_PID

cpu_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }  # utime stime, in clock ticks
# For nginx, its workers' ticks: the master only forks them.
ticks_of() {
  if [ "$1" = nginx ]; then
    local u=0 s=0 w
    for w in $(pgrep -P "${pid[nginx]}"); do read -r a b <<<"$(cpu_ticks "$w")"; u=$((u + a)); s=$((s + b)); done
    echo "$u $s"
  else
    cpu_ticks "${pid[$1]}"
  fi
}
HZ=$(getconf CLK_TCK)
us_per_request() {  # us_per_request TICKS REQUESTS: CPU µs per request
  awk -v t="$1" -v n="$2" -v hz="$HZ" 'BEGIN { print t / hz / n * 1e6 }'
}
declare -A got=()
measure() {  # measure NAME ROUTE
  local u0 s0 u1 s1 rps p50 p99 err n
  read -r u0 s0 <<<"$(ticks_of "$1")"
  wrk -t2 -c"$CONNS" -d"${DUR}s" --latency "http://127.0.0.1:${port[$1]}$2" >"$work/wrk.out" 2>&1
  read -r u1 s1 <<<"$(ticks_of "$1")"
  read -r rps p50 p99 err <<<"$(wrk_stats "$work/wrk.out")"
  n=$(awk -v r="$rps" -v d="$DUR" 'BEGIN { print r * d }')
  got["$1 $2 rps"]+="$rps "
  got["$1 $2 user"]+="$(us_per_request $((u1 - u0)) "$n") "
  got["$1 $2 sys"]+="$(us_per_request $((s1 - s0)) "$n") "
}

for route in "${ROUTES[@]}"; do
  for name in old new nginx; do wrk -t2 -c"$CONNS" -d1s "http://127.0.0.1:${port[$name]}$route" >/dev/null 2>&1; done
done
order=(old new nginx)
for r in $(seq 1 "$ROUNDS"); do
  for route in "${ROUTES[@]}"; do
    for name in "${order[@]}"; do measure "$name" "$route"; done
  done
  order=("${order[2]}" "${order[0]}" "${order[1]}")  # rotate who meets the machine first
  echo "round $r done" >&2
done

printf '\nwrk -t2 -c%s -d%ss, %s rounds (medians), %s server threads/workers\n' "$CONNS" "$DUR" "$ROUNDS" "$THREADS"
printf '| route | server | req/s | user µs/req | sys µs/req | req/s vs nginx | rounds req/s |\n|---|---|---|---|---|---|---|\n'
for route in "${ROUTES[@]}"; do
  n_rps=$(median <<<"${got[nginx $route rps]}")
  for name in old new nginx; do
    rps=$(median <<<"${got[$name $route rps]}")
    printf '| %s | %s | %.0f | %.2f | %.2f | %.2f | %s|\n' "$route" "$name" "$rps" \
      "$(median <<<"${got[$name $route user]}")" "$(median <<<"${got[$name $route sys]}")" \
      "$(div "$rps" "$n_rps")" "${got[$name $route rps]}"
  done
done
