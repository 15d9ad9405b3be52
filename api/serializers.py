"""The API's shapes: people, organizations, sources, claims and citations.

One output shape per resource, and a separate input shape where writes differ.
"""

import copy
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar, cast

from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from claims.duplicates import duplicate_message, similar_claims
from claims.models import (
    PEOPLE_CAP,
    TOPICS_CAP,
    Citation,
    Claim,
    QuoteCheck,
    Rating,
    RelationKind,
    State,
    Topic,
    open_change,
)
from claims.paths import MAX_PATH_STEPS
from claims.reviews import reviewer_name
from claims.rules import evidence_counts
from claims.services import MAX_CITATIONS_PER_WRITE
from sources.limits import AUTHORS_CAP, BASED_ON_CAP, ListCap
from sources.models import MAX_RECORD_ID, Person, Reliability, Snapshot, Source, reviewed_on
from sources.services import save_source

M = TypeVar("M", bound=models.Model)


# What JSON type each kind of field takes, and the code it fails with otherwise. DRF is
# lenient where the OpenAPI schema is not (it reads 0 as "0", "true" as true, "5" as a
# record's id, an object as the list of its keys): the API takes what it documents.
JSON_TYPES: list[tuple[type[serializers.Field], type, str]] = [
    (serializers.ManyRelatedField, list, "not_a_list"),
    (serializers.ListField, list, "not_a_list"),
    (serializers.PrimaryKeyRelatedField, int, "incorrect_type"),
    (serializers.SlugRelatedField, str, "invalid"),
    (serializers.BooleanField, bool, "invalid"),
    (serializers.IntegerField, int, "invalid"),
    (serializers.CharField, str, "invalid"),
]


class JsonTypesMixin:
    """Refuses a value of another JSON type than its field documents (JSON_TYPES), with
    the field's own error, before DRF would convert it."""

    def to_internal_value(self, data: Any) -> Any:
        fields = cast(serializers.Serializer, self).fields
        errors: dict[str, Any] = {}
        if isinstance(data, Mapping):
            for field in fields.values():
                value = data.get(field.field_name)
                if field.read_only or value is None:
                    continue
                problem = json_type_problem(field, value)
                if problem is not None:
                    errors[str(field.field_name)] = problem
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]


def json_type_problem(field: serializers.Field, value: Any) -> Any:
    """The field's error for a value of the wrong JSON type, or None."""
    for kind, types, code in JSON_TYPES:
        if isinstance(field, kind):
            wrong = not isinstance(value, types) or (isinstance(value, bool) and types is not bool)
            if wrong:
                return error_of(field, code, value)
            # The documented maxLength holds for the text as sent: DRF would trim the
            # spaces around it first and take a longer one.
            limit = getattr(field, "max_length", None)
            if isinstance(value, str) and limit is not None and len(value) > limit:
                return error_of(field, "max_length", value)
            child = getattr(field, "child", None)
            if isinstance(field, serializers.ListField) and child is not None:
                for index, item in enumerate(value):
                    problem = json_type_problem(child, item)
                    if problem is not None:
                        return {index: problem}
            return None
    return None


def error_of(field: serializers.Field, code: str, value: Any) -> Any:
    try:
        field.fail(
            code,
            data_type=type(value).__name__,
            input_type=type(value).__name__,
            input_value=value,
            max_length=getattr(field, "max_length", None),
        )
    except serializers.ValidationError as error:
        return error.detail
    return None


class FuzzyDateSerializer(JsonTypesMixin, serializers.Serializer):
    """A date as written, its EDTF value, and the calendar days it can mean."""

    text = serializers.CharField(
        max_length=100, allow_blank=True, required=False, help_text='As written: "end of 2018".'
    )
    edtf = serializers.CharField(
        max_length=100,
        allow_blank=True,
        required=False,
        help_text="Extended Date/Time Format value. Derived from `text` when left out.",
    )
    earliest = serializers.DateField(
        read_only=True, allow_null=True, help_text="First calendar day it can mean."
    )
    latest = serializers.DateField(
        read_only=True, allow_null=True, help_text="Last calendar day it can mean."
    )


@extend_schema_field(FuzzyDateSerializer)
class FuzzyDateField(serializers.Field):
    """Reads and writes the four `<prefix>_*` model fields as one object."""

    inner_serializer = FuzzyDateSerializer  # its errors' names: api.schema.AutoSchema

    def __init__(self, prefix: str, **kwargs: Any) -> None:
        self.prefix = prefix
        kwargs.setdefault("source", "*")
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        earliest = getattr(instance, f"{self.prefix}_earliest")
        latest = getattr(instance, f"{self.prefix}_latest")
        return {
            "text": getattr(instance, f"{self.prefix}_text"),
            "edtf": getattr(instance, f"{self.prefix}_edtf"),
            "earliest": earliest.isoformat() if earliest else None,
            "latest": latest.isoformat() if latest else None,
        }

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if data is None:
            data = {}
        inner = FuzzyDateSerializer(data=data)
        inner.is_valid(raise_exception=True)
        values = inner.validated_data
        result = {f"{self.prefix}_{key}": value for key, value in values.items()}
        if "text" in values and "edtf" not in values:
            # New wording without an EDTF value: derive it afresh (see FuzzyDateFormMixin).
            result[f"{self.prefix}_edtf"] = ""
        return result


def full_clean_for_api(
    instance: models.Model, *, dates: tuple[str, ...] = (), exclude: list[str] | None = None
) -> None:
    """Run the model's validation; report date errors under the API's nested names."""
    try:
        instance.full_clean(exclude=exclude)
    except DjangoValidationError as error:
        errors: dict[str, Any] = {}
        for field, messages in error.message_dict.items():
            prefix, _, part = field.rpartition("_")
            if prefix in dates and part in ("text", "edtf"):
                errors.setdefault(prefix, {})[part] = messages
            elif field == NON_FIELD_ERRORS:  # Django's name; the API's is DRF's
                errors[api_settings.NON_FIELD_ERRORS_KEY] = messages
            else:
                errors[field] = messages
        raise serializers.ValidationError(errors) from None


class CappedManyRelatedField(serializers.ManyRelatedField):
    """A list of ids (`many=True`) kept to a ListCap: a longer list is refused, naming
    the field and the cap, before any id in it is looked up (one query each)."""

    default_error_messages = {"too_many": "{problem}"}

    def __init__(self, *, cap: ListCap, **kwargs: Any) -> None:
        self.cap = cap
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if is_list(data) and (problem := self.cap.problem(len(data))):
            self.fail("too_many", problem=problem)
        return super().to_internal_value(data)


class CappedListSerializer(serializers.ListSerializer):
    """A list of nested objects kept to a ListCap, refused as a whole (`citations`)
    before any item is validated."""

    default_error_messages = {"too_many": "{problem}"}

    def __init__(self, *, cap: ListCap, **kwargs: Any) -> None:
        self.cap = cap
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if is_list(data) and (problem := self.cap.problem(len(data))):
            message = self.error_messages["too_many"].format(problem=problem)
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [message]}, code="too_many"
            )
        return super().to_internal_value(data)


def is_list(data: Any) -> bool:
    return isinstance(data, Sequence) and not isinstance(data, str | bytes)


# Descriptions for the columns every model has, so every field in the OpenAPI schema has one.
COMMON_HELP = {
    "id": "Unique id.",
    "created_at": "When this record was created.",
    "updated_at": "When this record last changed.",
    "url": "Where to read it online.",
}


class DescribedModelSerializer(JsonTypesMixin, serializers.ModelSerializer):
    def build_field(self, field_name: str, *args: Any) -> tuple[Any, dict[str, Any]]:
        field_class, kwargs = super().build_field(field_name, *args)
        if field_name in COMMON_HELP:
            kwargs.setdefault("help_text", COMMON_HELP[field_name])
        return field_class, kwargs

    def build_standard_field(
        self, field_name: str, model_field: models.Field
    ) -> tuple[Any, dict[str, Any]]:
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if isinstance(model_field, models.TextField):
            # Claims, quotes and notes are verbatim: keep the spaces and line breaks as
            # typed. The models refuse what is only whitespace where text is required.
            kwargs["trim_whitespace"] = False
        return field_class, kwargs


class PersonSummarySerializer(DescribedModelSerializer):
    class Meta:
        model = Person
        fields = ["id", "name", "kind", "description"]


class PublisherSerializer(DescribedModelSerializer):
    class Meta:
        model = Person
        fields = ["id", "name", "reliability", "reliability_note", "reliability_reviewed_on"]


class PersonSerializer(DescribedModelSerializer):
    aliases = serializers.ListField(
        child=serializers.CharField(max_length=200),
        source="alias_list",
        required=False,
        help_text="Other names and spellings.",
    )

    class Meta:
        model = Person
        fields = [
            "id",
            "kind",
            "name",
            "description",
            "aliases",
            "wikidata_id",
            "reliability",
            "reliability_note",
            "reliability_reviewed_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "alias_list" in attrs:
            attrs["aliases"] = "\n".join(attrs.pop("alias_list"))
        stored = self.instance or Person()
        changed = {name for name, value in attrs.items() if getattr(stored, name) != value}
        attrs = reviewed_on(attrs, changed, date.today())
        full_clean_for_api(unsaved_copy(Person, self.instance, attrs))
        return attrs


class ArchivedCopySerializer(serializers.Serializer):
    archive = serializers.CharField(help_text="Wayback Machine, archive.today, Perma.cc or a host.")
    captured_at = serializers.DateTimeField(
        allow_null=True, help_text="When the copy was captured, as its URL says."
    )
    original_url = serializers.CharField(help_text="The archived page's URL, where given.")


class SourceSerializer(DescribedModelSerializer):
    """A source as clients read it, with its publisher and its effective reliability."""

    publisher = PublisherSerializer(
        read_only=True, allow_null=True, help_text="Who published it, with their reliability."
    )
    publisher_id = serializers.PrimaryKeyRelatedField(
        source="publisher",
        queryset=Person.objects.all(),
        allow_null=True,
        required=False,
        write_only=True,
        help_text="Id of the publishing organization.",
    )
    authors = PersonSummarySerializer(many=True, read_only=True, help_text="Who wrote it.")
    author_ids = CappedManyRelatedField(
        child_relation=serializers.PrimaryKeyRelatedField(queryset=Person.objects.all()),
        cap=AUTHORS_CAP,
        source="authors",
        required=False,
        write_only=True,
        help_text=f"Ids of the people who wrote it ({AUTHORS_CAP.describe().lower()}).",
    )
    published = FuzzyDateField("published", help_text="When it was published.")
    effective_reliability = serializers.ChoiceField(
        choices=Reliability.choices,
        read_only=True,
        help_text="The source's own rating if set, else its publisher's.",
    )
    based_on = CappedManyRelatedField(
        child_relation=serializers.PrimaryKeyRelatedField(queryset=Source.objects.all()),
        cap=BASED_ON_CAP,
        required=False,
        help_text=f"Ids of the sources this one reports on ({BASED_ON_CAP.describe().lower()}).",
    )
    archive = serializers.SerializerMethodField(
        help_text="The archive its archive URL is in, and when that copy was captured "
        "(null where the archive's URL does not say); null without an archive URL."
    )

    class Meta:
        model = Source
        fields = [
            "id",
            "kind",
            "title",
            "publisher",
            "publisher_id",
            "authors",
            "author_ids",
            "url",
            "archive_url",
            "archive",
            "published",
            "language",
            "is_primary",
            "reliability",
            "reliability_note",
            "effective_reliability",
            "based_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    @extend_schema_field(ArchivedCopySerializer(allow_null=True))
    def get_archive(self, source: Source) -> dict[str, Any] | None:
        copy = source.archived_copy
        return None if copy is None else ArchivedCopySerializer(copy).data

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        plain = {k: v for k, v in attrs.items() if k not in ("authors", "based_on")}
        instance = unsaved_copy(Source, self.instance, plain)
        full_clean_for_api(instance, dates=Source.FUZZY_DATES)
        attrs.update({f: getattr(instance, f) for f in date_field_names(Source.FUZZY_DATES)})
        upstream_ids = [source.pk for source in attrs.get("based_on", [])]
        if len(set(upstream_ids)) < len(upstream_ids):
            raise serializers.ValidationError({"based_on": ["A source is listed twice."]})
        # Each link is validated (no self, no cycle) as save_source writes it.
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Source:
        return save_source(source=None, data=validated_data)

    def update(self, instance: Source, validated_data: dict[str, Any]) -> Source:
        return save_source(source=instance, data=validated_data)


def unsaved_copy(model: type[M], instance: M | None, attrs: dict[str, Any]) -> M:
    """The instance as it would be after applying attrs, for validation before saving."""
    candidate = copy.copy(instance) if instance is not None else model()
    for field, value in attrs.items():
        setattr(candidate, field, value)
    return candidate


def date_field_names(prefixes: tuple[str, ...]) -> list[str]:
    """The four model fields behind each fuzzy date: text, edtf, earliest, latest."""
    return [f"{p}_{part}" for p in prefixes for part in ("text", "edtf", "earliest", "latest")]


class PathSourceSerializer(DescribedModelSerializer):
    """A source as a claim's evidence shows it: cited, or a step of a citation's path. Its
    own provenance is not shown, only how many sources it is based on: the route the
    claim took is the path the editor recorded (GET /sources/{id}/ gives the whole tree)."""

    publisher = PublisherSerializer(
        read_only=True, allow_null=True, help_text="Who published it, with their reliability."
    )
    published = FuzzyDateField("published", read_only=True, help_text="When it was published.")
    effective_reliability = serializers.ChoiceField(
        choices=Reliability.choices,
        read_only=True,
        help_text="The source's own rating if set, else its publisher's.",
    )
    based_on_count = serializers.SerializerMethodField(
        help_text="How many sources it is directly based on (its provenance links). Which of "
        "them a claim came through is what a citation's `path` records; none is implied."
    )

    class Meta:
        model = Source
        fields = [
            "id",
            "kind",
            "title",
            "url",
            "archive_url",
            "published",
            "is_primary",
            "language",
            "publisher",
            "effective_reliability",
            "reliability",
            "reliability_note",
            "based_on_count",
        ]

    def get_based_on_count(self, source: Source) -> int:
        return int(self.context["based_on_counts"].get(source.pk, 0))


class PathStepSerializer(serializers.Serializer):
    note = serializers.CharField(
        help_text="How the source before it draws on this one: the provenance link's note "
        '("obtained the documents", "quotes").'
    )
    source = PathSourceSerializer(help_text="The source this step reaches.")  # type: ignore[assignment]


class TopicSerializer(DescribedModelSerializer):
    class Meta:
        model = Topic
        fields = ["slug", "name"]


class SnapshotSummarySerializer(DescribedModelSerializer):
    class Meta:
        model = Snapshot
        fields = ["id", "captured_at", "media_type", "sha256"]


class SnapshotSerializer(DescribedModelSerializer):
    class Meta:
        model = Snapshot
        fields = [
            "id",
            "source",
            "captured_at",
            "media_type",
            "sha256",
            "size",
            "created_at",
            "fetched_from",
        ]


class CaptureSerializer(serializers.Serializer):
    """Capture takes no fields: the source's URL is what is fetched."""


class TaskSerializer(serializers.Serializer):
    """A background task, as its client polls it."""

    id = serializers.CharField(help_text="The task's id.")
    task = serializers.CharField(help_text="What it does: capture_source, recheck_quotes.")
    status = serializers.ChoiceField(
        choices=["READY", "RUNNING", "SUCCESSFUL", "FAILED"],
        help_text="READY: queued; RUNNING; SUCCESSFUL; FAILED (see outcome).",
    )
    outcome = serializers.CharField(help_text="What it did, or why it failed, in words.")
    enqueued_at = serializers.DateTimeField(allow_null=True, help_text="When it was queued.")
    finished_at = serializers.DateTimeField(
        allow_null=True, help_text="When it ended; null until then."
    )
    url = serializers.CharField(
        allow_null=True, help_text="Where to poll it; null when the task ran at once."
    )


class ChangeSerializer(serializers.Serializer):
    by = serializers.CharField(allow_null=True, help_text="The editor's username (null: none).")
    at = serializers.DateTimeField(help_text="When.")


class SignOffSerializer(serializers.Serializer):
    signed_off = serializers.BooleanField(
        help_text="Whether a second editor's sign-off covers the verdict as it is now."
    )
    by = serializers.CharField(allow_null=True, help_text="Who signed off (null: no one).")
    at = serializers.DateTimeField(allow_null=True, help_text="When (null: never).")
    words = serializers.CharField(help_text="The sign-off in words, withdrawn or not.")


class WorkflowSerializer(serializers.Serializer):
    """A claim's place in the desk's work, for editors (claims.workflow)."""

    state = serializers.ChoiceField(choices=State.choices, help_text="Its state now.")
    next_states = serializers.ListField(
        child=serializers.ChoiceField(choices=State.choices),
        help_text="The states it may go to next (set `state` on the claim).",
    )
    assignee = serializers.CharField(
        allow_null=True, help_text="The editor researching it (username)."
    )
    reviewer = serializers.CharField(
        allow_null=True, help_text="The editor asked to sign it off (username)."
    )
    last_change = ChangeSerializer(
        allow_null=True,
        help_text="The last change to its rating, rationale or citations (from the history).",
    )
    sign_off = SignOffSerializer(help_text="The second editor's sign-off of the verdict.")
    second_editor_required = serializers.BooleanField(
        help_text="Whether publishing waits for the sign-off (PUBLISH_REQUIRES_SECOND_EDITOR)."
    )


class EditorField(serializers.SlugRelatedField):
    """An editor named by username: an active staff account."""

    default_error_messages = {
        "does_not_exist": "There is no active editor with the username “{value}”.",
        "invalid": "Give an editor's username.",
    }

    def __init__(self, **kwargs: Any) -> None:
        editors = User.objects.filter(is_staff=True, is_active=True)
        super().__init__(slug_field="username", queryset=editors, allow_null=True, **kwargs)


class WorkflowInputSerializer(serializers.Serializer):
    assignee = EditorField(required=False, help_text="The editor researching it; null: no one.")
    reviewer = EditorField(
        required=False, help_text="The editor asked to sign it off; null: no one."
    )


class SnapshotUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="An HTML page, a PDF or UTF-8 text, as it was read (its type is read from "
        "its bytes; at most SNAPSHOT_MAX_BYTES, 10 MB by default)."
    )
    captured_at = serializers.DateTimeField(
        help_text="When the page or document was read, as it is in this file."
    )


class TextQuoteSelectorSerializer(serializers.Serializer):
    type = serializers.CharField(default="TextQuoteSelector", help_text="TextQuoteSelector.")
    exact = serializers.CharField(help_text="The passage, as the snapshot's text has it.")
    prefix = serializers.CharField(help_text="The text just before it.")
    suffix = serializers.CharField(help_text="The text just after it.")


class TextPositionSelectorSerializer(serializers.Serializer):
    type = serializers.CharField(default="TextPositionSelector", help_text="TextPositionSelector.")
    start = serializers.IntegerField(help_text="Where the passage starts in the snapshot's text.")
    end = serializers.IntegerField(help_text="Where it ends (exclusive).")


class QuoteCheckSerializer(DescribedModelSerializer):
    """Where the quote is in the snapshot: the passage as W3C Web Annotation selectors."""

    snapshot = SnapshotSummarySerializer(read_only=True, help_text="The snapshot checked against.")
    selector = serializers.SerializerMethodField(
        help_text="The passage found (or the closest one) with its context."
    )
    position = serializers.SerializerMethodField(help_text="The passage's place in the text.")

    class Meta:
        model = QuoteCheck
        fields = ["outcome", "score", "snapshot", "selector", "position", "checked_at"]

    @extend_schema_field(TextQuoteSelectorSerializer)
    def get_selector(self, check: QuoteCheck) -> dict[str, str]:
        return {
            "type": "TextQuoteSelector",
            "exact": check.exact,
            "prefix": check.prefix,
            "suffix": check.suffix,
        }

    @extend_schema_field(TextPositionSelectorSerializer)
    def get_position(self, check: QuoteCheck) -> dict[str, Any]:
        return {"type": "TextPositionSelector", "start": check.start, "end": check.end}


class SourceChangedSerializer(serializers.Serializer):
    """The quote as the watch last saw it on the live page (claims.watch)."""

    since = serializers.DateTimeField(help_text="When the watch saw the change.")
    before = serializers.CharField(help_text="The passage as the earlier snapshot has it.")
    after = serializers.CharField(
        help_text="The closest passage of the live page; blank when none is close."
    )
    still_there = serializers.BooleanField(
        help_text="true: the live page has the quote, changed; false: it is gone."
    )
    snapshot = serializers.IntegerField(help_text="The snapshot of the live page then.")


class CitationSerializer(DescribedModelSerializer):
    source = PathSourceSerializer(  # type: ignore[assignment]
        read_only=True, help_text="The cited source."
    )
    path = serializers.SerializerMethodField(
        help_text="Where the cited source took the claim from, as the editor recorded it: each "
        "step a provenance link, nearest first, the first from the cited source. Empty when no "
        "path is recorded: then the cited source is where it is known to come from."
    )
    origin = serializers.SerializerMethodField(
        help_text="The id of the citation's origin: the last source on its path, else the "
        "cited source. Citations with the same origin are not independent evidence."
    )
    quote_check = serializers.SerializerMethodField(
        help_text="The quote checked against the source's latest snapshot: found exactly, "
        "normalised (spaces, quote marks, dashes), close, or not found, with the passage. "
        "null when the quote is blank or the source has no snapshot."
    )

    source_changed = serializers.SerializerMethodField(
        help_text="When the quote, once found, is no longer on the live page as it was read "
        "(the watch, claims.watch): since when, the passage before and after. null otherwise."
    )

    class Meta:
        model = Citation
        fields = [
            "id",
            "role",
            "quote",
            "locator",
            "reliability_note",
            "accessed_on",
            "path",
            "origin",
            "quote_check",
            "source_changed",
            "source",
        ]

    @extend_schema_field(PathStepSerializer(many=True))
    def get_path(self, citation: Citation) -> Any:
        steps = [
            {"note": step.link.note, "source": step.link.based_on} for step in citation.steps.all()
        ]
        return PathStepSerializer(steps, many=True, context=self.context).data

    def get_origin(self, citation: Citation) -> int:
        return int(citation.origin.pk)

    @extend_schema_field(QuoteCheckSerializer(allow_null=True))
    def get_quote_check(self, citation: Citation) -> Any:
        check = getattr(citation, "quote_check", None)
        return None if check is None else QuoteCheckSerializer(check).data

    @extend_schema_field(SourceChangedSerializer(allow_null=True))
    def get_source_changed(self, citation: Citation) -> Any:
        change = open_change(citation)
        if change is None:
            return None
        return SourceChangedSerializer(
            {
                "since": change.detected_at,
                "before": change.before,
                "after": change.after,
                "still_there": change.after_found,
                "snapshot": change.after_snapshot_id,
            }
        ).data


class ClaimantSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=["person", "source"],
        help_text="person: a person, organization or group (GET /people/{id}/); source: a "
        "document, report or transcript that makes the claim (GET /sources/{id}/).",
    )
    id = serializers.IntegerField(help_text="The person's or the source's id.")
    name = serializers.CharField(help_text="Their name, or the source's title.")
    kind = serializers.CharField(
        help_text="The person's kind (person, organization, group) or the source's kind "
        "(leaked_document, report, speech, ...)."
    )
    description = serializers.CharField(help_text="The person's description; empty for a source.")


def claimant_of(claim: Claim) -> dict[str, Any] | None:
    if claim.claimant is not None:
        person = claim.claimant
        return {
            "type": "person",
            "id": person.pk,
            "name": person.name,
            "kind": person.kind,
            "description": person.description,
        }
    if claim.claimant_source is not None:
        source = claim.claimant_source
        return {
            "type": "source",
            "id": source.pk,
            "name": source.title,
            "kind": source.kind,
            "description": "",
        }
    return None


class RoleEvidenceSerializer(serializers.Serializer):
    citations = serializers.IntegerField(help_text="Citations in this role.")
    origins = serializers.IntegerField(
        help_text="Independent origins among them: distinct sources their paths end at."
    )


class EvidenceSerializer(serializers.Serializer):
    supports = RoleEvidenceSerializer(help_text="Citations that support the claim.")
    disputes = RoleEvidenceSerializer(help_text="Citations that dispute it.")
    context = RoleEvidenceSerializer(  # type: ignore[assignment]
        help_text="Citations giving context."
    )


def evidence_of(citations: Iterable[Citation]) -> dict[str, dict[str, int]]:
    """{role: {citations, origins}} for COUNTED_ROLES (api.documents counts in SQL)."""
    return {
        str(role): {"citations": total, "origins": origins}
        for role, (total, origins) in evidence_counts(citations).items()
    }


class RatingChangeSerializer(serializers.Serializer):
    previous_rating = serializers.ChoiceField(
        choices=Rating.choices, help_text="The rating before the change."
    )
    rating = serializers.ChoiceField(choices=Rating.choices, help_text="The rating it became.")
    rationale = serializers.CharField(help_text="The rationale given with it.")
    changed_at = serializers.DateTimeField(help_text="When it changed.")


class RelatedClaimSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The related claim's id.")
    text = serializers.CharField(help_text="The related claim as stated.")


class ClaimRelationSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RelationKind.choices, help_text="How they relate.")
    direction = serializers.ChoiceField(
        choices=["outgoing", "incoming"],
        help_text="outgoing: this claim <kind> the other; incoming: the other <kind> this one.",
    )
    claim = RelatedClaimSerializer(help_text="The other claim.")


class ClaimSerializer(DescribedModelSerializer):
    """A claim as clients read it, with its citations and their sources' provenance.

    Needs `based_on_counts` ({source id: how many sources it is based on}, for every
    source cited or on a path), `rating_history` (claims.reviews.rating_histories) and
    `relations` (claims.relations.related_claims) of the claims in its context.
    """

    relations = serializers.SerializerMethodField(
        help_text="Claims this one repeats, contradicts, refines or responds to, and those "
        "that do so to it (outgoing first)."
    )

    reviewed_by = serializers.SerializerMethodField(
        help_text="Who last rated the claim (their name); null before any rating."
    )
    rating_history = serializers.SerializerMethodField(
        help_text="Each change of the rating, oldest first: corrections and updates."
    )

    claimant = serializers.SerializerMethodField(
        help_text="Who or what makes the claim: a person or organization, or a source (a "
        "document that says it: the page reads “according to” it); null when unattributed."
    )
    evidence = serializers.SerializerMethodField(
        help_text="For each role, how many citations and from how many independent origins: "
        "five citations repeating one wire story are one origin."
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
            "reviewed_on",
            "reviewed_by",
            "rating_history",
            "state",
            "language",
            "created_at",
            "updated_at",
            "evidence",
            "citations",
            "relations",
        ]

    @extend_schema_field(ClaimantSerializer(allow_null=True))
    def get_claimant(self, claim: Claim) -> Any:
        return claimant_of(claim)

    @extend_schema_field(EvidenceSerializer)
    def get_evidence(self, claim: Claim) -> Any:
        return evidence_of(claim.citations.all())

    @extend_schema_field(ClaimRelationSerializer(many=True))
    def get_relations(self, claim: Claim) -> Any:
        related = self.context["relations"].get(claim.pk, [])
        rows = [
            {
                "kind": r.kind,
                "direction": r.direction,
                "claim": {"id": r.claim_id, "text": r.claim_text},
            }
            for r in related
        ]
        return ClaimRelationSerializer(rows, many=True).data

    def get_reviewed_by(self, claim: Claim) -> str | None:
        return reviewer_name(claim.reviewed_by)

    @extend_schema_field(RatingChangeSerializer(many=True))
    def get_rating_history(self, claim: Claim) -> Any:
        changes = self.context["rating_history"].get(claim.pk, [])
        return RatingChangeSerializer(changes, many=True).data


class CitationInputSerializer(DescribedModelSerializer):
    id = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The id of one of this claim's citations, to change it; "
        "leave it out to add a new citation.",
    )
    source = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        queryset=Source.objects.all(), help_text="Id of the cited source."
    )
    path = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_RECORD_ID),
        max_length=MAX_PATH_STEPS,
        required=False,
        help_text="Where the cited source took the claim from: the ids of the sources, nearest "
        "first, each one a source the one before it is based on (its provenance), the first "
        "one of the cited source's. [] for none; left out, the path stays as it is (and is "
        "cleared when the citation's source changes). A broken path is refused, naming the "
        f"step (at most {MAX_PATH_STEPS} steps).",
    )

    class Meta:
        model = Citation
        fields = [
            "id",
            "source",
            "role",
            "quote",
            "locator",
            "reliability_note",
            "accessed_on",
            "path",
        ]
        # Uniqueness within one claim is checked across the list, in ClaimInputSerializer.
        validators: list[Any] = []


class TextSlugRelatedField(serializers.SlugRelatedField):
    """A record named by a text key: one with a NUL in it is refused before the lookup (no
    stored text holds one, and PostgreSQL would refuse the query)."""

    default_error_messages = {
        "null_characters_not_allowed": "Null characters are not allowed.",
    }

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and "\x00" in data:
            self.fail("null_characters_not_allowed")
        return super().to_internal_value(data)


# A write that sends a claim's citations sends all of them (the list replaces them).
CITATIONS_CAP = ListCap(MAX_CITATIONS_PER_WRITE, "One write", "citations", verb="send")


class ClaimInputSerializer(DescribedModelSerializer):
    """What editors send to create or change a claim, citations included."""

    claimant = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.all(),
        allow_null=True,
        required=False,
        help_text="Id of the person or organization who made the claim; null when "
        "unattributed or made by a source.",
    )
    claimant_source = serializers.PrimaryKeyRelatedField(
        queryset=Source.objects.all(),
        allow_null=True,
        required=False,
        help_text="Id of the source that makes the claim (“the documents show”), instead of a "
        "person; null otherwise. A claim has at most one claimant: send the other as null.",
    )
    people = CappedManyRelatedField(
        child_relation=serializers.PrimaryKeyRelatedField(queryset=Person.objects.all()),
        cap=PEOPLE_CAP,
        required=False,
        help_text="Ids of the people and organizations it is about "
        f"({PEOPLE_CAP.describe().lower()}).",
    )
    topics = CappedManyRelatedField(
        child_relation=TextSlugRelatedField(slug_field="slug", queryset=Topic.objects.all()),
        cap=TOPICS_CAP,
        required=False,
        help_text=f"Topic slugs ({TOPICS_CAP.describe().lower()}).",
    )
    made = FuzzyDateField("made", help_text="When the claim was made.")
    event = FuzzyDateField("event", help_text="When the claimed event happened.")
    citations = CappedListSerializer(
        child=CitationInputSerializer(),
        cap=CITATIONS_CAP,
        required=False,
        help_text="The claim's citations, when given: one with an `id` changes that "
        "citation, one without adds a citation, and the claim's citations whose ids are not "
        f"in the list are removed ({CITATIONS_CAP.describe().lower()}).",
    )

    confirm_repetition = serializers.BooleanField(
        required=False,
        write_only=True,
        help_text="On creating a claim: true when it repeats a claim the claimant made before, "
        "on another occasion (without it, an exact duplicate is refused).",
    )

    class Meta:
        model = Claim
        fields = [
            "text",
            "summary",
            "claimant",
            "claimant_source",
            "people",
            "topics",
            "made",
            "event",
            "rating",
            "rating_rationale",
            "state",
            "language",
            "citations",
            "confirm_repetition",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        confirmed = attrs.pop("confirm_repetition", False)
        if self.instance is None:
            claimant = attrs.get("claimant")
            self.similar = similar_claims(attrs.get("text", ""), claimant.pk if claimant else None)
            if not confirmed and any(s.exact for s in self.similar):
                raise serializers.ValidationError({"text": [duplicate_message(self.similar)]})
        plain = {k: v for k, v in attrs.items() if k not in ("people", "topics", "citations")}
        claim = unsaved_copy(Claim, self.instance, plain)
        full_clean_for_api(claim, dates=Claim.FUZZY_DATES)
        attrs.update({f: getattr(claim, f) for f in date_field_names(Claim.FUZZY_DATES)})
        if "citations" in attrs:
            check_citation_ids(self.instance, attrs["citations"])
        return attrs


def check_citation_ids(claim: Claim | None, citations: list[dict[str, Any]]) -> None:
    """A nested citation list names each citation it keeps by id, so that nothing is
    matched by guesswork: each id must be one of this claim's citations, named once; a new
    citation names its source; no two citations may share a source and role once written;
    and a new citation may not take the source and role of one the list removes (send that
    one's id instead). Raises a 400 naming the citation's index."""
    existing = (
        {c.pk: (c.source_id, c.role) for c in claim.citations.only("source_id", "role")}
        if claim is not None and claim.pk
        else {}
    )
    for index, problem in citation_list_problems(existing, citations):
        error: Any = [problem[1]] if problem[0] is None else {problem[0]: [problem[1]]}
        raise serializers.ValidationError({"citations": {str(index): error}})


DEFAULT_ROLE = Citation._meta.get_field("role").default


def citation_list_problems(
    existing: dict[int, tuple[int, str]], citations: list[dict[str, Any]]
) -> Iterator[tuple[int, tuple[str | None, str]]]:
    """(index, (field or None, message)) for each citation of the list that cannot be
    written over the `existing` ones ({id: (source id, role)})."""
    kept = {c["id"] for c in citations if "id" in c}
    held_by = {key: pk for pk, key in existing.items()}
    wanted: set[tuple[int, str]] = set()
    named: set[int] = set()
    for index, citation in enumerate(citations):
        pk = citation.get("id")
        if pk is not None and pk not in existing:
            yield index, ("id", f"This claim has no citation {pk}: leave the id out to add one.")
            continue
        if pk is not None and pk in named:
            yield index, ("id", f"Citation {pk} is in the list twice.")
            continue
        if pk is not None:
            named.add(pk)
        if pk is None and "source" not in citation:
            yield index, ("source", "This field is required.")
            continue
        source, role = existing[pk] if pk is not None else (0, DEFAULT_ROLE)
        key = (
            citation["source"].pk if "source" in citation else source,
            citation.get("role", role),
        )
        if key in wanted:
            yield index, (None, "This source is already cited in this role.")
        wanted.add(key)
        # Rows are written as: removed ones deleted, kept ones updated, new ones inserted.
        # A new citation may take the key a kept one gives up; a kept citation taking the
        # key of another kept one would collide inside the one UPDATE.
        holder = held_by.get(key)
        if holder is not None and holder != pk and (pk is None) != (holder in kept):
            advice = (
                "send that citation with its id to change it."
                if pk is None
                else "change one of them in a write of its own."
            )
            yield (
                index,
                (None, f"This source is already cited in this role (citation {holder}): {advice}"),
            )


class ClaimLinkSerializer(DescribedModelSerializer):
    class Meta:
        model = Claim
        fields = ["id", "text", "rating", "state"]


class CitingClaimSerializer(DescribedModelSerializer):
    claim = ClaimLinkSerializer(read_only=True, help_text="The citing claim.")

    class Meta:
        model = Citation
        fields = ["role", "claim"]


class SourceDetailSerializer(SourceSerializer):
    cited_by = CitingClaimSerializer(
        many=True,
        read_only=True,
        source="visible_citations",
        help_text="Claims citing it, by role.",
    )

    class Meta(SourceSerializer.Meta):
        fields = [*SourceSerializer.Meta.fields, "cited_by"]


class PersonDetailSerializer(PersonSerializer):
    claims_made = ClaimLinkSerializer(
        many=True, read_only=True, source="visible_claims_made", help_text="Claims they made."
    )
    claims_about = ClaimLinkSerializer(
        many=True, read_only=True, source="visible_claims_about", help_text="Claims about them."
    )

    class Meta(PersonSerializer.Meta):
        fields = [*PersonSerializer.Meta.fields, "claims_made", "claims_about"]
