# PgBouncer in transaction mode in front of the primary (docs/deploy.md), from Debian.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends pgbouncer \
    && rm -rf /var/lib/apt/lists/*
COPY pgbouncer-entrypoint.sh /usr/local/bin/
USER postgres
EXPOSE 6432
ENTRYPOINT ["bash", "/usr/local/bin/pgbouncer-entrypoint.sh"]
