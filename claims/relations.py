"""Claims related to claims, read both ways: what a claim repeats, contradicts, refines or
responds to, and what does so to it. api.documents builds the same lists in SQL."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from claims.models import ClaimRelation, RelationKind, State


@dataclass(frozen=True)
class Related:
    id: int  # the relation's
    kind: str
    direction: str  # "outgoing": this claim <kind> the other; "incoming": the other <kind> it
    claim_id: int
    claim_text: str

    @property
    def phrase(self) -> str:
        """How the page says it: "Repeats", or "Repeated by" for an incoming relation."""
        if self.direction == "outgoing":
            return RelationKind(self.kind).label.capitalize()
        return INCOMING[self.kind]


INCOMING: dict[str, str] = {
    RelationKind.REPEATS: "Repeated by",
    RelationKind.CONTRADICTS: "Contradicted by",
    RelationKind.REFINES: "Refined by",
    RelationKind.RESPONDS_TO: "Responded to by",
}


def related_claims(claim_ids: Iterable[int], *, published_only: bool) -> dict[int, list[Related]]:
    """{claim id: its relations, outgoing first, by relation id}, in one query; with
    `published_only`, relations to drafts are left out."""
    ids = list(claim_ids)
    relations = ClaimRelation.objects.filter(Q(claim_id__in=ids) | Q(other_id__in=ids))
    if published_only:
        relations = relations.filter(claim__state=State.PUBLISHED, other__state=State.PUBLISHED)
    rows = relations.values_list("id", "kind", "claim_id", "claim__text", "other_id", "other__text")
    found: dict[int, list[Related]] = defaultdict(list)
    wanted = set(ids)
    for pk, kind, claim_id, claim_text, other_id, other_text in rows:
        if claim_id in wanted:
            found[claim_id].append(Related(pk, kind, "outgoing", other_id, other_text))
        if other_id in wanted:
            found[other_id].append(Related(pk, kind, "incoming", claim_id, claim_text))
    for related in found.values():
        related.sort(key=lambda r: (r.direction != "outgoing", r.id))
    return found
