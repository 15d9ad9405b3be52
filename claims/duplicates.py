"""Claims already recorded that look like a new one: caught at every door that adds
claims (the admin form, the API, the CSV import) before a duplicate is saved.

On PostgreSQL, trigram similarity of the texts (pg_trgm, with an index: claims migration
0001_squashed_0023), which ignores case and punctuation; elsewhere a plain comparison of
normalized texts. A claim is an exact duplicate when its claimant and normalized text are
the same: it is refused unless the editor confirms it is the same claim made again on
another occasion.
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Q

from claims.models import Claim

# At most this many similar claims are listed.
LIMIT = 5


def normalized(text: str) -> str:
    """The words of a text, case-folded, without punctuation or spacing."""
    return " ".join(re.findall(r"\w+", text.casefold()))


@dataclass(frozen=True)
class Similar:
    claim: Claim
    exact: bool  # same claimant, same normalized text


def similar_claims(text: str, claimant_id: int | None) -> list[Similar]:
    """Recorded claims like this text, most similar first, exact duplicates first."""
    key = normalized(text)
    if not key:
        return []
    claims = Claim.objects.select_related("claimant")
    found: list[Claim]
    if connection.vendor == "postgresql":
        # `%` (pg_trgm's similarity above its threshold, 0.3) uses the trigram index.
        found = list(
            claims.filter(text__trigram_similar=text)
            .annotate(similarity=TrigramSimilarity("text", text))
            .order_by("-similarity", "pk")[: LIMIT * 4]
        )
    else:  # SQLite, at the scale of a demo: every text, compared in Python
        found = [c for c in claims if normalized(c.text) == key]
    similar = [Similar(c, is_exact(c, key, claimant_id)) for c in found]
    similar.sort(key=lambda s: not s.exact)  # stable: similarity order otherwise
    return similar[:LIMIT]


def is_exact(claim: Claim, key: str, claimant_id: int | None) -> bool:
    """Whether `claim` repeats a claim of normalized text `key` by `claimant_id`."""
    return claim.claimant_id == claimant_id and normalized(claim.text) == key


def exact_duplicates(rows: list[tuple[str, str, int | None]]) -> dict[str, list[Claim]]:
    """For many new claims at once (an import's rows: text, claimant's name, claimant's
    id), the recorded claims each may repeat, by normalized text, in one or two queries
    where similar_claims() takes one a text. An exact duplicate has the same claimant, so
    the candidates are the claims of the claimants the rows name; for rows naming none,
    the unattributed claims similar to their texts. is_exact() then decides."""
    keys = {key for text, _, _ in rows if (key := normalized(text))}
    if not keys:
        return {}
    names = {name for _, name, _ in rows if name}
    ids = {pk for _, _, pk in rows if pk is not None}
    candidates = list(
        Claim.objects.filter(Q(claimant_id__in=ids) | Q(claimant__name__in=names)).only(
            "text", "claimant_id"
        )
    )
    unattributed = sorted({text for text, name, pk in rows if not name and pk is None})
    if unattributed and connection.vendor == "postgresql":
        # Each text probes the trigram index once; an exact duplicate is always similar.
        candidates += Claim.objects.raw(
            "SELECT DISTINCT c.id, c.text, c.claimant_id FROM claims_claim c"
            " JOIN unnest(%s::text[]) AS t(text) ON c.text %% t.text"
            " WHERE c.claimant_id IS NULL",
            [unattributed],
        )
    elif unattributed:  # SQLite, at the scale of a demo: compared in Python
        candidates += Claim.objects.filter(claimant__isnull=True).only("text", "claimant_id")
    found: dict[str, list[Claim]] = {}
    for claim in candidates:
        if (key := normalized(claim.text)) in keys:
            found.setdefault(key, []).append(claim)
    return found


def duplicate_message(similar: list[Similar]) -> str:
    """The refusal of an unconfirmed exact duplicate, naming the claims it repeats."""
    ids = ", ".join(str(s.claim.pk) for s in similar if s.exact)
    return (
        f"This claimant's claim is already recorded (claim {ids}). If this is the same claim "
        "made again on another occasion, confirm it is a repetition and save again; "
        "otherwise edit the existing claim."
    )
