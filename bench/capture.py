"""`benchmark --only capture`: captures per second from a local web server with one and two
real worker processes (manage.py worker --batch), and the queue's overhead per task (a
capture enqueued through Django's Tasks API) against a bare INSERT of the same row.

The captures are real: each of CAPTURES sources has a page of its own on the local server
(HTML, about 20 KB), fetched, read in the bounded child process and stored. Everything
they write is deleted afterwards; the files go to a temporary folder."""

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from sources.models import Snapshot, Source
from sources.tasks import capture_source

ROOT = Path(__file__).resolve().parent.parent
PARAGRAPH = "The documents describe the rules of the camps in detail, page after page. "


class _Page(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = (
            f"<html><head><title>Page {self.path}</title></head><body><article>"
            + f"<p>{PARAGRAPH * 4} {self.path}</p>" * 60
            + "</article></body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def measure_capture(
    results: dict[str, Any], *, captures: int, repeat: int, report: Callable[[str], None]
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with tempfile.TemporaryDirectory() as media:
            for workers in (1, 2):
                report(f"{captures} captures with {workers} worker(s)")
                seconds = _captures(base, captures, workers, media)
                results[f"capture_{workers}_worker_per_s"] = captures / seconds
        results["capture_2_workers_ratio"] = (
            results["capture_2_worker_per_s"] / results["capture_1_worker_per_s"]
        )
    finally:
        server.shutdown()
        server.server_close()
    report("queue overhead per task")
    _enqueue_overhead(results, repeat)


def _captures(base: str, count: int, workers: int, media: str) -> float:
    run = uuid.uuid4().hex[:8]
    sources = Source.objects.bulk_create(
        Source(title=f"Capture benchmark {run} {n}", kind="other", url=f"{base}/{run}/{n}")
        for n in range(count)
    )
    ids = [source.pk for source in sources]
    with transaction.atomic():
        tasks = [capture_source.enqueue(pk).id for pk in ids]
    env = {
        **os.environ,
        "TASKS_BACKEND": "database",
        "LINK_CHECK_ALLOW_PRIVATE": "true",
        "MEDIA_ROOT": media,
        "DEBUG": os.environ.get("DEBUG", "true"),
    }
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "worker",
                "--batch",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0",
                "--verbosity",
                "0",
            ],
            cwd=ROOT,
            env=env,
        )
        for _ in range(workers)
    ]
    for process in processes:
        process.wait()
    seconds = time.perf_counter() - started
    done = Snapshot.objects.filter(source_id__in=ids).count()
    failed = DBTaskResult.objects.filter(pk__in=tasks, status="FAILED").count()
    DBTaskResult.objects.filter(pk__in=tasks).delete()
    Snapshot.objects.filter(source_id__in=ids).delete()
    Source.objects.filter(pk__in=ids).delete()
    if done != count:
        raise ValueError(f"Only {done} of {count} captures were stored ({failed} failed).")
    return seconds


def _enqueue_overhead(results: dict[str, Any], repeat: int) -> None:
    """Median milliseconds of enqueueing a capture through the Tasks API, and of a bare
    INSERT of the same row, each in a transaction rolled back."""
    table = DBTaskResult._meta.db_table
    now = timezone.now()

    def enqueue() -> float:
        with transaction.atomic():
            started = time.perf_counter()
            capture_source.enqueue(1)
            elapsed = time.perf_counter() - started
            transaction.set_rollback(True)
        return elapsed * 1000

    def bare() -> float:
        with transaction.atomic(), connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(
                f"INSERT INTO {table} (id, status, enqueued_at, priority, task_path, "
                "queue_name, backend_name, run_after, args_kwargs, worker_ids, "
                "exception_class_path, traceback, return_value) VALUES (%s, 'READY', %s, 0, %s, "
                "'default', 'default', %s, %s, '[]', '', '', 'null')",
                [
                    uuid.uuid4(),
                    now,
                    capture_source.module_path,
                    "9999-01-01 00:00:00+00",
                    '{"args": [1], "kwargs": {}}',
                ],
            )
            elapsed = time.perf_counter() - started
            transaction.set_rollback(True)
        return elapsed * 1000

    enqueue(), bare()  # warm
    timed = [(enqueue(), bare()) for _ in range(max(repeat, 11) * 5)]
    results["enqueue_ms"] = statistics.median(t for t, _ in timed)
    results["enqueue_bare_insert_ms"] = statistics.median(b for _, b in timed)
    results["enqueue_overhead_ratio"] = results["enqueue_ms"] / results["enqueue_bare_insert_ms"]
