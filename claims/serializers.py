"""API shapes of claims and citations: one output shape, a separate input shape for writes."""

from typing import Any

from rest_framework import serializers

from claims.models import Citation, Claim, Topic
from sources.models import Person, Source
from sources.serializers import (
    CitedSourceSerializer,
    DescribedModelSerializer,
    FuzzyDateField,
    PersonSummarySerializer,
    date_field_names,
    full_clean_for_api,
    unsaved_copy,
)


class TopicSerializer(DescribedModelSerializer):
    class Meta:
        model = Topic
        fields = ["slug", "name"]


class CitationSerializer(DescribedModelSerializer):
    source = CitedSourceSerializer(  # type: ignore[assignment]
        read_only=True, help_text="The cited source, with its provenance."
    )

    class Meta:
        model = Citation
        fields = ["id", "role", "quote", "locator", "reliability_note", "accessed_on", "source"]


class ClaimSerializer(DescribedModelSerializer):
    """A claim as clients read it, with its citations and their sources' provenance.

    Needs `provenance` (a ProvenanceIndex of every cited source) in its context.
    """

    claimant = PersonSummarySerializer(
        read_only=True, allow_null=True, help_text="Who made the claim; null when unattributed."
    )
    people = PersonSummarySerializer(
        many=True, read_only=True, help_text="The people and organizations it is about."
    )
    topics = TopicSerializer(many=True, read_only=True, help_text="Topics, by name.")
    made = FuzzyDateField("made", read_only=True, help_text="When the claim was made.")
    event = FuzzyDateField("event", read_only=True, help_text="When the claimed event happened.")
    citations = CitationSerializer(
        many=True, read_only=True, help_text="Where it appears and the evidence for and against."
    )

    class Meta:
        model = Claim
        fields = [
            "id",
            "text",
            "summary",
            "claimant",
            "people",
            "topics",
            "made",
            "event",
            "rating",
            "rating_rationale",
            "state",
            "language",
            "created_at",
            "updated_at",
            "citations",
        ]


class CitationInputSerializer(DescribedModelSerializer):
    source = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        queryset=Source.objects.all(), help_text="Id of the cited source."
    )

    class Meta:
        model = Citation
        fields = ["source", "role", "quote", "locator", "reliability_note", "accessed_on"]
        # Uniqueness within one claim is checked across the list, in ClaimInputSerializer.
        validators: list[Any] = []


class ClaimInputSerializer(DescribedModelSerializer):
    """What editors send to create or change a claim, citations included."""

    claimant = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.all(),
        allow_null=True,
        required=False,
        help_text="Id of who made the claim; null when unattributed.",
    )
    people = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.all(),
        many=True,
        required=False,
        help_text="Ids of the people and organizations it is about.",
    )
    topics = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Topic.objects.all(),
        many=True,
        required=False,
        help_text="Topic slugs.",
    )
    made = FuzzyDateField("made", help_text="When the claim was made.")
    event = FuzzyDateField("event", help_text="When the claimed event happened.")
    citations = CitationInputSerializer(
        many=True,
        required=False,
        help_text="The claim's citations. When given, they replace the existing ones.",
    )

    class Meta:
        model = Claim
        fields = [
            "text",
            "summary",
            "claimant",
            "people",
            "topics",
            "made",
            "event",
            "rating",
            "rating_rationale",
            "state",
            "language",
            "citations",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        plain = {k: v for k, v in attrs.items() if k not in ("people", "topics", "citations")}
        claim = unsaved_copy(Claim, self.instance, plain)
        full_clean_for_api(claim, dates=Claim.FUZZY_DATES)
        attrs.update({f: getattr(claim, f) for f in date_field_names(Claim.FUZZY_DATES)})
        seen: set[tuple[int, str]] = set()
        for index, citation in enumerate(attrs.get("citations", [])):
            key = (citation["source"].pk, citation["role"])
            if key in seen:
                raise serializers.ValidationError(
                    {"citations": {str(index): ["This source is already cited in this role."]}}
                )
            seen.add(key)
        return attrs
