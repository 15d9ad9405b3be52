"""A claim's review record, read from its history: each change of its rating, with the
rationale given at the time. Nothing is stored beside the history, so it cannot go stale;
api.documents builds the same list in SQL."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from claims.models import Claim, Rating


@dataclass(frozen=True)
class RatingChange:
    previous_rating: str
    rating: str
    rationale: str
    changed_at: datetime

    @property
    def previous_label(self) -> str:
        return Rating(self.previous_rating).label

    @property
    def label(self) -> str:
        return Rating(self.rating).label


def rating_histories(claim_ids: Iterable[int]) -> dict[int, list[RatingChange]]:
    """{claim id: its rating changes, oldest first}, in one query. A claim created with a
    rating counts as a change from unreviewed."""
    rows = (
        Claim.history.filter(id__in=list(claim_ids))
        .order_by("id", "history_date", "history_id")
        .values_list("id", "rating", "rating_rationale", "history_date")
    )
    changes: dict[int, list[RatingChange]] = defaultdict(list)
    previous: dict[int, str] = {}
    for pk, rating, rationale, when in rows:
        before = previous.get(pk, Rating.UNREVIEWED)
        if rating != before:
            changes[pk].append(RatingChange(before, rating, rationale, when))
        previous[pk] = rating
    return changes


def reviewer_name(user: object) -> str | None:
    """How a reviewer is named to readers: their full name, else their username."""
    if user is None:
        return None
    full = f"{getattr(user, 'first_name', '')} {getattr(user, 'last_name', '')}".strip(" ")
    return full or str(getattr(user, "username", ""))
