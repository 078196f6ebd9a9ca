#!/bin/bash
# The read replica: copy the primary once (pg_basebackup, which also writes the settings
# to follow it), then run as a hot standby that service reports read from.
set -euo pipefail
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready --host primary --username replicator; do sleep 1; done
    PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup --host primary --username replicator \
        --pgdata "$PGDATA" --wal-method stream --write-recovery-conf --checkpoint fast
    chmod 0700 "$PGDATA"
fi
exec postgres -c hot_standby=on
