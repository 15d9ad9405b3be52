"""Query-string filters for the claims API (and, later, the CSV exports and pages)."""

import struct
from datetime import date
from typing import Any

import django_filters
from django.db import connection, transaction
from django.db.models import BooleanField, Exists, FloatField, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from claims.models import (
    SEARCH_INDEX_NAME,
    Citation,
    Claim,
    ClaimQuerySet,
    Rating,
    Role,
    State,
)
from sources.models import Reliability


class ClaimFilter(django_filters.FilterSet):
    claimant = django_filters.NumberFilter(field_name="claimant_id", help_text="Claimant's id.")
    person = django_filters.NumberFilter(
        method="filter_person", help_text="Id of a person or organization the claim is about."
    )
    topic = django_filters.CharFilter(method="filter_topic", help_text="Topic slug.")
    rating = django_filters.MultipleChoiceFilter(choices=Rating.choices)
    state = django_filters.ChoiceFilter(
        choices=State.choices, help_text="Editors only: anonymous clients see published claims."
    )
    language = django_filters.CharFilter()
    source = django_filters.NumberFilter(method="filter_citations", help_text="Cited source's id.")
    publisher = django_filters.NumberFilter(
        method="filter_citations", help_text="Id of the publisher of a cited source."
    )
    role = django_filters.ChoiceFilter(
        choices=Role.choices,
        method="filter_citations",
        help_text="Has a citation in this role; combines with `source` and `publisher`.",
    )
    publisher_reliability = django_filters.ChoiceFilter(
        choices=Reliability.choices,
        method="filter_citations",
        help_text="Cites a source whose publisher has this rating.",
    )
    made_after = django_filters.DateFilter(
        method="filter_dates", help_text="Made on or after this day (ranges overlap)."
    )
    made_before = django_filters.DateFilter(method="filter_dates")
    event_after = django_filters.DateFilter(method="filter_dates")
    event_before = django_filters.DateFilter(method="filter_dates")

    class Meta:
        model = Claim
        fields: list[str] = []

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # An empty parameter means "any", as a form's blank "Any" option sends `rating=`.
        if data is not None and hasattr(data, "getlist"):
            data = data.copy()
            for key in list(data):
                data.setlist(key, [value for value in data.getlist(key) if value != ""])
        super().__init__(data, *args, **kwargs)

    def filter_person(self, queryset: QuerySet[Claim], name: str, value: int) -> QuerySet[Claim]:
        people = Claim.people.through.objects.filter(claim_id=OuterRef("pk"), person_id=value)
        return queryset.filter(Exists(people))

    def filter_topic(self, queryset: QuerySet[Claim], name: str, value: str) -> QuerySet[Claim]:
        topics = Claim.topics.through.objects.filter(claim_id=OuterRef("pk"), topic__slug=value)
        return queryset.filter(Exists(topics))

    def filter_citations(
        self, queryset: QuerySet[Claim], name: str, value: object
    ) -> QuerySet[Claim]:
        # All citation conditions apply to the same citation: `role=disputes&publisher=3`
        # means "disputed by something publisher 3 published". Applied once, by the first.
        if getattr(self, "_citations_filtered", False):
            return queryset
        self._citations_filtered = True
        data = self.form.cleaned_data
        conditions = Q(claim_id=OuterRef("pk"))
        if data.get("source"):
            conditions &= Q(source_id=data["source"])
        if data.get("publisher"):
            conditions &= Q(source__publisher_id=data["publisher"])
        if data.get("role"):
            conditions &= Q(role=data["role"])
        if data.get("publisher_reliability"):
            conditions &= Q(source__publisher__reliability=data["publisher_reliability"])
        return queryset.filter(Exists(Citation.objects.filter(conditions)))

    def filter_dates(self, queryset: QuerySet[Claim], name: str, value: date) -> QuerySet[Claim]:
        # A fuzzy date matches when its range overlaps the filter's: "end of 2018"
        # (2018-10-01..2018-12-31) is made_after=2018-01-01 and made_before=2018-12-31.
        prefix, _, side = name.partition("_")
        if side == "after":
            return queryset.filter(**{f"{prefix}_latest__gte": value})
        return queryset.filter(**{f"{prefix}_earliest__lte": value})


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
