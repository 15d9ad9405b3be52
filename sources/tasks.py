"""Background tasks of sources (jobs.engine runs them; each is safe to run twice)."""

from typing import Any

from django_tasks import task

from jobs.engine import durable
from sources.capture import capture
from sources.models import Source


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
    return {
        "outcome": "captured",
        "snapshot": snapshot.pk,
        "words": " ".join(["Snapshot captured.", *snapshot.notes]),
    }
