"""The task engine's rules, on Django's Tasks API (django-tasks, the API Django 6 ships)
with its database backend (django-tasks-db): a task is a row written in the transaction of
the edit that causes it, so a rolled-back edit enqueues nothing and a committed one loses
nothing; any number of workers (manage.py worker) take rows from the database.

What the engine adds to django-tasks-db:

- retries: a task made with `durable` that raises Transient is enqueued again, later
  (TASK_RETRY_SECONDS, doubled each attempt, at most TASK_MAX_ATTEMPTS attempts); one that
  raises Failed, or runs out of attempts, fails with its sentence for the editor;
- leases: each worker beats (WorkerHeartbeat); a task left running by a worker silent for
  WORKER_LEASE_SECONDS (killed, its machine lost) is made ready again (recover);
- a schedule: settings.TASK_SCHEDULE's tasks, enqueued once per interval by whichever
  worker comes first (schedule_due).
"""

import functools
import inspect
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import TaskResult, TaskResultStatus, task_backends
from django_tasks_db.models import DBTaskResult

from jobs.models import ScheduledRun, WorkerHeartbeat

F = TypeVar("F", bound=Callable[..., Any])


class Transient(Exception):
    """A failure worth trying again later (no answer in time, a 503, a rate limit), in
    words for the editor."""


class Failed(Exception):
    """A failure that trying again will not mend (a 404, a page too large), in words for
    the editor."""


class WorkerLost(Exception):
    """The task's worker stopped while running it, TASK_MAX_ATTEMPTS times."""


def backoff(attempt: int) -> timedelta:
    """How long to wait before attempt `attempt` + 1: TASK_RETRY_SECONDS, doubled each
    attempt, at most six hours."""
    return timedelta(seconds=min(settings.TASK_RETRY_SECONDS * 2 ** (attempt - 1), 6 * 3600))


def durable(func: F) -> F:
    """Make a task function retried on Transient: it takes `attempt` (1 first); a
    Transient error before the last attempt enqueues it again after backoff(attempt) and
    answers when; on the last, or where the backend cannot defer (the immediate backend
    of tests), it fails with the error's sentence. A function with an `attempt` parameter
    is told which attempt it is (to record a last failure). Apply @task() on top."""

    takes_attempt = "attempt" in inspect.signature(func).parameters

    @functools.wraps(func)
    def run(*args: Any, attempt: int = 1, **kwargs: Any) -> Any:
        try:
            return func(*args, **({**kwargs, "attempt": attempt} if takes_attempt else kwargs))
        except Transient as error:
            task = import_string(f"{func.__module__}.{func.__name__}")
            if not will_retry(task, attempt):
                raise Failed(f"{error} (tried {attempt} times)") from error
            at = timezone.now() + backoff(attempt)
            task.using(run_after=at).enqueue(*args, attempt=attempt + 1, **kwargs)
            return {"retry_at": at.isoformat(), "attempt": attempt, "error": str(error)}

    return run  # type: ignore[return-value]


def will_retry(task: Any, attempt: int) -> bool:
    """Whether a durable task failing Transient at `attempt` is tried again (else it fails):
    attempts are left, and its backend can wait before running it (the immediate backend of
    tests cannot)."""
    return attempt < settings.TASK_MAX_ATTEMPTS and bool(task.get_backend().supports_defer)


def error_in_words(result: DBTaskResult) -> str:
    """Why a failed task failed, as its exception said it (a stored row)."""
    return _words(result.traceback or "", result.exception_class_path or "")


def _words(traceback: str, class_path: str) -> str:
    """A traceback's last line, without the exception's class; its class's name when the
    exception said nothing."""
    last = traceback.strip().rsplit("\n", 1)[-1]
    words = last.split(": ", 1)[1] if ": " in last else ""
    if words:
        return words
    return f"It stopped with an error of ours ({class_path.rsplit('.', 1)[-1] or 'unknown'})."


def beat(worker_id: str, *, started_at: datetime) -> None:
    """Say that this worker is alive."""
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id, defaults={"seen_at": timezone.now(), "started_at": started_at}
    )


def recover(now: datetime | None = None) -> int:
    """Make ready again each task left running by a worker silent for WORKER_LEASE_SECONDS
    (or fail it, in words, when workers stopped under it TASK_MAX_ATTEMPTS times: a task
    that kills its worker must not kill them all); return how many were taken back."""
    now = now or timezone.now()
    since = now - timedelta(seconds=settings.WORKER_LEASE_SECONDS)
    alive = set(WorkerHeartbeat.objects.filter(seen_at__gte=since).values_list("pk", flat=True))
    taken = 0
    with transaction.atomic():
        running = DBTaskResult.objects.select_for_update(skip_locked=True).filter(
            status=TaskResultStatus.RUNNING, started_at__lt=since
        )
        for result in running:
            if result.worker_ids and result.worker_ids[-1] in alive:
                continue
            if len(result.worker_ids) >= settings.TASK_MAX_ATTEMPTS:
                result.set_failed(
                    WorkerLost(
                        f"Its worker stopped {len(result.worker_ids)} times while running it."
                    )
                )
                continue
            result.status = TaskResultStatus.READY
            result.save(update_fields=["status"])
            taken += 1
    WorkerHeartbeat.objects.filter(seen_at__lt=now - timedelta(days=1)).delete()
    return taken


def schedule_due(now: datetime | None = None) -> list[str]:
    """Enqueue each task of settings.TASK_SCHEDULE ({path: seconds}) whose interval has
    passed since it was last enqueued (or first seen); many workers enqueue it once.
    Return their paths."""
    now = now or timezone.now()
    enqueued = []
    for path, seconds in settings.TASK_SCHEDULE.items():
        # First seen now: its first run is one interval later (a new deployment, or
        # `make run`, does not set off the watch of every page at its first start).
        ScheduledRun.objects.get_or_create(task_path=path, defaults={"enqueued_at": now})
        with transaction.atomic():
            run = ScheduledRun.objects.select_for_update().get(task_path=path)
            if run.enqueued_at + timedelta(seconds=seconds) > now:
                continue
            import_string(path).enqueue()
            run.enqueued_at = now
            run.save(update_fields=["enqueued_at"])
            enqueued.append(path)
    return enqueued


def queue_depth() -> dict[str, int]:
    """Tasks waiting (ready), running and failed, by task, for /metrics."""
    rows = (
        DBTaskResult.objects.filter(
            status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING, TaskResultStatus.FAILED]
        )
        .values_list("status", "task_path")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {f"{status}|{path}": n for status, path, n in rows}


def last_heartbeat_age(now: datetime | None = None) -> float | None:
    """Seconds since any worker last beat; None when none ever did."""
    now = now or timezone.now()
    seen = WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
    return None if seen is None else (now - seen).total_seconds()


def uses_database_backend() -> bool:
    return type(task_backends["default"]).__name__ == "DatabaseBackend"


def latest_run(task_path: str, first_arg: Any) -> TaskResult | None:
    """The latest task of this path whose first argument is `first_arg` (a source's
    capture, say), for showing its state; None when there is none."""
    row = (
        DBTaskResult.objects.filter(task_path=task_path, args_kwargs__args__0=first_arg)
        .order_by("-enqueued_at")
        .first()
    )
    # django-tasks-db's result is django-tasks' (the stubs' generics differ).
    return None if row is None else cast(TaskResult, row.task_result)


def state_in_words(result: TaskResult | None) -> str:
    """A task's state for an editor, from any backend's result (the database's, or the
    immediate backend's that ran it at once)."""
    if result is None:
        return "Never run."
    match result.status:
        case TaskResultStatus.READY:
            return "Queued."
        case TaskResultStatus.RUNNING:
            return "Running now."
        case TaskResultStatus.FAILED:
            error = result.errors[-1] if result.errors else None
            return "Failed: " + _words(
                error.traceback if error else "", error.exception_class_path if error else ""
            )
    value = result.return_value
    return str(value.get("words") or "Done.") if isinstance(value, dict) else "Done."


def recent_durations(hours: int = 1) -> dict[str, tuple[int, float]]:
    """Tasks finished in the last `hours`, by task: how many, and their mean seconds from
    start to end, for /metrics."""
    since = timezone.now() - timedelta(hours=hours)
    rows = (
        DBTaskResult.objects.filter(finished_at__gte=since, started_at__isnull=False)
        .values_list("task_path", "started_at", "finished_at")
        .order_by()[:10_000]
    )
    totals: dict[str, tuple[int, float]] = {}
    for path, started, finished in rows:
        if started is None or finished is None:
            continue
        count, seconds = totals.get(path, (0, 0.0))
        totals[path] = (count + 1, seconds + (finished - started).total_seconds())
    return {path: (count, seconds / count) for path, (count, seconds) in totals.items()}
