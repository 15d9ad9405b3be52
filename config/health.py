"""Health for load balancers and orchestrators: /healthz and /readyz (and /metrics, see
config.metrics).

Answered before any other middleware: a probe comes by plain HTTP to the container's own
address, which neither ALLOWED_HOSTS nor the HTTPS redirect would let through, and needs
no session, CSRF or rate limit.

- /healthz: the process is alive and serving; it reads nothing.
- /readyz: it can serve: the database answers, each read replica answers and is within
  REPLICA_MAX_LAG_SECONDS of the primary (its lag is reported), Redis answers when
  REDIS_URL is set, and a task worker has beaten within WORKER_LEASE_SECONDS when
  TASKS_REQUIRE_WORKER is set (the age of the last heartbeat is reported). 200 when
  every part does, else 503; the body names each part, whether it answered, how long it
  took and, for a failure, the kind of error (never an address or a password).
"""

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse

from config import metrics, replicas
from config.bounds import bounded
from jobs import engine

# A part's check: raises when the part fails; may return facts to report (a replica's lag).
Check = Callable[[], dict[str, Any] | None]


class Lagging(Exception):
    """A replica further behind the primary than REPLICA_MAX_LAG_SECONDS, or not streaming
    from it (how far behind is then unknown: None)."""


def database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


def replica(alias: str) -> Check:
    def check() -> dict[str, Any]:
        lag = replicas.replica_lag(alias)
        if lag > settings.REPLICA_MAX_LAG_SECONDS:
            raise Lagging(None if lag == float("inf") else round(lag, 1))  # None: unknown
        return {"lag_s": round(lag, 1)}

    return check


def redis() -> None:
    client = caches["default"]._cache.get_client(write=True)  # type: ignore[attr-defined]
    client.ping()


class NoWorker(Exception):
    """No worker has said it is alive within WORKER_LEASE_SECONDS (TASKS_REQUIRE_WORKER)."""


def worker() -> dict[str, Any]:
    age = engine.last_heartbeat_age()
    if age is None or age > settings.WORKER_LEASE_SECONDS:
        raise NoWorker(None if age is None else round(age, 1))
    return {"heartbeat_age_s": round(age, 1)}


def checks() -> dict[str, Check]:
    parts: dict[str, Check] = {"database": database}
    if settings.TASKS_REQUIRE_WORKER:
        parts["worker"] = worker
    for alias in settings.DATABASE_REPLICAS:
        parts[alias] = replica(alias)
    if caches["default"].__class__.__name__ == "RedisCache":
        parts["redis"] = redis
    return parts


def readiness() -> tuple[bool, dict[str, Any]]:
    """Each part's check, each query bounded by READYZ_WAIT_SECONDS (config.bounds): a
    part that hangs is reported failing, not waited on."""
    with bounded(settings.READYZ_WAIT_SECONDS):
        return _readiness()


def _readiness() -> tuple[bool, dict[str, Any]]:
    report: dict[str, Any] = {}
    for name, check in checks().items():
        started = time.perf_counter()
        try:
            facts = check()
        except Lagging as error:
            report[name] = {"ok": False, "error": "Lagging", "lag_s": error.args[0]}
        except NoWorker as error:  # None: no worker ever beat
            report[name] = {"ok": False, "error": "NoWorker", "heartbeat_age_s": error.args[0]}
        except Exception as error:  # any failure of the part is the answer, not a crash
            report[name] = {"ok": False, "error": type(error).__name__}
        else:
            report[name] = {"ok": True, **(facts or {})}
        report[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return all(part["ok"] for part in report.values()), report


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return _no_store(JsonResponse({"status": "ok"}))
        if request.path == "/metrics":
            return _no_store(metrics.metrics(request))
        if request.path == "/readyz":
            ready, parts = readiness()
            body = {"status": "ok" if ready else "failing", "checks": parts}
            return _no_store(JsonResponse(body, status=200 if ready else 503))
        return self.get_response(request)


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response
