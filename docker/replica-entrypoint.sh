#!/bin/bash
# A streaming replica of the primary: on first start, copied from it with pg_basebackup
# (-R makes it a standby that follows the primary); then PostgreSQL as a hot standby.
set -euo pipefail
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready -h "$PRIMARY_HOST" -p 5432 -q; do sleep 1; done
    # Through a replication slot of its own: the primary keeps the WAL it has not had yet.
    PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup -h "$PRIMARY_HOST" -U replicator \
        -D "$PGDATA" -R --wal-method=stream --checkpoint=fast \
        --create-slot --slot="${REPLICA_SLOT:-replica1}"
    chmod 0700 "$PGDATA"
fi
# hot_standby_feedback: a long export read here is not cancelled by the primary's vacuum.
exec postgres -c hot_standby=on -c hot_standby_feedback=on
