"""Prometheus metrics at /metrics (docs/deploy.md), with django-prometheus.

- Requests and latencies: django-prometheus's middleware (first and last in MIDDLEWARE).
- Database queries: django-prometheus's query counters and durations, fed by Django's own
  execute wrapper on every connection. (Its database backends are not used: they replace
  the cursor Django makes, server-side cursors included.)
- Export rows: `claimtrail_export_rows_total` (sources.export_engine, api.documents).
- Background tasks, read from the database at each scrape (so every worker's count, on
  any machine): `claimtrail_tasks{state,task}` (queue depth: READY, RUNNING, FAILED),
  `claimtrail_task_duration_seconds{task}` and `claimtrail_tasks_finished{task}` over the
  last hour, `claimtrail_worker_heartbeat_age_seconds`. A database that does not answer
  within READYZ_WAIT_SECONDS leaves them out; the rest is served.

Served only when METRICS_TOKEN is set, to `Authorization: Bearer <METRICS_TOKEN>`; before
the host check, like the probes, so Prometheus can scrape each server's own address. With
several gunicorn workers, PROMETHEUS_MULTIPROC_DIR adds their figures up.
"""

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse
from django_prometheus.db import errors_total, execute_total, query_duration_seconds
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from config.bounds import bounded
from jobs import engine


def count_query(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    connection = context["connection"]
    labels = (connection.alias, connection.vendor)
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    except Exception as error:
        errors_total.labels(*labels, type(error).__name__).inc()
        raise
    finally:
        execute_total.labels(*labels).inc()
        query_duration_seconds.labels(*labels).observe(time.perf_counter() - started)


def instrument(connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    # First in the list: Django's execute_wrapper() blocks remove the last one on leaving.
    if count_query not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, count_query)


connection_created.connect(instrument)
for _connection in connections.all(initialized_only=True):
    instrument(_connection)


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def metrics(request: HttpRequest) -> HttpResponse:
    """The metrics page, for the bearer of METRICS_TOKEN; 404 while it is unset."""
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        given = ""  # the token alone, or under another scheme, is not accepted
    # Digests compared, so that not even the token's length shows in the time taken.
    if not hmac.compare_digest(_digest(given.strip()), _digest(token)):
        response = HttpResponse(
            "Send the metrics token: Authorization: Bearer <METRICS_TOKEN>.",
            status=401,
            content_type="text/plain",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    response = ExportToDjangoView(request)
    response.content += generate_latest(TASKS)
    return response


class TaskCollector:
    """The task engine's figures, from the database, at each scrape."""

    def collect(self) -> Any:
        try:
            with bounded(settings.READYZ_WAIT_SECONDS):
                depth = engine.queue_depth()
                durations = engine.recent_durations()
                age = engine.last_heartbeat_age()
        except Exception:  # the database's trouble is /readyz's to report; metrics go on
            return
        tasks = GaugeMetricFamily(
            "claimtrail_tasks", "Background tasks by state and task.", labels=["state", "task"]
        )
        for key, count in depth.items():
            state, path = key.split("|", 1)
            tasks.add_metric([state, path], count)
        yield tasks
        seconds = GaugeMetricFamily(
            "claimtrail_task_duration_seconds",
            "Mean seconds a task took, of those finished in the last hour.",
            labels=["task"],
        )
        finished = GaugeMetricFamily(
            "claimtrail_tasks_finished", "Tasks finished in the last hour.", labels=["task"]
        )
        for path, (count, mean) in durations.items():
            seconds.add_metric([path], mean)
            finished.add_metric([path], count)
        yield seconds
        yield finished
        if age is not None:
            yield GaugeMetricFamily(
                "claimtrail_worker_heartbeat_age_seconds",
                "Seconds since a worker last said it was alive.",
                value=age,
            )


TASKS = CollectorRegistry(auto_describe=False)
TASKS.register(TaskCollector())
