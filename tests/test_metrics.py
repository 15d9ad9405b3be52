"""/metrics for Prometheus (config/metrics.py): requests, latencies, database queries and
export rows, for the bearer of METRICS_TOKEN only."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from tests.factories import CitationFactory

pytestmark = pytest.mark.django_db

TOKEN = "metrics-test-token-" + "z" * 20


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the metrics page (0 when it is not there yet)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = (
        rf"^{re.escape(name)}(?:\{{{re.escape(wanted)}\}})? (\S+)$"
        if labels
        else (rf"^{re.escape(name)} (\S+)$")
    )
    match = re.search(pattern, text, re.MULTILINE)
    return float(match[1]) if match else 0.0


def scrape(client: Client) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_HOST="10.0.0.7")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_metrics_count_requests_queries_and_export_rows(client: Client, settings: Any) -> None:
    settings.METRICS_TOKEN = TOKEN
    CitationFactory.create_batch(3)
    before = scrape(client)
    alias = {"alias": "default", "vendor": connection.vendor}

    assert client.get("/api/v1/claims/").status_code == 200
    export = b"".join(client.get("/api/v1/claims.csv").streaming_content)
    after = scrape(client)

    assert export.count(b"\n") == 4  # the header and three claims
    rows = "claimtrail_export_rows_total"
    assert sample(after, rows, export="claims") - sample(before, rows, export="claims") == 3
    queries = "django_db_execute_total"
    assert sample(after, queries, **alias) > sample(before, queries, **alias)
    requests = "django_http_requests_total_by_method_total"
    # The two above; probes and scrapes are answered before the counting middleware.
    assert sample(after, requests, method="GET") - sample(before, requests, method="GET") == 2
    latency = "django_http_requests_latency_seconds_by_view_method_count"
    labels = {"method": "GET", "view": "claim-list"}  # in the order the page writes them
    assert sample(after, latency, **labels) >= 1


def test_metrics_need_the_token_and_are_off_without_one(client: Client, settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404

    settings.METRICS_TOKEN = TOKEN
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert b"django_http" not in refused.content


def test_metrics_take_the_token_only_after_bearer(client: Client, settings: Any) -> None:
    settings.METRICS_TOKEN = TOKEN

    bare = client.get("/metrics", HTTP_AUTHORIZATION=TOKEN)
    basic = client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}")
    bearer = client.get("/metrics", HTTP_AUTHORIZATION=f"bearer {TOKEN}")

    assert bare.status_code == 401
    assert b"django_http" not in bare.content
    assert basic.status_code == 401
    assert bearer.status_code == 200  # the scheme's name is case-insensitive (RFC 9110)


def test_a_made_up_method_is_a_405_and_adds_no_series(client: Client, settings: Any) -> None:
    settings.METRICS_TOKEN = TOKEN

    response = client.generic("BREW", "/api/v1/claims/")

    assert response.status_code == 405
    assert "BREW" not in scrape(client)


def test_metrics_report_the_task_queue_durations_and_the_workers_heartbeat(
    client: Client, settings: Any
) -> None:
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from jobs import engine
    from sources.tasks import capture_source
    from tests.factories import SourceFactory

    settings.METRICS_TOKEN = TOKEN
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}
    source = SourceFactory(url="")
    for _ in range(3):
        capture_source.enqueue(source.pk)
    done = DBTaskResult.objects.first()
    assert done is not None
    done.claim("w")
    done.set_failed(RuntimeError("no"))
    DBTaskResult.objects.filter(pk=done.pk).update(
        started_at=timezone.now() - timedelta(seconds=4), finished_at=timezone.now()
    )
    engine.beat("w", started_at=timezone.now())

    page = scrape(client)

    path = "sources.tasks.capture_source"
    assert sample(page, "claimtrail_tasks", state="READY", task=path) == 2
    assert sample(page, "claimtrail_tasks", state="FAILED", task=path) == 1
    assert sample(page, "claimtrail_tasks_finished", task=path) == 1
    assert 3.9 < sample(page, "claimtrail_task_duration_seconds", task=path) < 4.1
    assert 0 <= sample(page, "claimtrail_worker_heartbeat_age_seconds") < 60
