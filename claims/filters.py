"""Query-string filters for the claims API (and, later, the CSV exports and pages)."""

from datetime import date
from typing import Any

import django_filters
from django.db import connection
from django.db.models import BigIntegerField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from claims.models import Citation, Claim, Rating, Role, State
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
    """Claims matching words in their text, summary or citation quotes.

    PostgreSQL: full-text search on GIN indexes (claim_search_idx, citation_quote_search_idx),
    ranked. SQLite has no full-text search here: a case-insensitive substring match,
    newest first, so trying the app locally still finds things.
    """
    if connection.vendor != "postgresql":
        quotes = Citation.objects.filter(claim_id=OuterRef("pk"), quote__icontains=query)
        return queryset.filter(
            Q(text__icontains=query) | Q(summary__icontains=query) | Exists(quotes)
        )
    # One IN over a UNION, so each side uses its own index (an OR of the two conditions
    # would make PostgreSQL scan every claim). The claims side reads the stored document.
    tsquery = "websearch_to_tsquery('english'::regconfig, %s)"
    quote = QUOTE_SEARCH_SQL
    # The search words reach SQL only as parameters. The SQL names no outer table, so it
    # holds when this queryset becomes a subquery (the citations export filters by it).
    matches = RawSQL(  # noqa: S611
        f"SELECT c.id FROM claims_claim c WHERE c.search_document @@ {tsquery}"
        f" UNION SELECT ci.claim_id FROM claims_citation ci WHERE {quote} @@ {tsquery}",
        [query, query],
    )
    # An integer rank: cursor pages compare positions exactly, which floats do not.
    rank = RawSQL(  # noqa: S611
        f"(ts_rank(search_document, {tsquery}) * 1000000)::bigint",
        [query],
        output_field=BigIntegerField(),
    )
    return queryset.filter(pk__in=matches).annotate(rank=rank)


# The quote search document over the alias `ci`: exactly the expression migration 0003
# indexes (citation_quote_search_idx), so the index serves it.
QUOTE_SEARCH_SQL = "to_tsvector('english'::regconfig, COALESCE(ci.quote, ''))"
