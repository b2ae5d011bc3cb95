#!/usr/bin/env bash
# wrk benchmark of a small GET route: authd's /healthz next to nginx returning the same bytes,
# same machine, same run, same wrk settings. Prints a table with the ratio.
#   bench/http/run.sh [BUILD_DIR] [DURATION_S] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}; DUR=${2:-10}; CONNS=${3:-64}
command -v wrk >/dev/null && command -v nginx >/dev/null || scripts/deps all
[ -x "$BUILD/authd" ] || scripts/build "$BUILD" >/dev/null

work=$(mktemp -d /tmp/authd-bench-http.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { local p=$1; while (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null; do p=$((p+1)); done; echo "$p"; }
AUTHD_PORT=$(free_port 23080); NGINX_PORT=$(free_port $((AUTHD_PORT+1)))
THREADS=$(nproc)

AUTHD_LOG_LEVEL=warn AUTHD_LOG_ACCESS_LOG=false AUTHD_SERVER_THREADS=$THREADS \
  "$BUILD/authd" --dev --listen "127.0.0.1:$AUTHD_PORT" --data "$work/data" >"$work/authd.log" 2>&1 &
pids+=($!)

body='{"status":"ok"}'
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes $THREADS;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location = /healthz {
      default_type application/json;
      add_header Cache-Control no-store;
      add_header X-Content-Type-Options nosniff;
      return 200 '$body';
    }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)

for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$AUTHD_PORT/healthz" >/dev/null 2>&1 && curl -fs "http://127.0.0.1:$NGINX_PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

run_wrk() {  # prints "rps p50_ms p99_ms"
  wrk -t2 -c"$CONNS" -d"${DUR}s" --latency "$1" > "$work/wrk.out" 2>&1
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
  p50=$(awk '$1=="50%" {print $2}' "$work/wrk.out")
  p99=$(awk '$1=="99%" {print $2}' "$work/wrk.out")
  to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/,"",v); print v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v); print v+0 } else { sub(/s$/,"",v); print v*1000 } }'; }
  echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
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
