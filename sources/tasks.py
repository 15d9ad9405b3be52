"""Background tasks of sources (jobs.engine runs them; each is safe to run twice)."""

from typing import Any

from django.conf import settings
from django_tasks import task

from jobs.engine import durable
from sources import archive_requests
from sources.capture import capture
from sources.models import ArchiveRequest, Source


@task()
@durable
def capture_source(source_id: int, *, only_if_missing: bool = False) -> dict[str, Any]:
    """Capture the source's page as a snapshot (sources.capture). `only_if_missing`: as on
    a save, when a snapshot taken meanwhile (by an editor, another worker) makes it moot."""
    source = Source.objects.filter(pk=source_id).first()
    if source is None:
        return {"outcome": "gone", "words": "The source was deleted before its capture."}
    if only_if_missing and source.snapshots.exists():
        return {"outcome": "skipped", "words": "The source has a snapshot already."}
    snapshot = capture(source)
    if snapshot is None:
        return {"outcome": "unchanged", "words": "The page is as its latest snapshot has it."}
    if settings.ARCHIVE_SAVE_URL:
        request = ArchiveRequest.objects.create(source=source, url=source.url)
        archive_page.enqueue(request.pk)
    return {
        "outcome": "captured",
        "snapshot": snapshot.pk,
        "words": " ".join(["Snapshot captured.", *snapshot.notes]),
    }


@task()
@durable
def archive_page(request_id: int, attempt: int = 1) -> dict[str, Any]:
    """Ask the archive to save the page (once), then follow its job: a job under way, a
    rate limit or the archive's trouble is tried again later (jobs.engine); after the last
    attempt the request says why it ended, as a failure does."""
    request = ArchiveRequest.objects.filter(pk=request_id).first()
    if request is None or request.status in (
        ArchiveRequest.Status.DONE,
        ArchiveRequest.Status.FAILED,
    ):
        return {"outcome": "done", "words": "Nothing left to ask the archive."}
    try:
        if not request.job_id:
            archive_requests.request_save(request)
        archive_requests.follow(request)
    except archive_requests.Failed as error:
        ArchiveRequest.objects.filter(pk=request.pk).update(
            status=ArchiveRequest.Status.FAILED, error=str(error)[:300]
        )
        raise
    except archive_requests.Transient as error:
        if attempt >= settings.TASK_MAX_ATTEMPTS:
            ArchiveRequest.objects.filter(pk=request.pk).update(
                status=ArchiveRequest.Status.FAILED,
                error=f"{error} (tried {attempt} times; run the task again to go on)"[:300],
            )
        raise
    return {"outcome": "archived", "words": f"Archived: {request.archive_url}"}
