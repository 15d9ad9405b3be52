"""The task engine (jobs.engine, manage.py worker): tasks enqueued with the edit, retried
with backoff, failures in words an editor can act on, and a worker killed mid-task whose
task another worker runs again. The last tests start real worker processes."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from jobs import engine
from jobs.models import WorkerHeartbeat
from sources.models import Snapshot
from sources.services import save_source
from sources.tasks import capture_source
from tests.factories import SourceFactory
from tests.pages import ARTICLE, Page, Site, serve_site
from tests.sources.test_capture import DATABASE_TASKS, drain
from tests.test_gunicorn import server_env

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def site(settings: Any) -> Iterator[Site]:
    settings.LINK_CHECK_ALLOW_PRIVATE = True
    settings.TASKS = DATABASE_TASKS
    for site in serve_site():
        site.pages["/story"] = Page(ARTICLE)
        yield site


def make_ready(result: DBTaskResult) -> None:
    """As if its backoff had passed."""
    DBTaskResult.objects.filter(pk=result.pk).update(run_after=timezone.now())


@pytest.mark.django_db
def test_a_passing_failure_is_retried_with_backoff_then_fails_in_words(
    site: Site, settings: Any, editor_client: Client
) -> None:
    settings.TASK_MAX_ATTEMPTS = 3
    settings.TASK_RETRY_SECONDS = 60
    site.pages["/busy"] = Page(b"Busy.", status=503)
    source = SourceFactory(url=site.url("/busy"))
    capture_source.enqueue(source.pk)

    waits = []
    for attempt in (1, 2):
        assert drain() == 1
        retry = DBTaskResult.objects.ready().first()
        assert retry is None  # not before its time
        retry = DBTaskResult.objects.filter(status="READY").get()
        assert retry.args_kwargs["kwargs"]["attempt"] == attempt + 1
        waits.append(round((retry.run_after - timezone.now()).total_seconds() / 60))
        make_ready(retry)
    assert waits == [1, 2]  # a minute, then two
    assert drain() == 1
    failed = DBTaskResult.objects.get(status="FAILED")
    assert engine.error_in_words(failed) == (
        "The page answered 503; asked again later. (tried 3 times)"
    )
    assert site.hits("/busy") == 3
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 2  # the retried runs

    # Editors see it in the admin, in words, and run it again once the page is back.
    listed = editor_client.get("/admin/jobs/failedtask/").content.decode()
    assert "The page answered 503; asked again later. (tried 3 times)" in listed
    assert "Capture source" in listed
    site.pages["/busy"] = Page(ARTICLE)
    response = editor_client.post(
        "/admin/jobs/failedtask/",
        {"action": "retry", "_selected_action": [failed.pk]},
        follow=True,
    )
    assert "1 task(s) queued again." in response.content.decode()
    assert not DBTaskResult.objects.filter(status="FAILED").exists()
    assert drain() == 1
    assert source.snapshots.count() == 1


@pytest.mark.django_db
def test_a_failure_that_retrying_cannot_mend_fails_at_once(site: Site) -> None:
    site.pages["/gone"] = Page(b"Gone.", status=404)
    capture_source.enqueue(SourceFactory(url=site.url("/gone")).pk)

    assert drain() == 1

    failed = DBTaskResult.objects.get()
    assert failed.status == "FAILED"
    assert engine.error_in_words(failed) == "The page answered 404: nothing to capture."


@pytest.mark.django_db
def test_a_task_left_running_by_a_silent_worker_is_taken_back(site: Site, settings: Any) -> None:
    settings.WORKER_LEASE_SECONDS = 60
    settings.TASK_MAX_ATTEMPTS = 3
    now = timezone.now()
    long_ago = now - timedelta(minutes=5)
    source = SourceFactory(url=site.url("/story"))
    results = [capture_source.enqueue(source.pk) for _ in range(3)]
    rows = {str(row.pk): row for row in DBTaskResult.objects.all()}
    alive, gone, poison = (rows[r.id] for r in results)
    alive.claim("alive-worker")
    gone.claim("gone-worker")
    poison.worker_ids = ["w1", "w2"]
    poison.save()
    poison.claim("w3")
    DBTaskResult.objects.update(started_at=long_ago)
    engine.beat("alive-worker", started_at=long_ago)
    WorkerHeartbeat.objects.create(worker_id="gone-worker", started_at=long_ago, seen_at=long_ago)

    assert engine.recover() == 1

    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert statuses == {alive.pk: "RUNNING", gone.pk: "READY", poison.pk: "FAILED"}
    assert engine.error_in_words(DBTaskResult.objects.get(pk=poison.pk)) == (
        "Its worker stopped 3 times while running it."
    )
    # A task just claimed is never taken, whatever its worker's heartbeat.
    DBTaskResult.objects.filter(pk=alive.pk).update(started_at=now, worker_ids=["unknown"])
    assert engine.recover() == 0


@pytest.mark.django_db
def test_the_queue_is_measured_for_metrics_and_readiness(site: Site) -> None:
    source = SourceFactory(url=site.url("/story"))
    capture_source.enqueue(source.pk)
    capture_source.enqueue(source.pk)

    assert engine.queue_depth() == {"READY|sources.tasks.capture_source": 2}
    assert engine.last_heartbeat_age() is None
    engine.beat("w", started_at=timezone.now())
    age = engine.last_heartbeat_age()
    assert age is not None
    assert 0 <= age < 60


# Real worker processes, on the test database: PostgreSQL (a second process needs a
# database it can share; SQLite's test database is in this process's memory).
@pytest.fixture
def start_worker() -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        env = server_env(
            TASKS_BACKEND="database",
            LINK_CHECK_ALLOW_PRIVATE="true",
            WORKER_HEARTBEAT_SECONDS="1",
            WORKER_LEASE_SECONDS="3",
        )
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--no-reload", "--interval", "0.2"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def wait_for(check: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time given"
        time.sleep(0.2)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a worker process needs a shared database"
)
def test_a_real_worker_captures_a_source_saved_with_a_url(
    site: Site, settings: Any, start_worker: Callable[[], subprocess.Popen[bytes]]
) -> None:
    settings.CAPTURE_ON_SAVE = True

    start_worker()
    data = {"title": "Leaked files", "kind": "news_article", "url": site.url("/story")}
    source = save_source(source=None, data=data)

    wait_for(lambda: Snapshot.objects.filter(source=source).exists())
    assert "Never allow escapes" in Snapshot.objects.get(source=source).text
    assert WorkerHeartbeat.objects.exists()
    wait_for(lambda: DBTaskResult.objects.get().status == "SUCCESSFUL")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a worker process needs a shared database"
)
def test_a_worker_killed_mid_task_leaves_its_task_to_another(
    site: Site, start_worker: Callable[[], subprocess.Popen[bytes]]
) -> None:
    # The page hangs the first time it is asked for: the first worker is killed then.
    site.pages["/hangs"] = Page(ARTICLE, delay=120, slow_times=1)
    source = SourceFactory(url=site.url("/hangs"))
    capture_source.enqueue(source.pk)
    first = start_worker()
    wait_for(lambda: site.hits("/hangs") == 1)
    assert DBTaskResult.objects.get().status == "RUNNING"

    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    start_worker()

    wait_for(lambda: DBTaskResult.objects.get().status == "SUCCESSFUL")
    result = DBTaskResult.objects.get()
    assert len(result.worker_ids) == 2  # the killed worker's claim, then the second's
    assert source.snapshots.count() == 1
    assert site.hits("/hangs") == 2


@pytest.mark.django_db
def test_the_failed_task_list_uses_a_fixed_number_of_queries(
    site: Site, editor_client: Client, django_assert_num_queries: Any
) -> None:
    from django.test.utils import CaptureQueriesContext

    site.pages["/gone"] = Page(b"Gone.", status=404)

    def fail(count: int) -> None:
        for _ in range(count):
            capture_source.enqueue(SourceFactory(url=site.url("/gone")).pk)
        drain()

    fail(2)
    editor_client.get("/admin/jobs/failedtask/")  # warm: the session, the permissions
    with CaptureQueriesContext(connection) as few:
        assert editor_client.get("/admin/jobs/failedtask/").status_code == 200
    fail(20)
    with django_assert_num_queries(len(few.captured_queries)):
        page = editor_client.get("/admin/jobs/failedtask/").content.decode()
    assert page.count("The page answered 404: nothing to capture.") == 22
