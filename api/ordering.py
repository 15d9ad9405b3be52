from datetime import date
from typing import Any

from django.db.models import QuerySet, Value
from django.db.models.functions import Coalesce
from rest_framework import filters
from rest_framework.request import Request

from api.filters import text_parameter
from claims.search import search_ordering


class StableOrdering(filters.OrderingFilter):
    """Ordering with the id as the last key, so cursor pages neither skip nor repeat ties."""

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> list[str]:
        text_parameter(request, self.ordering_param)  # no NUL
        ordering = list(super().get_ordering(request, queryset, view) or [])
        return ordering if ordering and ordering[-1].lstrip("-") == "id" else [*ordering, "-id"]


class ClaimOrdering(StableOrdering):
    """`?ordering=made`, `-event`, `rating`, `updated_at`, `created_at` (default `-updated_at`).

    Fuzzy dates sort by their earliest day, undated claims first. With `?q=` and no
    ordering, results come best match first.
    """

    ordering_fields = ["made", "event", "rating", "updated_at", "created_at"]
    ordering_description = (
        "One of: made, event, rating, updated_at, created_at; prefix - to reverse."
    )

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        queryset = queryset.annotate(
            made=Coalesce("made_earliest", Value(date.min)),
            event=Coalesce("event_earliest", Value(date.min)),
        )
        return super().filter_queryset(request, queryset, view)

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> list[str]:
        ordering = super().get_ordering(request, queryset, view)
        # A search's own order settles its ties (claims.search.search_ordering).
        return search_ordering(queryset) if ordering[0] == "rank" else ordering

    def get_default_ordering(self, view: Any) -> list[str]:
        if getattr(view, "ranked", False):
            return ["rank"]  # lower is better (claims.search.search_claims)
        return ["-updated_at"]
