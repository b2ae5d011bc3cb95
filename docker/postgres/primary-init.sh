#!/bin/bash
# Runs once, from /docker-entrypoint-initdb.d, when the primary's data directory is empty
# (the official postgres image runs it as the postgres user with a temporary server).
# Creates the replication role and lets the standby connect for streaming replication.
set -euo pipefail

repl_password="$(cat /run/secrets/pg_replication_password)"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v repl_password="$repl_password" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'repl_password';
-- Keep enough WAL for a standby that restarts (no replication slot, so nothing piles up
-- forever when the standby is gone).
ALTER SYSTEM SET wal_keep_size = '256MB';
-- Synchronous commit to the standby (application_name pg-standby), as in production.
-- Takes effect when the entrypoint restarts the server after this script; while the
-- standby is down, commits wait for it.
ALTER SYSTEM SET synchronous_standby_names = 'ANY 1 (pg_standby)';
SQL

echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
