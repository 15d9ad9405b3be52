# PostgreSQL with the RUM extension, which lets full-text search read results best match
# first (claims migration 0007). Without it Claimtrail falls back to a GIN index.
FROM postgres:15
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15-rum \
    && rm -rf /var/lib/apt/lists/*
