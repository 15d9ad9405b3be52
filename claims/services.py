"""Writes with side effects, called by every door (the admin, the API, the import, the
demo): a claim with its people, topics and citations, and the review its rating records; a
citation with its quote checked again; a source's citations' quote checks when it gets a
snapshot (sources.services.add_snapshot). The models' save() writes the row and nothing
else."""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from claims.models import (
    Citation,
    CitationStep,
    Claim,
    ClaimRelation,
    QuoteCheck,
    Rating,
    quote_checks_summary,
)
from claims.paths import PathError, resolve_path
from claims.rules import publishing_errors, stored_evidence
from claims.tasks import recheck_quotes
from claims.workflow import PublishGuard, transition_error
from sources.locks import lock_rows
from sources.models import Provenance, Snapshot
from sources.quotes import QuoteOutcome

# Citations one write may send (the API answers 400 past it): a claim with more is
# edited a part at a time.
MAX_CITATIONS_PER_WRITE = 500


@transaction.atomic
def save_claim(
    *,
    claim: Claim | None,
    data: dict[str, Any],
    user: User,
) -> Claim:
    """Create or update a claim; when `citations` is given, make them exactly that list.

    Citations are named by id (checked by the caller, api.serializers.check_citation_ids):
    one with an id is changed, one without is added, and the claim's citations whose ids
    are not in the list are deleted (their history keeps them). Every row is validated with
    full_clean() before it is written; any error rolls everything back.
    """
    data = dict(data)
    people = data.pop("people", None)
    topics = data.pop("topics", None)
    citations = data.pop("citations", None)
    creating = claim is None
    claim = claim or Claim()
    rated_before = claim.rating
    if message := transition_error(
        claim.state if claim.pk else None, data.get("state", claim.state)
    ):
        raise ValidationError({"state": message})
    guard = PublishGuard.before(claim)
    for field, value in data.items():
        setattr(claim, field, value)
    if creating:
        claim.created_by = user
    claim.updated_by = user
    claim.full_clean()
    reviewed = record_review(claim, rated_before=rated_before)
    if creating:
        claim.save()
    else:
        # Only the columns this write names (a PATCH of the rating leaves the text alone),
        # with the bounds derived from any date it names.
        dates = {
            f"{prefix}_{part}"
            for prefix in Claim.FUZZY_DATES
            if any(field.startswith(f"{prefix}_") for field in data)
            for part in ("text", "edtf", "earliest", "latest")
        }
        claim.save(update_fields={*data, *dates, *reviewed, "updated_by", "updated_at"})
    if people is not None:
        claim.people.set(people)
    if topics is not None:
        claim.topics.set(topics)
    if citations is not None:
        written = _write_citations(claim, citations, user)
        QuoteCheck.objects.recheck(citation.pk for citation in written)
    errors = publishing_errors(claim, stored_evidence(claim))
    if not errors and (message := guard.error(claim)):
        errors = {"state": message}
    if errors:
        raise ValidationError(errors)  # rolls the whole write back
    return claim


def record_review(claim: Claim, *, rated_before: str) -> list[str]:
    """A change of rating is a review: note who made it (the editor saving, `updated_by`)
    and when; clearing the rating clears the note. `rated_before`: the rating stored before
    this write (unreviewed for a new claim). Returns the fields it set, for update_fields;
    the caller saves the claim."""
    if claim.rating == rated_before:
        return []
    rated = claim.rating != Rating.UNREVIEWED
    claim.reviewed_on = timezone.localdate() if rated else None
    claim.reviewed_by_id = claim.updated_by_id if rated else None
    return ["reviewed_on", "reviewed_by"]


@transaction.atomic
def save_citation(citation: Citation, *, force_insert: bool = False) -> Citation:
    """Write one citation with its quote checked again in the same transaction
    (QuoteCheck): its sources and claims, the stored ones and the new ones, are locked
    first, before its row, in sources.locks' order. The set form, for many citations of a
    claim at once, is save_claim's (_write_citations, then one recheck)."""
    stored = Citation.objects.filter(pk=citation.pk).values_list("source_id", "claim_id")
    source, claim = (stored.first() if citation.pk else None) or (None, None)
    # Its claim too: writing the citation updates the claim's search document.
    lock_rows(
        shared_sources=[citation.source_id, source],
        claims=[citation.claim_id, claim],
        allow_missing=True,
    )
    citation.save(force_insert=force_insert)
    QuoteCheck.objects.recheck([citation.pk])
    return citation


def write_paths(paths: Mapping[Citation, Sequence[Provenance]], *, user: User | None) -> None:
    """Make each citation's path exactly these provenance links, in order (checked by
    claims.paths.resolve_path): in three statements however many citations, and only for
    those whose path changed, so history records each real change once."""
    stored: dict[int, list[int]] = defaultdict(list)
    steps = CitationStep.objects.filter(citation_id__in=[c.pk for c in paths])
    for citation_id, link_id in steps.order_by("citation_id", "position").values_list(
        "citation_id", "link_id"
    ):
        stored[citation_id].append(link_id)
    changed = {c.pk: links for c, links in paths.items() if stored[c.pk] != [k.pk for k in links]}
    if not changed:
        return
    # One by one, so that history keeps each step removed (as simple_history records deletes).
    for step in CitationStep.objects.filter(citation_id__in=list(changed)):
        step.delete()
    new = [
        CitationStep(citation_id=citation_id, position=position, link=link)
        for citation_id, links in changed.items()
        for position, link in enumerate(links, 1)
    ]
    if new:
        bulk_create_with_history(new, CitationStep, default_user=user)


def lock_claim(pk: int | None, *, sources: Iterable[int]) -> None:
    """Lock what writing claim `pk` (None: a new one) with its citations touches, in
    sources.locks' order: the sources its stored citations cite and the
    `sources` the write names, the claim, its citations and its relations. The admin's
    claim form and the API take these before they check anything."""
    stored = list(
        Citation.objects.filter(claim_id=pk).values_list("pk", "source_id")
        if pk is not None
        else []
    )
    lock_rows(
        provenance_shared=True,  # a citation's path follows provenance links
        shared_sources=[*(s for _, s in stored), *sources],
        claims=[pk],
        citations=[citation for citation, _ in stored],
        relations=ClaimRelation.objects.filter(claim_id=pk).values_list("pk", flat=True)
        if pk is not None
        else [],
        allow_missing=True,  # a named source that is not there is the form's own error
    )


def _write_citations(claim: Claim, citations: list[dict[str, Any]], user: User) -> list[Citation]:
    """Make the claim's citations exactly this list, in a fixed number of statements
    however long it is: one DELETE for the ones left out, one UPDATE for the kept ones,
    one INSERT for the new ones (so the search document's trigger runs once for each), and
    the paths named (write_paths). A citation moved to another source without a path named
    loses its old path, which started at the old source."""
    existing = {c.pk: c for c in claim.citations.all()}
    sources_before = {pk: c.source_id for pk, c in existing.items()}
    # In sources.locks' order (already held when the caller took them first, as the API
    # does): the sources, the claim, then the citations' rows.
    lock_rows(
        shared_sources=[c.source_id for c in existing.values()]
        + [values["source"].pk for values in citations if values.get("source") is not None],
        claims=[claim.pk],
        citations=list(existing),
        allow_missing=True,
    )
    new: list[Citation] = []
    kept: list[Citation] = []
    ordered: list[Citation] = []
    paths: dict[int, list[Provenance]] = {}
    for index, values in enumerate(citations):
        values = dict(values)
        pk = values.pop("id", None)
        path = values.pop("path", None)
        citation = Citation(claim=claim) if pk is None else existing.pop(pk)
        (new if pk is None else kept).append(citation)
        ordered.append(citation)
        for field, value in values.items():
            setattr(citation, field, value)
        # The sources were looked up by the serializer, and (claim, source, role) is unique
        # in the input and in the database: no query per citation to check either again.
        try:
            citation.full_clean(exclude=["claim", "source"], validate_constraints=False)
        except ValidationError as error:  # named as the API names it: citations.2.quote
            raise ValidationError(
                {
                    f"citations.{index}" + ("" if field == NON_FIELD_ERRORS else f".{field}"): m
                    for field, m in error.message_dict.items()
                }
            ) from None
        if path is not None:
            try:
                paths[index] = resolve_path(citation.source_id, path)
            except PathError as error:
                raise ValidationError({f"citations.{index}.path": str(error)}) from None
        elif pk is not None and sources_before[pk] != citation.source_id:
            paths[index] = []
    if existing:
        Citation.objects.filter(pk__in=list(existing)).delete()
    if kept:
        fields = {field for values in citations for field in values} - {"id", "path"}
        for citation in kept:
            citation.updated_at = timezone.now()
        bulk_update_with_history(kept, Citation, sorted(fields | {"updated_at"}), default_user=user)
    if new:
        bulk_create_with_history(new, Citation, default_user=user)
    if paths:
        write_paths({ordered[index]: links for index, links in paths.items()}, user=user)
    return kept + new


def recheck_source_quotes(sender: Any, *, snapshot: Snapshot, **kwargs: Any) -> str:
    """A source's new snapshot (sources.services.snapshot_added, in add_snapshot's
    transaction, its source locked): each quote of its citations is marked "being checked"
    against it at once (one short write, so that no page shows an old check as current),
    and the check itself is a task (claims.tasks.recheck_quotes), enqueued in the same
    transaction: no request holds the source's lock for the length of a recheck. Answers
    what the check found when it is done already (the immediate backend), else that it
    is under way, in words."""
    quoted = list(
        Citation.objects.filter(source_id=snapshot.source_id)
        .exclude(quote="")
        .values_list("pk", flat=True)
    )
    QuoteCheck.objects.filter(citation_id__in=quoted).delete()
    QuoteCheck.objects.bulk_create(
        QuoteCheck(
            citation_id=pk,
            snapshot=snapshot,
            outcome=QuoteOutcome.CHECKING,
            score=0,
            start=0,
            end=0,
            checked_at=snapshot.created_at,
        )
        for pk in quoted
    )
    if not quoted:
        return quote_checks_summary([], 0)
    result = recheck_quotes.enqueue(snapshot.source_id)
    if result.status == TaskResultStatus.SUCCESSFUL:
        return str((result.return_value or {})["words"])
    return (
        f"{len(quoted)} quote{'s are' if len(quoted) != 1 else ' is'} being checked against "
        "it; the outcome shows here and on the claims' pages in a moment."
    )
