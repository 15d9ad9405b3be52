"""gunicorn's settings in production (the Dockerfile runs `gunicorn -c python:config.gunicorn`).

Threads (gthread), so that a slow client streaming a large CSV export holds one thread,
not a whole worker, and other requests go on being served; with threads the worker
timeout watches the worker, not each response, so a million-claim export is not cut off
after 30 seconds. Each thread keeps its own database connection (CONN_MAX_AGE).
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
accesslog = "-"


def when_ready(server: object) -> None:
    """Say so when rate limits will not hold across workers (see REDIS_URL)."""
    if workers > 1 and not os.environ.get("REDIS_URL"):
        server.log.warning(  # type: ignore[attr-defined]
            "REDIS_URL is not set: each of the %d workers counts rate limits for itself", workers
        )


def child_exit(server: object, worker: object) -> None:
    """With PROMETHEUS_MULTIPROC_DIR (docs/deploy.md), a worker that ended stops counting in
    /metrics' live figures."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
