# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154  # globals shared with the sourcing script
# Shell helpers shared by the bench/*/run.sh scripts. Source it from the repository root, after
# `set -euo pipefail`. The Postgres helpers read the caller's globals: BUILD, DUR, ROUNDS, work
# (the run's scratch directory), PIN (a taskset prefix, may be empty), POOL, CONNS, PGBENCH; they
# set authd_pid, PORT and URL.

free_port() {  # free_port START: the first port at or above START that nothing listens on
  local p=$1
  while (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

wait_http() {  # wait_http URL [TRIES]: until URL answers 2xx, 0.1 s apart; fails when it never does
  local n=${2:-100}
  for _ in $(seq 1 "$n"); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "bench: no 2xx answer from $1" >&2
  return 1
}

wrk_stats() {  # wrk_stats FILE (wrk --latency output) -> "rps p50_ms p99_ms errors"
  awk '
    function ms(v) { if (v ~ /us$/) { sub(/us$/,"",v); return v/1000 } if (v ~ /ms$/) { sub(/ms$/,"",v); return v+0 } sub(/s$/,"",v); return v*1000 }
    /Requests\/sec/ { rps=$2 } $1=="50%" { p50=ms($2) } $1=="99%" { p99=ms($2) }
    /Non-2xx/ { err+=$NF } /Socket errors/ { err+=1 }
    END { printf "%s %.3f %.3f %d\n", rps, p50, p99, err }' "$1"
}

median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{v[NR]=$1} END {print v[int((NR + 1) / 2)]}'; }

div() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > 0 ? a / b : 0) }'; }  # div A B -> A/B

# nginx_mirror DIR PORT WORKERS ORIGIN PATH...: starts nginx (WORKERS workers, foreground, PID in
# NGINX_PID) on PORT answering each PATH with the body ORIGIN answers for it now, and with its
# Content-Type, Cache-Control, ETag and CORS headers: both servers then send the same bytes.
nginx_mirror() {
  local dir=$1 port=$2 workers=$3 origin=$4 path body ctype h name i=0 locations=""
  shift 4
  mkdir -p "$dir"
  for path in "$@"; do
    i=$((i + 1))
    curl -fs -D "$dir/head$i" -o "$dir/body$i" "$origin$path"
    body=$(cat "$dir/body$i")
    # nginx's return text is single-quoted and expands variables.
    case $body in *"'"* | *'$'* | *\\*) echo "bench: cannot mirror $path: quote, \$ or \\ in its body" >&2; return 1 ;; esac
    ctype=$(awk -F': ' 'tolower($1) == "content-type" { sub(/\r$/, "", $2); print $2 }' "$dir/head$i")
    locations+="
    location = $path {
      default_type \"$ctype\";"
    for name in Cache-Control ETag Access-Control-Allow-Origin X-Content-Type-Options; do
      h=$(awk -F': ' -v n="$name" 'tolower($1) == tolower(n) { sub(/\r$/, "", $2); print $2 }' "$dir/head$i")
      [ -z "$h" ] || locations+="
      add_header $name '$h';"
    done
    locations+="
      return 200 '$body';
    }"
  done
  cat > "$dir/nginx.conf" <<CONF
worker_processes $workers;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  server {
    listen 127.0.0.1:$port;$locations
  }
}
CONF
  nginx -c "$dir/nginx.conf" -p "$dir" &
  NGINX_PID=$!
  wait_http "http://127.0.0.1:$port$1"
}

# --- authd on Postgres (the README's set-up: Postgres primary + synchronous standby, Redis) ---

# pg_setup: starts the services under $work/svc (stop them with `scripts/services down
# $work/svc`), exports authd's environment for them (a fresh KEK and pepper, quiet logs, limits
# off unless AUTHD_LIMITS_ENABLED is set, the admin listener as AUTHD_SERVER_ADMIN_LISTEN says or
# on a port of its own), migrates and adds bench/auth/login.lua's user.
pg_setup() {
  AUTHD_SERVICES_REPLICA=${AUTHD_SERVICES_REPLICA:-1} scripts/services up "$work/svc" 2>/dev/null
  # shellcheck disable=SC1091
  . "$work/svc/env"
  head -c32 /dev/urandom | base64 > "$work/kek"; head -c32 /dev/urandom | base64 > "$work/pepper"
  chmod 600 "$work/kek" "$work/pepper"
  export AUTHD_STORE_URL="$AUTHD_TEST_PG_URL" AUTHD_STORE_POOL_SIZE=$POOL \
    AUTHD_KEYS_KEK_FILE="$work/kek" AUTHD_AUTH_PEPPER_FILE="$work/pepper" \
    AUTHD_LOG_LEVEL=warn AUTHD_LOG_ACCESS_LOG=false \
    AUTHD_SERVER_ADMIN_LISTEN=${AUTHD_SERVER_ADMIN_LISTEN:-127.0.0.1:0} \
    AUTHD_LIMITS_ENABLED=${AUTHD_LIMITS_ENABLED:-false}
  "$BUILD/authd" migrate >/dev/null
  echo "bench-password-1" | "$BUILD/authctl" user add bench@example.com >/dev/null
}

# shellcheck disable=SC2120  # callers pass the environment
start_authd() {  # start_authd [ENV=VALUE...]: (re)starts authd under PIN with extra environment
  stop_authd
  PORT=$(free_port $(( 24000 + RANDOM % 4000 )))
  "${PIN[@]}" env "$@" "$BUILD/authd" --listen "127.0.0.1:$PORT" > "$work/authd.log" 2>&1 &
  authd_pid=$!
  URL="http://127.0.0.1:$PORT"
  wait_http "$URL/.well-known/jwks.json" || { tail -5 "$work/authd.log" >&2; return 1; }
}

stop_authd() {
  [ -z "${authd_pid:-}" ] || { kill "$authd_pid" 2>/dev/null || true; wait "$authd_pid" 2>/dev/null || true; }
  authd_pid=""
}

run_refresh() {  # wrk on POST /refresh, CONNS connections each rotating its own chain: "rps p50 p99 errors"
  : > "$work/tokens"
  # wrk builds one request per connection that it then throws away, so each chain needs a spare.
  for _ in $(seq 1 $((CONNS * 2))); do
    curl -s "$URL/login" -H 'Content-Type: application/json' \
      -d '{"email":"bench@example.com","password":"bench-password-1"}' |
      grep -o '"refresh_token":"[^"]*"' | cut -d'"' -f4 >> "$work/tokens"
  done
  WRK_THREADS=2 TOKENS_FILE="$work/tokens" "${PIN[@]}" wrk -t2 -c"$CONNS" -d"${DUR}s" --latency \
    -s bench/auth/refresh.lua "$URL/refresh" > "$work/refresh.out" 2>&1
  wrk_stats "$work/refresh.out"
}

# seed_chains G N: N new families whose live tokens are sha256('n:G') for n in 0..N-1, each
# rotated by pgbench to sha256('n:G+1'), and so on.
seed_chains() {
  psql "$AUTHD_TEST_PG_URL" -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL
INSERT INTO sessions (id, user_id, client_id, created_at, last_used_at, absolute_expires_at, idle_expires_at)
SELECT gen_random_uuid(), (SELECT id FROM users LIMIT 1), 'authd', $1, 0, 4000000000, 4000000000
FROM generate_series(0, $2 - 1);
INSERT INTO refresh_tokens (hash, session_id, generation, issued_at)
SELECT sha256(convert_to(n || ':$1', 'UTF8')), id, 1, 0
FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM sessions WHERE created_at = $1) s;
SQL
}

# run_pgbench ROUND [CLIENTS]: the same rotation function, CLIENTS (default POOL) clients, fresh
# chains: "tps avg_ms failed p99_ms" (p99 from pgbench's per-transaction log)
run_pgbench() {
  local g=$(($1 * 1000000)) clients=${2:-$POOL}  # token (client, g) is sha256('client:g')
  seed_chains "$g" "$clients"
  rm -f "$work"/pgbench_log.*
  "${PIN[@]}" "$PGBENCH" -n -M prepared -c "$clients" -j 2 -T "$DUR" -D g=$g \
    -l --log-prefix="$work/pgbench_log" \
    -f bench/auth/pgbench_rotate.sql "$AUTHD_TEST_PG_URL" > "$work/pgbench.out" 2>&1
  local p99
  p99=$(cat "$work"/pgbench_log.* | awk '{print $3 / 1000}' | sort -n |
    awk '{v[NR] = $1} END {i = int(NR * 0.99); if (i < 1) i = 1; printf "%.1f", v[i]}')
  awk -v p99="$p99" '/^tps/ {t=$3} /latency average/ {l=$4} /number of failed transactions/ {f=$5}
       END {printf "%s %s %s %s\n", t, l, (f == "" ? 0 : f), p99}' "$work/pgbench.out"
}

pin_postgres() {  # pin_postgres CPULIST: the postmasters and every process they have forked
  local f pm c
  for f in "$work"/svc/pg/*/postmaster.pid; do
    pm=$(head -1 "$f")
    taskset -p -c "$1" "$pm" >/dev/null
    for c in $(pgrep -P "$pm"); do taskset -p -c "$1" "$c" >/dev/null 2>&1 || true; done
  done
}

# refresh_rounds NAME: ROUNDS alternating rounds of /refresh, pgbench with POOL clients (authd's
# store connections) and pgbench with CONNS clients (wrk's connections: the latency reference);
# sets NAME_* medians
refresh_rounds() {
  local r rps="" p50="" p99="" err=0 tps="" lat="" fail=0 pgp99="" wtps="" wp99="" wfail=0 a b c d
  for r in $(seq 1 "$ROUNDS"); do
    read -r a b c d <<<"$(run_refresh)"; rps+="$a "; p50+="$b "; p99+="$c "; err=$((err + d))
    pgbench_round=$((${pgbench_round:-0} + 1))
    read -r a b c d <<<"$(run_pgbench "$pgbench_round")"
    tps+="$a "; lat+="$b "; fail=$((fail + ${c%.*})); pgp99+="$d "
    pgbench_round=$((pgbench_round + 1))
    read -r a b c d <<<"$(run_pgbench "$pgbench_round" "$CONNS")"
    wtps+="$a "; wfail=$((wfail + ${c%.*})); wp99+="$d "
    echo "  $1 round $r: /refresh $(echo "$rps" | awk '{print $NF}') req/s," \
      "pgbench $(echo "$tps" | awk '{print $NF}') tps (-c$CONNS: $a tps, p99 $d ms)" >&2
  done
  printf -v "${1}_rps" %s "$(median <<<"$rps")"; printf -v "${1}_p50" %s "$(median <<<"$p50")"
  printf -v "${1}_p99" %s "$(median <<<"$p99")"; printf -v "${1}_err" %s "$err"
  printf -v "${1}_tps" %s "$(median <<<"$tps")"; printf -v "${1}_lat" %s "$(median <<<"$lat")"
  printf -v "${1}_fail" %s "$fail"; printf -v "${1}_pgp99" %s "$(median <<<"$pgp99")"
  printf -v "${1}_wide_tps" %s "$(median <<<"$wtps")"
  printf -v "${1}_wide_p99" %s "$(median <<<"$wp99")"; printf -v "${1}_wide_fail" %s "$wfail"
}

split_refresh_rounds() {  # refresh_rounds split: Postgres keeps CPU 0, authd, wrk and pgbench CPU 1
  pin_postgres 0
  PIN=(taskset -c 1)
  start_authd
  refresh_rounds split
  PIN=()
  pin_postgres 0-$(( $(nproc) - 1 ))
}

# The Node peer's Argon2id (@node-rs/argon2 on libuv's pool, bench/compare/node-argon2): its
# modules are installed from the lock file on first use; without node and npm it is skipped.
node_argon2_ready() {
  local dir="$ROOT/bench/compare/node-argon2"
  command -v node >/dev/null && command -v npm >/dev/null || return 1
  "$ROOT/scripts/npm-ready" "$dir" >/dev/null 2>&1 || return 1
}
node_argon2_rate() {  # node_argon2_rate THREADS: hashes/s, or "-" when the peer cannot run
  node_argon2_ready || { echo -; return; }
  UV_THREADPOOL_SIZE=$1 node "$ROOT/bench/compare/node-argon2/hashrate.js" "${HASH_S:-3}" "$1" |
    awk '{print $2}'
}

# login_rounds THREADS: ROUNDS alternating rounds of /login (wrk -c16) and the Argon2id hash-rate
# probes (libsodium's and authd's, 1..THREADS threads, HASH_S seconds a cell, and the Node
# peer's on THREADS); sets the medians login_rps login_p50 login_p99, login_err (a sum),
# sodium_rate, authd_rate and peer_rate (THREADS threads) and authd_rate1 (one thread), and
# authd_cpu and authd_cpu1, the process CPU time per authd hash (ms) on THREADS threads and on one.
login_rounds() {
  local t=$1 r a b c d h o o1 oc oc1 n rps="" p50="" p99="" hs="" os="" o1s="" ns="" cs="" c1s=""
  login_err=0
  wrk -t2 -c16 -d2s -s bench/auth/login.lua "$URL/login" >/dev/null 2>&1
  for r in $(seq 1 "$ROUNDS"); do
    wrk -t2 -c16 -d"${DUR}s" --latency -s bench/auth/login.lua "$URL/login" > "$work/login.out" 2>&1
    read -r a b c d <<<"$(wrk_stats "$work/login.out")"
    rps+="$a "; p50+="$b "; p99+="$c "; login_err=$((login_err + d))
    "${HASHRATE:-$BUILD/bench/crypto/authd_hashrate_bench}" "${HASH_S:-3}" "$t" 2 19922944 1 > "$work/hash.out"
    h=$(awk -v t="$t" '$1=="libsodium" && $2==t {print $3; exit}' "$work/hash.out"); hs+="$h "
    # authd's rows: hashes/s and CPU ms a hash, on t threads and on one
    read -r o oc <<<"$(awk -v t="$t" '$1=="authd" && $2==t {print $3, $4; exit}' "$work/hash.out")"
    read -r o1 oc1 <<<"$(awk '$1=="authd" && $2==1 {print $3, $4; exit}' "$work/hash.out")"
    os+="$o "; cs+="$oc "; o1s+="$o1 "; c1s+="$oc1 "
    n=$(node_argon2_rate "$t"); [ "$n" = - ] || ns+="$n "
    echo "  login round $r: /login $a req/s (p50 $b ms, p99 $c ms), Argon2id on $t threads: libsodium $h/s, authd $o/s, Node peer $n/s" >&2
  done
  login_rps=$(median <<<"$rps"); login_p50=$(median <<<"$p50"); login_p99=$(median <<<"$p99")
  sodium_rate=$(median <<<"$hs"); authd_rate=$(median <<<"$os"); authd_rate1=$(median <<<"$o1s")
  authd_cpu=$(median <<<"$cs"); authd_cpu1=$(median <<<"$c1s")
  peer_rate=-; [ -z "$ns" ] || peer_rate=$(median <<<"$ns")
}
