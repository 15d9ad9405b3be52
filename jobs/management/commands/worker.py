"""manage.py worker: take tasks from the database and run them, one at a time (django-tasks-
db's db_worker), while a thread beside it says the worker is alive, takes back tasks of
workers gone silent and enqueues scheduled tasks (jobs.engine). Run as many as the queue
needs, on as many machines (docs/deploy.md)."""

import threading
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from django_tasks_db.management.commands import db_worker

from jobs import engine


class Command(db_worker.Command):
    help = (
        "Run background tasks (captures, quote rechecks, archive requests) from the "
        "database, with heartbeats, lease recovery and the schedule."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        beat = threading.Thread(
            target=self.keep_beating,
            args=(options["worker_id"], stop),
            name="worker-heartbeat",
            daemon=True,
        )
        beat.start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()

    def keep_beating(self, worker_id: str, stop: threading.Event) -> None:
        """Every WORKER_HEARTBEAT_SECONDS: beat, recover, schedule. A database that does
        not answer is tried again at the next beat; the worker goes on meanwhile."""
        started_at = timezone.now()
        while not stop.is_set():
            try:
                engine.beat(worker_id, started_at=started_at)
                if taken := engine.recover():
                    self.stdout.write(f"Took back {taken} task(s) of workers gone silent.")
                engine.schedule_due()
            except DatabaseError as error:
                self.stderr.write(f"Heartbeat: the database did not answer ({error}).")
                connection.close()
            stop.wait(settings.WORKER_HEARTBEAT_SECONDS)
        connection.close()
