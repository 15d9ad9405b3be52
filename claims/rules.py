"""Publishing rules: what a claim needs before readers see it. One place, read by every
door that writes claims (the admin form, the API's save_claim, the CSV import), so each
gives the same error."""

from collections.abc import Iterable

from claims.models import Citation, Claim, Rating, Role, State, rationale_missing
from sources.models import ProvenanceIndex

# Ratings that assert something about the evidence, so need evidence cited.
EVIDENCE_RATINGS = (Rating.SUPPORTED, Rating.MIXED, Rating.DISPUTED, Rating.FALSE)
EVIDENCE_ROLES = (Role.SUPPORTS, Role.DISPUTES)


def publishing_errors(claim: Claim, roles: Iterable[str]) -> dict[str, str]:
    """{field: message} for what keeps `claim` from being published, given the roles of
    the citations it will have; empty when it may be (or is not being) published."""
    if claim.state != State.PUBLISHED:
        return {}
    if claim.rating in EVIDENCE_RATINGS and not set(roles) & set(EVIDENCE_ROLES):
        label = Rating(claim.rating).label
        return {
            "rating": f"A claim rated “{label}” is published only with at least one citation "
            "that supports or disputes it: add that evidence, or keep the claim a draft."
        }
    if message := rationale_missing(claim):
        return {"rating_rationale": message}
    return {}


def roles_by_claim(
    claim_ids: Iterable[int], *, without: Iterable[int] = ()
) -> dict[int, list[str]]:
    """{claim id: the roles of its stored citations, leaving out the citations `without`},
    in one query, for many claims at once."""
    roles: dict[int, list[str]] = {pk: [] for pk in claim_ids}
    citations = Citation.objects.filter(claim_id__in=list(roles)).exclude(pk__in=list(without))
    for claim_id, role in citations.values_list("claim_id", "role"):
        roles[claim_id].append(role)
    return roles


def stored_roles(claim: Claim) -> list[str]:
    """The roles of the claim's citations as stored (none for a claim not yet saved)."""
    if claim.pk is None:
        return []
    return list(claim.citations.values_list("role", flat=True))


def citation_chain(provenance: ProvenanceIndex, citation: Citation) -> list[int]:
    """The sources behind a citation, nearest first: its `via` and what that is based on
    when given, else every source upstream of the cited one. api.documents builds the same
    list in SQL."""
    if citation.via_id is None:
        return provenance.upstream.order(citation.source_id)
    return [citation.via_id, *provenance.upstream.order(citation.via_id)]


def citation_change_errors(citation: Citation, *, deleting: bool = False) -> dict[str, str]:
    """What a change to one citation (saving it as it now is, or deleting it) would do to
    the publishing rules of the claims it belongs to, before and after the change."""
    claim_ids = {citation.claim_id}
    if citation.pk is not None:
        claim_ids |= set(Citation.objects.filter(pk=citation.pk).values_list("claim_id", flat=True))
    roles = roles_by_claim(claim_ids, without=[citation.pk] if citation.pk else [])
    if not deleting:
        roles[citation.claim_id].append(citation.role)
    errors: dict[str, str] = {}
    for claim in Claim.objects.filter(pk__in=claim_ids):
        errors.update(publishing_errors(claim, roles[claim.pk]))
    return errors
