"""Full-text search over claims: their text, summaries and citation quotes."""

import re
import struct
from typing import Any

from django.db import connection, connections, router, transaction
from django.db.models import BooleanField, Exists, FloatField, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from claims.models import SEARCH_INDEX_NAME, Citation, Claim, ClaimQuerySet

# RUM's distance operator has crashed the PostgreSQL backend (signal 11 in rum.so) on a
# search for "-1", websearch's NOT of a word: RUM mishandles negated terms (postgrespro/rum
# issues #123 and #153). A search with a minus at the start of a word, which websearch
# may read as NOT, is ranked the GIN way (ts_rank) instead, off the RUM ordering.
NEGATION = re.compile(r"(?:^|\W)-")


def search_claims(queryset: QuerySet[Claim], query: str) -> QuerySet[Claim]:
    """Claims matching words in their text, summary or citation quotes, annotated with `rank`.

    PostgreSQL: websearch syntax on each claim's stored document (claims migration
    0001_squashed_0023), `rank`
    lower is better: the RUM index's distance, which it can return best first, or, on a
    GIN index, minus ts_rank. Order by `search_ordering(results)`. SQLite has no full-text search
    here: a case-insensitive substring match, so trying the app locally still finds things.
    """
    if connection.vendor != "postgresql":
        quotes = Citation.objects.filter(claim_id=OuterRef("pk"), quote__icontains=query)
        return queryset.filter(
            Q(text__icontains=query) | Q(summary__icontains=query) | Exists(quotes)
        )
    # The words reach SQL only as parameters. The column is not qualified by its table, so
    # the SQL holds when this queryset becomes a subquery (the citations export uses it).
    tsquery = "websearch_to_tsquery('english'::regconfig, %s)"
    negated = NEGATION.search(query) is not None
    by_index = search_index_method() == "rum" and not negated
    if by_index:
        rank = RawSQL(f"search_document <=> {tsquery}", [query], output_field=RankField())  # noqa: S611
    elif negated and _only_negations(query):
        # Only words to leave out ("-camps"): nothing to rank by, and ranking nearly every
        # claim would take seconds at a million. Newest first (search_ordering's tie-break).
        rank = RawSQL("0::real", [], output_field=RankField())
    else:
        rank = RawSQL(f"-ts_rank(search_document, {tsquery})", [query], output_field=RankField())  # noqa: S611
    matches = RawSQL(f"search_document @@ {tsquery}", [query], output_field=BooleanField())  # noqa: S611
    ranked = queryset.filter(matches).annotate(rank=rank)
    if by_index:
        ranked.__class__ = RankedClaimQuerySet  # type: ignore[assignment]
    return ranked


def _only_negations(query: str) -> bool:
    """Whether the search only leaves words out: its tsquery has nothing to look up."""
    with connections[router.db_for_read(Claim)].cursor() as cursor:
        cursor.execute("SELECT querytree(websearch_to_tsquery('english'::regconfig, %s))", [query])
        row = cursor.fetchone()
    return row is not None and row[0] == "T"


class RankField(FloatField):
    """A search rank: PostgreSQL computes it as a `real` (4 bytes), Python holds a double.

    Read back as exactly that real's value, so a cursor page's `rank > position` compares
    equal values as equal (the nearest double to the printed real is a different number).
    """

    def from_db_value(self, value: float | None, expression: Any, connection: Any) -> float | None:
        return None if value is None else struct.unpack("f", struct.pack("f", value))[0]


class RankedClaimQuerySet(ClaimQuerySet):
    """Search results. Read best match first from a RUM index, they come in the index's
    order: ranked by the index, ties in a fixed order. Adding the id as a tie-breaker
    would make PostgreSQL rank and sort every match instead (a common word at a million
    claims ties thousands of claims), so cursor pages count into ties (DRF's offset), and
    the page is always read from the index, whatever the planner thinks of a small table,
    so that every page, forward or back, sees the same order.
    """

    def __getitem__(self, k: Any) -> Any:
        if not isinstance(k, slice) or self.query.order_by not in (("rank",), ("-rank",)):
            return super().__getitem__(k)
        with transaction.atomic(using=self.db), connections[self.db].cursor() as cursor:
            cursor.execute("SET LOCAL enable_sort = off")
            if self.query.order_by == ("rank",):
                return list(super().__getitem__(k))
            # A previous page: the index reads only forward, so read up to the cursor and
            # turn it around, keeping ties in the very order the forward pages showed.
            forward = list(self.reverse().iterator())
            return forward[::-1][k]


def search_ordering(results: QuerySet[Claim]) -> list[str]:
    """Best match first: RUM's order (see RankedClaimQuerySet), else rank then newest."""
    return ["rank"] if isinstance(results, RankedClaimQuerySet) else ["rank", "-id"]


def search_index_method() -> str:
    """ "rum" or "gin": the access method of claim_search_document_idx in this database."""
    name = connection.settings_dict["NAME"]
    if name not in _index_methods:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam"
                " WHERE c.relname = %s",
                [SEARCH_INDEX_NAME],
            )
            row = cursor.fetchone()
        _index_methods[name] = row[0] if row else "gin"
    return _index_methods[name]


_index_methods: dict[str, str] = {}
