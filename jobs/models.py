"""What the task engine keeps beside django-tasks-db's own rows (DBTaskResult): which
workers are alive, and when each scheduled task was last enqueued."""

from django.db import models
from django_tasks_db.models import DBTaskResult


class WorkerHeartbeat(models.Model):
    """A worker process, and when it last said it was alive (jobs.engine.beat). A task
    running on a worker silent for WORKER_LEASE_SECONDS is taken back (recover)."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.worker_id


class ScheduledRun(models.Model):
    """A task of settings.TASK_SCHEDULE, and when a worker last enqueued it: one row per
    task, locked while a worker decides, so that many workers enqueue it once."""

    task_path = models.CharField(max_length=200, primary_key=True)
    enqueued_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.task_path


class FailedTask(DBTaskResult):
    """A task that failed for good (its retries spent, or a failure not worth retrying),
    as editors see it in the admin (jobs.admin)."""

    class Meta:
        proxy = True
        verbose_name = "failed task"
