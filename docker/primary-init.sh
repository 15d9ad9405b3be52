#!/bin/bash
# Runs once, when the primary's data folder is first made (docker-entrypoint-initdb.d):
# a role for the replica to stream with, allowed in by password, and no JIT for the
# application's database (Claimtrail sends no startup options through PgBouncer).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set "password=$REPLICATION_PASSWORD" --set "db=$POSTGRES_DB" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
ALTER DATABASE :"db" SET jit = off;
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
