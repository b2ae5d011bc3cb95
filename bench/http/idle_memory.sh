#!/usr/bin/env bash
# Memory an idle keep-alive connection costs: N clients each send one request and keep their
# connection open; the server's RSS growth divided by N. nginx (same workers, same bytes) is the
# yardstick. Kernel socket buffers are not in RSS on either side.
#   bench/http/idle_memory.sh [N] [ROUTE] [AUTHD_BINARY...]
# e.g. bench/http/idle_memory.sh 3000 /.well-known/jwks.json /tmp/authd.old build/authd
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-3000} ROUTE=${2:-/.well-known/jwks.json}
shift $(($# < 2 ? $# : 2))
binaries=("$@")
[ ${#binaries[@]} -gt 0 ] || binaries=(build/authd)
command -v nginx >/dev/null && command -v python3 >/dev/null || scripts/deps all

. bench/lib.sh
work=$(mktemp -d /tmp/authd-bench-idle.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n $((N + 5000))

# hold PORT PIDS: opens N connections, one request each, and prints RSS bytes per connection
# (PIDS: the serving processes, comma-separated; their RSS is summed).
hold() {
  python3 - "$1" "$2" "$N" "$ROUTE" <<'PY'
import socket, sys, time
port, pids, n, path = int(sys.argv[1]), sys.argv[2].split(","), int(sys.argv[3]), sys.argv[4]
def rss():
    total = 0
    for pid in pids:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS"):
                total += int(line.split()[1]) * 1024
    return total
before = rss()
request = f"GET {path} HTTP/1.1\r\nHost: bench\r\nUser-Agent: idle/1\r\nAccept: */*\r\n\r\n".encode()
held = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(request)
    held.append(s)
for s in held:
    got = b""
    while b"\r\n\r\n" not in got:
        got += s.recv(65536)
time.sleep(0.5)
print(f"{(rss() - before) / n:.0f}")
PY
}

THREADS=$(nproc)
printf '%s idle keep-alive connections after one GET %s each, %s threads/workers\n\n' "$N" "$ROUTE" "$THREADS"
printf '| server | bytes of RSS per idle connection |\n|---|---|\n'
port=$(free_port 24600)
i=0
for b in "${binaries[@]}"; do
  i=$((i + 1))
  AUTHD_LOG_LEVEL=warn AUTHD_SERVER_THREADS=$THREADS AUTHD_SERVER_MAX_CONNECTIONS_PER_ADDRESS=0 \
    AUTHD_SERVER_MAX_CONNECTIONS=$((N + 100)) \
    "$b" --dev --listen "127.0.0.1:$port" --data "$work/data$i" >"$work/authd$i.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  wait_http "http://127.0.0.1:$port/healthz"
  printf '| authd %s | %s |\n' "$b" "$(hold "$port" "$pid")"
  [ "$i" -eq "${#binaries[@]}" ] || { kill "$pid"; wait "$pid" 2>/dev/null || true; }
done
# nginx answers the last authd's bytes, so it starts while that authd still runs.
nport=$(free_port $((port + 1)))
nginx_mirror "$work/nginx" "$nport" "$THREADS" "http://127.0.0.1:$port" "$ROUTE"
pids+=("$NGINX_PID")
sleep 0.3
printf '| nginx | %s |\n' "$(hold "$nport" "$(pgrep -P "$NGINX_PID" | paste -sd,)")"
