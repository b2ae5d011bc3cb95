#!/usr/bin/env bash
# Latency of RedisRateLimiter::check next to a PING round trip through the same RedisClient,
# a synchronous hiredis PING, and LocalRateLimiter::check, in one run on the same machine.
#
# Usage: bench/cache/run.sh [build-dir] [iterations] [threads]    defaults: build-cache, 20000, 4
#
# Redis: $AUTHD_TEST_REDIS_URL when set (scripts/services up DIR && . DIR/env); otherwise a
# throwaway redis-server on a free port below 32768, stopped by its PID file at exit.
# Builds authd_cache_ratelimit_bench through CMake when the top-level CMakeLists includes
# bench/cache; otherwise compiles it here against the built static libraries.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${1:-$ROOT/build-cache}"
ITER="${2:-20000}"
THREADS="${3:-4}"
if ! [[ "$ITER" =~ ^[1-9][0-9]*$ && "$THREADS" =~ ^[1-9][0-9]*$ ]]; then
  echo "iterations and threads must be positive integers" >&2
  exit 2
fi

if [[ ! -f "$BUILD/build.ninja" && ! -f "$BUILD/Makefile" ]]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja >/dev/null
fi
if cmake --build "$BUILD" --target help 2>/dev/null | grep -q '^authd_cache_ratelimit_bench'; then
  cmake --build "$BUILD" --target authd_cache_ratelimit_bench -j2 >/dev/null
  BENCH="$BUILD/bench/cache/authd_cache_ratelimit_bench"
else
  cmake --build "$BUILD" --target authd_cache_redis -j2 >/dev/null
  BENCH="$BUILD/bench-cache/authd_cache_ratelimit_bench"
  mkdir -p "$(dirname "$BENCH")"
  g++ -std=c++20 -O2 -Wall -Wextra -Wpedantic -I"$ROOT/include" \
    "$ROOT/bench/cache/ratelimit_bench.cpp" \
    "$BUILD/src/cache/libauthd_cache_redis.a" "$BUILD/src/cache/libauthd_cache_local.a" \
    "$BUILD/src/core/libauthd_core.a" -lhiredis -lcrypto -pthread \
    -o "$BENCH"
fi

TMP="$(mktemp -d)"
cleanup() {
  if [[ -f "$TMP/redis.pid" ]]; then kill "$(cat "$TMP/redis.pid")" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

URL="${AUTHD_TEST_REDIS_URL:-}"
if [[ -z "$URL" ]]; then
  port_free() { ! (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
  PORT=$((21000 + RANDOM % 10000))
  while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
  cat >"$TMP/redis.conf" <<CONF
bind 127.0.0.1
port $PORT
daemonize yes
pidfile $TMP/redis.pid
logfile $TMP/redis.log
dir $TMP
save ""
appendonly no
CONF
  redis-server "$TMP/redis.conf"
  ok=0
  for _ in $(seq 1 100); do
    if redis-cli -p "$PORT" ping >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.05
  done
  [[ $ok = 1 ]] || { echo "redis-server did not start" >&2; exit 1; }
  URL="redis://127.0.0.1:$PORT"
fi

echo "$(redis-server --version | cut -d' ' -f1-3) | $(nproc) CPUs | load avg $(cut -d' ' -f1-3 /proc/loadavg)"
"$BENCH" "$URL" "$ITER" "$THREADS"
