"""Writes that span several models: a claim with its people, topics and citations."""

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from claims.models import Citation, Claim


@transaction.atomic
def save_claim(
    *,
    claim: Claim | None,
    data: dict[str, Any],
    user: User,
) -> Claim:
    """Create or update a claim; when `citations` is given, make them exactly that list.

    Citations are matched by (source, role): a match is updated, the rest are created, and
    citations not in the list are deleted (their history keeps them). Every row is
    validated with full_clean() before it is written; any error rolls everything back.
    """
    data = dict(data)
    people = data.pop("people", None)
    topics = data.pop("topics", None)
    citations = data.pop("citations", None)
    creating = claim is None
    claim = claim or Claim()
    for field, value in data.items():
        setattr(claim, field, value)
    if creating:
        claim.created_by = user
    claim.updated_by = user
    claim.full_clean()
    claim.save()
    if people is not None:
        claim.people.set(people)
    if topics is not None:
        claim.topics.set(topics)
    if citations is not None:
        _replace_citations(claim, citations)
    return claim


def _replace_citations(claim: Claim, citations: list[dict[str, Any]]) -> None:
    existing = {(c.source_id, c.role): c for c in claim.citations.all()}
    keep = set()
    for values in citations:
        key = (values["source"].pk, values["role"])
        citation = existing.get(key) or Citation(claim=claim)
        for field, value in values.items():
            setattr(citation, field, value)
        citation.full_clean()
        citation.save()
        keep.add(citation.pk)
    for citation in existing.values():
        if citation.pk not in keep:
            citation.delete()
