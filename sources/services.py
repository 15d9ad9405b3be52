"""Writes that span several models: a source with its authors and provenance links."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from sources.models import Provenance, Source, protected_by


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
    return source
