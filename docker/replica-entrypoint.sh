#!/bin/bash
# A streaming replica of the primary: on first start, copied from it with pg_basebackup
# (-R makes it a standby that follows the primary); then PostgreSQL as a hot standby.
set -euo pipefail
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready -h "$PRIMARY_HOST" -p 5432 -q; do sleep 1; done
    PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup -h "$PRIMARY_HOST" -U replicator \
        -D "$PGDATA" -R --wal-method=stream --checkpoint=fast
    chmod 0700 "$PGDATA"
fi
exec postgres -c hot_standby=on
