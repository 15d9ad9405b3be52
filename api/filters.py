"""Query-string filters of the claim list and the CSV exports.

Each filter names its parameter and documents it; what it means is a ClaimQuerySet method
(claims.models), which the reading pages' form (claims.forms) uses too.
"""

from datetime import date
from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Exists, OuterRef, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework import filters
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from claims.forms import IdField
from claims.models import Claim, ClaimQuerySet, QuoteChange, Rating, Role, State
from sources.models import MAX_RECORD_ID, Reliability, search_too_long


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": MAX_RECORD_ID})
class IdFilter(django_filters.Filter):
    """A record's id: ASCII digits (sources.models.RECORD_ID); "1.5", "1e5" or an Arabic-Indic
    digit are a 400."""

    field_class = IdField


class ClaimFilter(django_filters.FilterSet):
    claimant = IdFilter(
        field_name="claimant_id", help_text="The id of the person or organization who made it."
    )
    claimant_source = IdFilter(
        field_name="claimant_source_id", help_text="The id of the source that makes it."
    )
    person = IdFilter(
        method="filter_person", help_text="Id of a person or organization the claim is about."
    )
    topic = django_filters.CharFilter(method="filter_topic", help_text="Topic slug.")
    rating = django_filters.MultipleChoiceFilter(choices=Rating.choices)
    state = django_filters.ChoiceFilter(
        choices=State.choices, help_text="Editors only: anonymous clients see published claims."
    )
    language = django_filters.CharFilter()
    source = IdFilter(method="filter_citations", help_text="Cited source's id.")
    publisher = IdFilter(
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
    source_changed = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_source_changed",
        help_text="true: claims with a quote the live page no longer has as it was read "
        "(the watch); false: claims with none.",
    )

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

    def filter_person(self, queryset: ClaimQuerySet, name: str, value: int) -> QuerySet[Claim]:
        return queryset.about(value)

    def filter_topic(self, queryset: ClaimQuerySet, name: str, value: str) -> QuerySet[Claim]:
        return queryset.in_topic(value)

    def filter_citations(
        self, queryset: ClaimQuerySet, name: str, value: object
    ) -> QuerySet[Claim]:
        # All citation conditions apply to the same citation; applied once, by the first.
        if getattr(self, "_citations_filtered", False):
            return queryset
        self._citations_filtered = True
        data = self.form.cleaned_data
        return queryset.citing(
            source=data.get("source"),
            publisher=data.get("publisher"),
            role=data.get("role"),
            publisher_reliability=data.get("publisher_reliability"),
        )

    def filter_source_changed(
        self, queryset: ClaimQuerySet, name: str, value: str
    ) -> QuerySet[Claim]:
        changed = QuoteChange.objects.filter(
            citation__claim=OuterRef("pk"), resolved_at__isnull=True
        )
        return queryset.filter(Exists(changed) if value == "true" else ~Exists(changed))

    def filter_dates(self, queryset: ClaimQuerySet, name: str, value: date) -> QuerySet[Claim]:
        prefix, _, side = name.partition("_")
        return queryset.dated(prefix, **{side: value})


def search_words(request: Request) -> str:
    """The `q` parameter, stripped; a 400 for what no search can mean (a NUL character)
    or past SEARCH_MAX_CHARS."""
    return searched(request, "q")


def searched(request: Request, name: str) -> str:
    """A search parameter, stripped; a 400 naming it when it holds a NUL or is too long."""
    words = text_parameter(request, name).strip()
    if message := search_too_long(words):
        raise ValidationError({name: [message]}, code="max_length")
    return words


def text_parameter(request: Request, name: str) -> str:
    """A query parameter's text ("" when not given). No parameter may hold a NUL
    character (nothing stored can contain one): a 400 naming the parameter."""
    value = str(request.query_params.get(name, ""))
    try:
        ProhibitNullCharactersValidator()(value)
    except DjangoValidationError as error:
        raise ValidationError({name: error.messages}, code=error.code) from None
    return value


class SearchFilter(filters.SearchFilter):
    """DRF's `search`, with a NUL in it or past SEARCH_MAX_CHARS a 400 naming the parameter."""

    def get_search_terms(self, request: Request) -> list[str]:
        searched(request, self.search_param)
        return list(super().get_search_terms(request))


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, which leaves a list alone when its query string names none
    of the filters: a FilterSet deep-copies every filter it declares, a tenth of the time of
    an unfiltered page of claims."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not any(
            name in request.query_params for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
