#!/usr/bin/env bash
# What Postgres spends on one batch of rotations: pgbench on one connection calling
# authd_rotate_refresh_batch() with 1, 16 and 32 rotations a call (ROUNDS alternating rounds,
# medians), on the project's test services (Postgres 15 primary + synchronous standby). The
# per-rotation cost of a batch is what bounds /refresh under load.
#   bench/auth/rotate_batch.sh [BUILD_DIR] [DURATION_S]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}; DUR=${2:-4}; ROUNDS=${ROUNDS:-3}
command -v psql >/dev/null || scripts/deps all
PGBENCH=$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)
cmake --build "$BUILD" --target authd authctl >/dev/null
# shellcheck source=bench/lib.sh
. bench/lib.sh
work=$(mktemp -d /tmp/authd-bench-batch.XXXXXX)
chmod 755 "$work"
cleanup() {
  scripts/services down "$work/svc" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
POOL=1
pg_setup
SIZES=(1 16 32)
declare -A ms=()
g=0
for r in $(seq 1 "$ROUNDS"); do
  for b in "${SIZES[@]}"; do
    g=$((g + 1000000))
    seed_chains "$g" "$b"
    "$PGBENCH" -n -M prepared -c 1 -T "$DUR" -D g=$g -D b="$b" \
      -f bench/auth/pgbench_rotate_batch.sql "$AUTHD_TEST_PG_URL" > "$work/out" 2>&1
    ms[$b]+="$(awk '/latency average/ {print $4}' "$work/out") "
  done
  echo "round $r done" >&2
done
printf '| rotations a call | ms a call (median of %s) | µs a rotation |\n|---|---|---|\n' "$ROUNDS"
for b in "${SIZES[@]}"; do
  m=$(median <<<"${ms[$b]}")
  awk -v b="$b" -v m="$m" 'BEGIN { printf "| %d | %.2f | %.0f |\n", b, m, m * 1000 / b }'
done
