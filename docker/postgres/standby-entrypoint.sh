#!/bin/bash
# Entrypoint of the standby container: on first start clone the primary with
# pg_basebackup (-R writes standby.signal and primary_conninfo), then hand over to the
# official image's entrypoint, which skips initdb because the data directory is not empty.
set -euo pipefail

: "${PGDATA:=/var/lib/postgresql/data}"
: "${PRIMARY_HOST:=pg-primary}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 0700 "$PGDATA"
  export PGPASSWORD
  PGPASSWORD="$(cat /run/secrets/pg_replication_password)"
  until gosu postgres pg_isready -q -h "$PRIMARY_HOST" -p 5432; do
    echo "standby: waiting for $PRIMARY_HOST" >&2
    sleep 1
  done
  echo "standby: cloning $PRIMARY_HOST" >&2
  gosu postgres pg_basebackup -D "$PGDATA" -R -X stream -c fast \
    -d "host=$PRIMARY_HOST port=5432 user=replicator application_name=pg_standby"
  unset PGPASSWORD
fi

exec docker-entrypoint.sh "$@"
