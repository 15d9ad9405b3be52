"""Full-text search over claims: their text, summaries and citation quotes."""

import struct
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, Exists, FloatField, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from claims.models import SEARCH_INDEX_NAME, Citation, Claim, ClaimQuerySet


def search_claims(queryset: QuerySet[Claim], query: str) -> QuerySet[Claim]:
    """Claims matching words in their text, summary or citation quotes, annotated with `rank`.

    PostgreSQL: websearch syntax on each claim's stored document (migration 0007), `rank`
    lower is better: the RUM index's distance, which it can return best first, or, on a
    GIN index, minus ts_rank. Order by `search_ordering()`. SQLite has no full-text search
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
    if search_index_method() == "rum":
        rank_sql = f"search_document <=> {tsquery}"
    else:
        rank_sql = f"-ts_rank(search_document, {tsquery})"
    matches = RawSQL(f"search_document @@ {tsquery}", [query], output_field=BooleanField())  # noqa: S611
    rank = RawSQL(rank_sql, [query], output_field=RankField())  # noqa: S611
    ranked = queryset.filter(matches).annotate(rank=rank)
    ranked.__class__ = RankedClaimQuerySet  # type: ignore[assignment]
    return ranked


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
        with transaction.atomic(using=self.db), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_sort = off")
            if self.query.order_by == ("rank",):
                return list(super().__getitem__(k))
            # A previous page: the index reads only forward, so read up to the cursor and
            # turn it around, keeping ties in the very order the forward pages showed.
            forward = list(self.reverse().iterator())
            return forward[::-1][k]


def search_ordering() -> list[str]:
    """Best match first: RUM's order (see RankedClaimQuerySet), else rank then newest."""
    return ["rank"] if search_index_method() == "rum" else ["rank", "-id"]


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
