"""Writes that span several models: a source with its authors and provenance links."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction

from sources.models import Provenance, Snapshot, Source
from sources.snapshots import check_size, read_snapshot


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
        source.provenance_links.exclude(based_on__in=keep).delete()
        existing = set(source.provenance_links.values_list("based_on_id", flat=True))
        for upstream in based_on:
            if upstream.pk not in existing:
                link = Provenance(source=source, based_on=upstream)
                link.full_clean()
                link.save()
    return source


def add_snapshot(
    *, source: Source, upload: File, captured_at: datetime, user: User | None
) -> Snapshot:
    """Store a snapshot of `source` from an uploaded file: its bytes through the default
    storage (local files, or any django-storages backend), its type, digest, size and
    text. A file too large, of another type, without text or already added is refused
    with a ValidationError, and nothing is stored."""
    if upload.size is not None:
        check_size(upload.size)  # before reading it
    reading = read_snapshot(upload.read(settings.SNAPSHOT_MAX_BYTES + 1))
    with transaction.atomic():
        Source.objects.select_for_update().get(pk=source.pk)  # one writer per source
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
        )
        upload.seek(0)
        snapshot.file.save(reading.file_name, upload, save=False)
        snapshot.save()
    return snapshot
