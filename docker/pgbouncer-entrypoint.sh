#!/bin/bash
# PgBouncer's settings from the environment: the same transaction pooling that CI tests
# through (.ci/with-pgbouncer), with password authentication.
set -euo pipefail
dir=/tmp/pgbouncer
mkdir -p "$dir"
cat > "$dir/pgbouncer.ini" <<INI
[databases]
$DB_NAME = host=$DB_HOST port=5432 dbname=$DB_NAME

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 6432
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = ${PGBOUNCER_MAX_CLIENT_CONN:-1000}
default_pool_size = ${PGBOUNCER_POOL_SIZE:-20}
ignore_startup_parameters = extra_float_digits
INI
# A double quote inside a value is written twice, as PgBouncer reads it.
printf '"%s" "%s"\n' "${DB_USER//\"/\"\"}" "${DB_PASSWORD//\"/\"\"}" > "$dir/userlist.txt"
exec pgbouncer "$dir/pgbouncer.ini"
