"""Claims already recorded that look like a new one: caught at every door that adds
claims (the admin form, the API, the CSV import) before a duplicate is saved.

On PostgreSQL, trigram similarity of the texts (pg_trgm, with an index: migration 0016),
which ignores case and punctuation; elsewhere a plain comparison of normalized texts. A
claim is an exact duplicate when its claimant and normalized text are the same: it is
refused unless the editor confirms it is the same claim made again on another occasion.
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection

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
    similar = [
        Similar(c, c.claimant_id == claimant_id and normalized(c.text) == key) for c in found
    ]
    similar.sort(key=lambda s: not s.exact)  # stable: similarity order otherwise
    return similar[:LIMIT]


def duplicate_message(similar: list[Similar]) -> str:
    """The refusal of an unconfirmed exact duplicate, naming the claims it repeats."""
    ids = ", ".join(str(s.claim.pk) for s in similar if s.exact)
    return (
        f"This claimant's claim is already recorded (claim {ids}). If this is the same claim "
        "made again on another occasion, confirm it is a repetition and save again; "
        "otherwise edit the existing claim."
    )
