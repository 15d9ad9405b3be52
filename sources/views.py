from django.db.models import QuerySet
from rest_framework import filters, mixins, viewsets

from api.ordering import StableOrdering
from sources.models import Person, Source
from sources.serializers import PersonSerializer, SourceSerializer


class PersonViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """People, organizations and groups. Anyone reads; editors create and change."""

    serializer_class = PersonSerializer
    filter_backends = [filters.SearchFilter, StableOrdering]
    search_fields = ["name", "aliases", "description"]
    ordering_fields = ["name", "updated_at"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet[Person]:
        return Person.objects.order_by("name", "id")


class SourceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Sources, with their publisher and the sources they are based on."""

    serializer_class = SourceSerializer
    filter_backends = [filters.SearchFilter, StableOrdering]
    search_fields = ["title", "url", "publisher__name"]
    ordering_fields = ["title", "updated_at"]
    ordering = ["-updated_at"]

    def get_queryset(self) -> QuerySet[Source]:
        return Source.objects.select_related("publisher").prefetch_related("authors", "based_on")
