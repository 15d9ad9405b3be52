"""Publishing rules: what a claim needs before readers see it. One place, read by every
door that writes claims (the admin form, the API's save_claim, the CSV import), so each
gives the same error."""

from collections.abc import Iterable

from django.conf import settings

from claims.models import (
    COUNTED_ROLES,
    Citation,
    Claim,
    Rating,
    Role,
    State,
    rationale_missing,
)

# Ratings that assert something about the evidence, so need evidence cited.
EVIDENCE_RATINGS = (Rating.SUPPORTED, Rating.MIXED, Rating.DISPUTED, Rating.FALSE)
EVIDENCE_ROLES = (Role.SUPPORTS, Role.DISPUTES)


def second_editor_required() -> bool:
    """PUBLISH_REQUIRES_SECOND_EDITOR: whether a verdict is published only once a second
    editor signs it off (claims.workflow)."""
    return bool(settings.PUBLISH_REQUIRES_SECOND_EDITOR)


VERDICT_LOCKED = (
    "This claim is published, and a second editor signs off every change to its rating, "
    "rationale or citations: take it back to review (state “in review”) with this change, "
    "then have another editor sign it off and publish it."
)


def verdict_locked(claim: Claim) -> str:
    """Why the verdict (rating, rationale, citations) of `claim` as stored may not change
    now: it is published and a second editor signs changes off. "" when it may."""
    if claim.state == State.PUBLISHED and second_editor_required():
        return VERDICT_LOCKED
    return ""


# A citation as the publishing rules weigh it: its role and its origin, where its path ends
# (the cited source itself when it has no path).
Evidence = tuple[str, int]


def publishing_errors(claim: Claim, evidence: Iterable[Evidence]) -> dict[str, str]:
    """{field: message} for what keeps `claim` from being published, given the role and
    origin of each citation it will have; empty when it may be (or is not being) published.

    A "supported" verdict waits for PUBLISH_MIN_SUPPORTING_ORIGINS independent origins
    among its supporting citations: five citations repeating one wire story are one."""
    if claim.state != State.PUBLISHED:
        return {}
    evidence = list(evidence)
    roles = {role for role, _ in evidence}
    if claim.rating in EVIDENCE_RATINGS and not roles & set(EVIDENCE_ROLES):
        label = Rating(claim.rating).label
        return {
            "rating": f"A claim rated “{label}” is published only with at least one citation "
            "that supports or disputes it: add that evidence, or keep the claim a draft."
        }
    if claim.rating == Rating.SUPPORTED:
        needed = settings.PUBLISH_MIN_SUPPORTING_ORIGINS
        supporting = [origin for role, origin in evidence if role == Role.SUPPORTS]
        origins = len(set(supporting))
        if origins < needed:
            return {"rating": supported_too_soon(needed, len(supporting), origins)}
    if message := rationale_missing(claim):
        return {"rating_rationale": message}
    return {}


def supported_too_soon(needed: int, citations: int, origins: int) -> str:
    label = Rating(Rating.SUPPORTED).label
    has = (
        "it has no supporting citation"
        if not citations
        else f"it has {evidence_count(citations, origins, 'supporting')}"
    )
    return (
        f"A claim rated “{label}” is published only with supporting evidence from at least "
        f"{needed} independent origin{'s' if needed != 1 else ''}, and {has}. A citation's "
        "origin is the last source on its path (the cited source when it has none): add "
        "evidence from another origin, or keep the claim a draft."
    )


def evidence_count(citations: int, origins: int, adjective: str) -> str:
    """ "5 supporting citations from 2 independent origins" """
    return (
        f"{citations} {adjective} citation{'s' if citations != 1 else ''} from {origins} "
        f"independent origin{'s' if origins != 1 else ''}"
    )


# How each counted role's citations are named in words ("5 supporting citations").
EVIDENCE_ADJECTIVES = {
    Role.SUPPORTS: "supporting",
    Role.DISPUTES: "disputing",
    Role.CONTEXT: "context",
}


def evidence_summary(counts: dict[str, tuple[int, int]]) -> list[str]:
    """Each counted role's citations and independent origins in words, the roles with
    none left out: ["5 supporting citations from 2 independent origins", ...]. `counts`:
    {role: (citations, origins)}, as ClaimQuerySet.with_evidence annotates them."""
    return [
        evidence_count(*counts[role], adjective)
        for role, adjective in EVIDENCE_ADJECTIVES.items()
        if counts.get(role, (0, 0))[0]
    ]


def evidence_counts(citations: Iterable[Citation]) -> dict[str, tuple[int, int]]:
    """{role: (citations, independent origins)} for COUNTED_ROLES, from citations with their
    paths' steps prefetched (Claim.objects.for_serializer): what with_evidence annotates in
    SQL, for the claim page and ClaimSerializer."""
    origins: dict[str, list[int]] = {role: [] for role in COUNTED_ROLES}
    for citation in citations:
        if citation.role in origins:
            origins[citation.role].append(citation.origin.pk)
    return {role: (len(ids), len(set(ids))) for role, ids in origins.items()}


def claim_evidence_summary(claim: Claim) -> list[str]:
    """evidence_summary of a claim annotated by ClaimQuerySet.with_evidence."""
    return evidence_summary(
        {
            role: (getattr(claim, f"{role}_total"), getattr(claim, f"{role}_origins"))
            for role in EVIDENCE_ADJECTIVES
        }
    )


def evidence_by_claim(
    claim_ids: Iterable[int], *, without: Iterable[int] = ()
) -> dict[int, list[Evidence]]:
    """{claim id: (role, origin) of each of its stored citations, leaving out the citations
    `without`}, in one query, for many claims at once."""
    evidence: dict[int, list[Evidence]] = {pk: [] for pk in claim_ids}
    citations = (
        Citation.objects.filter(claim_id__in=list(evidence))
        .exclude(pk__in=list(without))
        .with_origin()
    )
    rows = citations.values_list("claim_id", "role", "origin")  # type: ignore[misc]
    for claim_id, role, origin in rows:
        evidence[claim_id].append((role, origin))
    return evidence


def stored_evidence(claim: Claim) -> list[Evidence]:
    """The role and origin of the claim's citations as stored (none for a claim not yet
    saved)."""
    if claim.pk is None:
        return []
    return evidence_by_claim([claim.pk])[claim.pk]


def citation_change_errors(
    citation: Citation, *, origin: int | None = None, deleting: bool = False
) -> dict[str, str]:
    """What a change to one citation (saving it as it now is, with its path ending at
    `origin`, None for no path; or deleting it) would do to the publishing rules of the
    claims it belongs to, before and after the change."""
    claim_ids = {citation.claim_id}
    if citation.pk is not None:
        claim_ids |= set(Citation.objects.filter(pk=citation.pk).values_list("claim_id", flat=True))
    evidence = evidence_by_claim(claim_ids, without=[citation.pk] if citation.pk else [])
    if not deleting:
        evidence[citation.claim_id].append((citation.role, origin or citation.source_id))
    errors: dict[str, str] = {}
    for claim in Claim.objects.filter(pk__in=claim_ids):
        if message := verdict_locked(claim):
            errors["claim"] = message
        errors.update(publishing_errors(claim, evidence[claim.pk]))
    return errors
