"""Writes that span several models: a source with its authors and provenance links; a
source's snapshot, stored with its file."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import DatabaseError, transaction
from django.dispatch import Signal
from django_tasks import TaskResult

from sources.locks import lock_file_name, lock_rows
from sources.models import Provenance, Snapshot, Source, protected_by
from sources.snapshots import Reading, check_size, read_snapshot
from sources.tasks import capture_source

# Sent by add_snapshot with the new `snapshot`, inside its transaction, so that a layer
# above keeps what depends on a source's text true (claims: its citations' quote checks,
# claims.apps). A receiver may answer a sentence for the editor (Snapshot.notes); an error
# it raises rolls the snapshot back.
snapshot_added = Signal()


@transaction.atomic
def save_source(*, source: Source | None, data: dict[str, Any]) -> Source:
    """Create or update a source; `authors` and `based_on`, when given, become exactly
    those lists. Every row is validated with full_clean() before it is written (a link
    cannot make a source its own ancestor); any error rolls everything back."""
    data = dict(data)
    authors = data.pop("authors", None)
    based_on = data.pop("based_on", None)
    source = source or Source()
    for field, value in data.items():
        setattr(source, field, value)
    source.full_clean()
    source.save()
    if authors is not None:
        source.authors.set(authors)
    if based_on is not None:
        keep = {upstream.pk for upstream in based_on}
        dropped = list(source.provenance_links.exclude(based_on__in=keep))
        if users := protected_by(dropped):
            raise ValidationError(
                {
                    "based_on": "A link this leaves out is on a citation's recorded path "
                    f"({'; '.join(users)}): change those citations' paths first, or keep it."
                }
            )
        for link in dropped:
            link.delete()
        existing = set(source.provenance_links.values_list("based_on_id", flat=True))
        for upstream in based_on:
            if upstream.pk not in existing:
                link = Provenance(source=source, based_on=upstream)
                link.full_clean()
                link.save()
    capture_if_missing(source)
    return source


def capture_if_missing(source: Source) -> TaskResult | None:
    """When a source saved with a URL has no snapshot, capture its page in the background
    (sources.tasks.capture_source), enqueued in the caller's transaction: a save rolled
    back enqueues nothing. Off with CAPTURE_ON_SAVE=false. Called by every door that saves
    a source: the admin, the API (save_source) and the import."""
    if not settings.CAPTURE_ON_SAVE or not source.url or source.snapshots.exists():
        return None
    return capture_source.enqueue(source.pk, only_if_missing=True)


def request_capture(source: Source) -> TaskResult:
    """Capture the source's page now, in the background ("Capture now": the admin, the
    API): a page unchanged since its latest snapshot adds none."""
    if not source.url:
        raise ValidationError("This source has no URL to capture.", code="no_url")
    return capture_source.enqueue(source.pk)


def read_upload(upload: File) -> Reading:
    """What an uploaded file is as a snapshot (sources.snapshots.read_snapshot), its size
    checked before it is read; the file is read from its start and left there, to be
    stored. A save tried again (sources.admin.SafeSaveAdmin) gets the first try's reading:
    the file's text is read, in a child process, once a request."""
    if (reading := getattr(upload, "snapshot_reading", None)) is not None:
        return reading  # read by a try of this save before: the child process runs once
    if upload.size is not None:
        check_size(upload.size)
    upload.seek(0)
    try:
        upload.snapshot_reading = read_snapshot(  # type: ignore[attr-defined]
            upload.read(settings.SNAPSHOT_MAX_BYTES + 1)
        )
    finally:
        upload.seek(0)
    return upload.snapshot_reading  # type: ignore[attr-defined]


def add_snapshot(
    *,
    source: Source,
    upload: File,
    captured_at: datetime,
    user: User | None,
    reading: Reading | None = None,
    fetched_from: str = "",
) -> Snapshot:
    """Store a snapshot of `source` from an uploaded file: its bytes through the default
    storage (local files, or any django-storages backend), its type, digest, size and
    text. A file too large, of another type, without text or already added is refused
    with a ValidationError, and nothing is stored. `reading`: the file already read
    (read_upload), by a form that checked it. `fetched_from`: the URL it was captured
    from (sources.capture), when no editor added it.

    The file is stored before its row is written, under its content's name (store_file);
    when the write fails it is removed again, unless another source's snapshot of the same
    content uses it. A caller's transaction rolled back after this returned leaves the
    file, which its retry (or the next upload of the same bytes) uses again."""
    reading = reading or read_upload(upload)
    with transaction.atomic():
        # One writer per source; citations' writers wait (sources.locks' order).
        lock_rows(sources=[source.pk])
        if Snapshot.objects.filter(source=source, sha256=reading.sha256).exists():
            raise ValidationError(
                "This source already has a snapshot with this content.", code="duplicate"
            )
        snapshot = Snapshot(
            source=source,
            media_type=reading.media_type,
            sha256=reading.sha256,
            size=reading.size,
            captured_at=captured_at,
            text=reading.text,
            created_by=user,
            fetched_from=fetched_from,
            metadata=reading.metadata,
        )
        snapshot.file.name = store_file(snapshot, reading, upload)
        try:
            with transaction.atomic():
                snapshot.save()
                # What the new text changes in the layers above (claims: its citations'
                # quotes, checked against it, the latest), in the same transaction.
                answers = snapshot_added.send(sender=Snapshot, snapshot=snapshot)
        except BaseException:
            discard_file(snapshot.file.name)
            raise
    snapshot.notes = tuple(str(answer) for _, answer in answers if answer)
    return snapshot


def store_file(snapshot: Snapshot, reading: Reading, upload: File) -> str:
    """Where the upload is stored: under its content's name (`<digest>.<extension>` in the
    snapshot's folder), written now or found there already (another source's snapshot of
    the same bytes, or a try of this write rolled back and retried). The name stays locked
    until the transaction ends: no other write stores, uses or removes it meanwhile."""
    field = snapshot.file.field
    name = field.generate_filename(snapshot, reading.file_name)
    lock_file_name(name)
    if field.storage.exists(name) and field.storage.size(name) == reading.size:
        return name
    return field.storage.save(name, upload, max_length=field.max_length)


def discard_file(name: str) -> None:
    """Remove a stored snapshot file that no written snapshot uses (one whose write
    failed), in the transaction holding its name's lock (store_file)."""
    try:
        used = Snapshot.objects.filter(file=name).exists()
    except DatabaseError:  # the database cannot say: an unused file, never a lost one
        return
    if not used:
        Snapshot.file.field.storage.delete(name)
