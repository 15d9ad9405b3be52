"""benchmark --only capture: real worker processes capture a local server's pages; the
figures are printed, never asserted on as times (docs/performance.md)."""

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from sources.models import Snapshot, Source
from tests.test_gunicorn import server_env

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the benchmark compares with PostgreSQL"
    ),
]


def test_the_capture_benchmark_captures_every_page_and_cleans_up(
    monkeypatch: Any, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}
    # The worker processes use this test's database.
    monkeypatch.setenv("DATABASE_URL", server_env()["DATABASE_URL"])
    out = io.StringIO()

    call_command("benchmark", "--only", "capture", "--captures", "3", "--repeat", "1", stdout=out)

    figures = dict(line.split(None, 1) for line in out.getvalue().splitlines())
    assert float(figures["capture_1_worker_per_s"].replace(",", "")) > 0
    assert float(figures["capture_2_worker_per_s"].replace(",", "")) > 0
    assert figures["enqueue_overhead_ratio"].split()[1:3] == ["target", "<="]
    assert not Source.objects.exists()
    assert not Snapshot.objects.exists()
    assert not DBTaskResult.objects.exists()
