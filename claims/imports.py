"""CSV import for editors (django-import-export): claims.csv, then citations.csv.

The files have the exports' columns (docs/data-dictionary.md), so an export imports back
unchanged; columns the database derives (EDTF bounds, counts, links) are ignored. People,
topics, sources and publishers named in a row are found by id or name, or created.

The admin shows a preview with every bad row and its reason and offers to confirm only
when there are none; the import runs in one transaction, so it is all or nothing. Every
saved row gets a history entry, by the editor who confirmed.

The preview notes the version of every stored record the rows read (the claims and
citations they change, the claims, sources and people they name), and the confirm carries
them: it locks those records, and refuses the rows whose records another editor changed
or deleted since, naming them. Nothing is imported then, and nothing deleted is re-created.
"""

import contextlib
import copy
import csv
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.management.color import no_style
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from import_export import exceptions, fields, resources, results, widgets
from import_export.instance_loaders import ModelInstanceLoader
from import_export.tmp_storages import TempFolderStorage

from claims.duplicates import (
    Similar,
    duplicate_message,
    exact_duplicates,
    is_exact,
    normalized,
)
from claims.models import (
    CLAIMANT_TWICE,
    PEOPLE_CAP,
    TOPICS_CAP,
    Citation,
    CitationStep,
    Claim,
    ImportRun,
    Topic,
)
from claims.paths import PathError, format_path, parse_path, resolve_path
from claims.rules import citation_change_errors, publishing_errors, stored_evidence
from claims.services import record_review, save_citation, write_paths
from claims.workflow import pending_publish_error, transition_error
from sources.export_engine import needs_guard, split_names
from sources.locks import lock_rows
from sources.models import (
    MAX_IMPORTED_ID,
    Person,
    PersonKind,
    Reliability,
    Source,
    is_record_id,
)
from sources.services import capture_if_missing

logger = logging.getLogger(__name__)

# Python's csv module refuses cells over 131,072 characters; a file with one gets, like
# any other long text, the field's own "at most N characters" error instead.
csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))


def text(value: Any) -> str:
    """A cell as our exports wrote it, without the apostrophe that neutralised a formula.
    ValueError for what no text field can hold."""
    cell = "" if value is None else str(value)
    if "\x00" in cell:
        raise ValueError("A cell cannot contain the null character (\\x00).")
    if cell[:1] == "'" and needs_guard(cell[1:]):
        return cell[1:]
    return cell


class ExactTempFolderStorage(TempFolderStorage):
    """The uploaded file between preview and confirm, kept byte for byte: read without
    Python's newline translation, so a CR inside a cell stays a CR (not LF)."""

    def _open(self, mode: str = "r") -> Any:
        if self.name and "b" not in mode:
            return open(self.get_full_path(), mode, encoding=self.encoding, newline="")
        return super()._open(mode)


class ErrorInWords(results.Error):
    """An error of the whole file, or of a row but of no one cell, as the editor reads it:
    in words about the file, never an exception's class, text or traceback (those go to
    the server's log)."""

    def __init__(self, error: Exception, row: Any = None, number: int | None = None) -> None:
        if isinstance(error, ValidationError):
            words = " ".join(error.messages)
        elif isinstance(error, exceptions.FieldError):  # no id column: import_id_fields
            words = (
                "The file has no id column (claims.csv: id; citations.csv: citation_id). "
                "Start from an export: its first line names every column."
            )
        else:
            logger.error("An import failed on row %s", number, exc_info=error)
            words = (
                "This could not be imported because of a fault on our side, not in the "
                "file; nothing was imported. Tell an administrator: the server's log says more."
            )
        super().__init__(ValueError(words), row, number)

    @property
    def traceback(self) -> str:
        return ""


class TextWidget(widgets.CharWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        return text(value)


def _cell(row: dict[str, Any], column: str) -> str:
    try:
        return text(row.get(column))
    except ValueError as error:
        raise ValidationError({column: str(error)}) from None


def _id(row: dict[str, Any], column: str) -> int | None:
    return _checked_id(_cell(row, column), column)


def _checked_id(cell: str, column: str) -> int | None:
    value = cell.strip()
    if not value:
        return None
    if not is_record_id(value):
        raise ValidationError({column: f'"{value[:40]}" is not an id (a whole number).'})
    if int(value) > MAX_IMPORTED_ID:
        raise ValidationError(
            {column: f"{value} is past the largest id an import can give ({MAX_IMPORTED_ID:,})."}
        )
    return int(value)


def _saved(obj: Any, column: str, *, history: bool = True) -> Any:
    """Validate and save a row's related record, reporting errors under the row's column.
    `history`: False in a preview, which is rolled back (its history entries would be too).
    A person or topic made from a name has nothing its constraints could refuse."""
    try:
        obj.full_clean(validate_constraints=not isinstance(obj, (Person, Topic)))
    except ValidationError as error:
        messages = "; ".join(f"{field}: {' '.join(m)}" for field, m in error.message_dict.items())
        raise ValidationError({column: messages}) from None
    explicit_id = obj.pk is not None and obj._state.adding
    if not history:
        obj.skip_history_when_saving = True
    obj.save()
    if explicit_id:
        _catch_up_sequence(type(obj))
    return obj


def _catch_up_sequence(model: Any) -> None:
    """After inserting a row with its own id, move the id sequence past it (PostgreSQL)."""
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(statement)


# A changed cell in an import preview: (column, stored value, value in the file).
Change = tuple[str, str, str]


# A stored record as the import's versions name it: "claims.claim:12".
def record_key(record: Any) -> str:
    return f"{record._meta.label_lower}:{record.pk}"


# The stored records an import reads, as the versions name them, and what each is called.
VERSIONED: dict[str, tuple[Any, str]] = {
    "sources.source": (Source, "source"),
    "sources.person": (Person, "person"),
    "claims.claim": (Claim, "claim"),
    "claims.citation": (Citation, "citation"),
    "claims.topic": (Topic, "topic"),
}


class RowsInstanceLoader(ModelInstanceLoader):
    """The stored records a file's rows name by id, read in one query (not one a row). A
    row whose id cannot be read is refused on its own (ImportResource.get_instance)."""

    def __init__(self, resource: Any, dataset: Any = None) -> None:
        super().__init__(resource, dataset)
        self.column = resource.fields["id"].column_name
        ids = _ids_in(dataset.dict, self.column) if dataset is not None else []
        found = resource.stored_rows().filter(pk__in=ids) if ids else []
        self.found = {record.pk: record for record in found}

    def get_instance(self, row: Any) -> Any:
        # Each id is one row's: ImportResource.get_instance refuses a second.
        pk = _checked_id(text(row.get(self.column)), self.column)
        return None if pk is None else self.found.get(pk)


class ImportResource(resources.ModelResource):
    """Text cells lose the exports' formula guard; explicit ids keep sequences in step.

    `versions`: None for a preview, which notes in `seen` the version (updated_at) of each
    stored record the rows read, first by which row; the confirm gives them back, and rows
    whose records changed or went since are refused (`stale_rows`)."""

    def __init__(
        self,
        versions: dict[str, list[Any]] | None = None,
        request: HttpRequest | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.expected = versions
        self.request = request
        self.seen: dict[str, list[Any]] = {}
        self.stale_rows: dict[int, list[str]] = {}
        self.row_number = 0
        self.started = timezone.now()
        self.dry_run = False
        # People by name as this import found or made them (the first by id, as a file
        # names them), so a name repeated in many rows is looked up once.
        self.people_named: dict[str, Person] = {}
        self.people_by_id: dict[int, Person] = {}  # ClaimResource reads them all at once
        self.publishers_named: dict[str, Person] = {}
        self.topics_slugged: dict[str, Topic] = {}
        self.rows_by_id: dict[int, int] = {}  # the first row of each id in the file

    def saved(self, obj: Any, column: str) -> Any:
        """_saved(), with history entries unless this is a preview."""
        return _saved(obj, column, history=not self.dry_run)

    def person(self, name: str, *, pk: int | None, column: str) -> Person:
        """The person of this id (added under it, with this name, if missing); without
        an id, the first of this name, or else a new one."""
        if pk is not None:
            if pk not in self.people_by_id:
                self.people_by_id[pk] = self.saved(Person(pk=pk, name=name), column)
            return self.people_by_id[pk]
        if name not in self.people_named:
            found = Person.objects.filter(name=name).order_by("id").first()
            self.people_named[name] = found or self.saved(Person(pk=pk, name=name), column)
        return self.people_named[name]

    def read(self, record: Any) -> Any:
        """A stored record this row reads, its version noted (the first time); not one
        this import made (a preview's are rolled back)."""
        if (
            record is not None
            and record.pk is not None
            and hasattr(record, "updated_at")
            and record.updated_at < self.started
        ):
            key = record_key(record)
            self.seen.setdefault(key, [record.updated_at.isoformat(), self.row_number])
        return record

    def get_error_result_class(self) -> type[results.Error]:
        return ErrorInWords

    def import_data(self, dataset: Any, *args: Any, **kwargs: Any) -> Any:
        """A file of more than IMPORT_MAX_ROWS rows is refused whole, before any is read."""
        limit = settings.IMPORT_MAX_ROWS
        self.dry_run = bool(kwargs.get("dry_run", args[0] if args else False))
        if len(dataset) <= limit:
            return super().import_data(dataset, *args, **kwargs)
        result = self.get_result_class()()
        result.total_rows = len(dataset)
        message = (
            f"This file has {len(dataset):,} rows; an import takes at most {limit:,}. "
            f"Split it into files of at most {limit:,} rows and import them one by one."
        )
        result.append_base_error(ErrorInWords(ValidationError(message)))
        return result

    def check_versions(self) -> None:
        """Lock the records the preview read, in the global order, and note the rows whose
        records changed or were deleted since."""
        if self.expected is None:
            return
        by_model: dict[str, dict[int, list[Any]]] = defaultdict(dict)
        for key, (version, row) in self.expected.items():
            label, _, digits = key.partition(":")
            if label in VERSIONED and digits.isdigit():
                by_model[label][int(digits)] = [version, row]
        lock_rows(
            provenance=True,  # a row's path follows provenance links
            shared_sources=by_model["sources.source"],
            people=by_model["sources.person"],
            topics=by_model["claims.topic"],
            claims=by_model["claims.claim"],
            citations=by_model["claims.citation"],
            allow_missing=True,
        )
        for label, expected in by_model.items():
            model, noun = VERSIONED[label]
            now = dict(model.objects.filter(pk__in=list(expected)).values_list("pk", "updated_at"))
            for pk, (version, row) in sorted(expected.items()):
                if pk not in now:
                    problem = f"{noun} {pk} was deleted since the preview"
                elif now[pk].isoformat() != version:
                    last = model.history.filter(id=pk).order_by("-history_date").first()
                    who = f" by {last.history_user}" if last and last.history_user else ""
                    problem = f"{noun} {pk} was changed{who} since the preview"
                else:
                    continue
                self.stale_rows.setdefault(row, []).append(problem)

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        super().before_import(dataset, **kwargs)
        self.started = timezone.now()
        self.check_versions()

    def validate_instance(
        self, instance: Any, import_validation_errors: Any = None, validate_unique: bool = True
    ) -> None:
        self.refuse_if_stale(import_validation_errors)
        super().validate_instance(instance, import_validation_errors, validate_unique)

    def refuse_if_stale(self, errors: Any) -> None:
        """A stale row is refused for that alone: its record is not what the file was
        previewed against, so nothing else about it is checked."""
        if self.row_number in self.stale_rows:
            raise ValidationError(errors)

    def stored_rows(self) -> QuerySet[Any]:
        """The stored records, as the rows' ids find them (RowsInstanceLoader)."""
        return self.get_queryset()

    def import_row(self, row: Any, instance_loader: Any, **kwargs: Any) -> Any:
        self.row_number = kwargs.get("row_number", 0)
        return super().import_row(row, instance_loader, **kwargs)

    def get_instance(self, instance_loader: Any, row: Any) -> Any:
        column = self.fields["id"].column_name
        # A row error naming the cell, before any lookup by it.
        pk = _id(row, column) if column in row else None
        earlier = self.row_number if pk is None else self.rows_by_id.setdefault(pk, self.row_number)
        if earlier != self.row_number:
            raise ValidationError(
                {column: f"Row {earlier} of this file has this id too: one row a record."}
            )
        return self.read(super().get_instance(instance_loader, row))

    @classmethod
    def widget_from_django_field(cls, f: Any, default: Any = widgets.Widget) -> Any:
        if f.get_internal_type() in ("CharField", "TextField"):
            return TextWidget
        return super().widget_from_django_field(f, default)

    def import_instance(self, instance: Any, row: dict[str, Any], **kwargs: Any) -> None:
        """The plain columns, then the ones read by hand: every error of the row at once."""
        if self.row_number in self.stale_rows:  # nothing of it is read, nothing re-created
            raise ValidationError(
                {"version": "; ".join(self.stale_rows[self.row_number]) + ". Preview it again."}
            )
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors.update(error.error_dict)
        try:
            self.read_by_hand(instance, row)
        except ValidationError as error:
            errors.update(error.error_dict)
        if errors:
            raise ValidationError(errors)

    def read_by_hand(self, instance: Any, row: dict[str, Any]) -> None:
        """Set what the plain columns cannot (foreign keys by name, many-to-many)."""

    def do_instance_save(self, instance: Any, is_create: bool) -> None:
        """A preview writes no row: it shows each row's changes, and checks each row
        against the rows before it in memory (ClaimResource.duplicate_errors, CitationResource
        .validate_in_preview), as the confirm checks it against the database it writes."""
        if self.dry_run:
            return
        explicit_id = is_create and instance.pk is not None
        self.write(instance, is_create)
        if explicit_id:
            _catch_up_sequence(type(instance))

    def write(self, instance: Any, is_create: bool) -> None:
        """The row's write, through the service its model's other doors use."""
        super().do_instance_save(instance, is_create)

    # A row that changes nothing is skipped (Meta.skip_unchanged): no save, no history
    # entry, no new updated_at. The preview lists each changed cell, not an HTML diff.

    def changes(self, original: Any, instance: Any, row: dict[str, Any]) -> list[Change]:
        """(column, stored value, value in the file) for each cell that would change the
        record: for a new one, each cell that says something."""
        raise NotImplementedError

    def after_init_instance(self, instance: Any, new: bool, row: Any, **kwargs: Any) -> None:
        super().after_init_instance(instance, new, row, **kwargs)
        # The record as stored, for changes(): a shallow copy (its field values), where
        # import-export's diff would deep-copy it and export every field twice.
        self._original = copy.copy(instance)

    def skip_row(
        self,
        instance: Any,
        original: Any,
        row: dict[str, Any],
        import_validation_errors: Any = None,
    ) -> bool:
        original = self._original if original is None else original
        self._changes = [] if import_validation_errors else self.changes(original, instance, row)
        return original.pk is not None and not import_validation_errors and not self._changes

    def after_import(self, dataset: Any, result: Any, **kwargs: Any) -> None:
        super().after_import(dataset, result, **kwargs)
        result.cell_changes = True  # rows carry `changes`
        if self.request is not None and kwargs.get("dry_run"):
            self.request.import_versions = self.seen  # type: ignore[attr-defined]

    def after_import_row(self, row: Any, row_result: Any, **kwargs: Any) -> None:
        super().after_import_row(row, row_result, **kwargs)
        # Shown by the import preview (templates/admin/claims/import.html).
        row_result.changes = getattr(self, "_changes", [])
        row_result.number = kwargs.get("row_number")
        self._changes = []


def plain_changes(original: Any, instance: Any, row: dict[str, Any], columns: Any) -> list[Change]:
    """Changes of the plain columns given in the row, named (column, attribute)."""
    return [
        (column, _shown(getattr(original, name)), _shown(getattr(instance, name)))
        for column, name in columns
        if column in row and getattr(original, name) != getattr(instance, name)
    ]


def _shown(value: Any) -> str:
    return "" if value is None else str(value)


def _listed(*columns: str) -> dict[str, fields.Field]:
    """Columns read by hand in import_instance, declared so the import page lists them."""
    return {column: fields.Field(column_name=column) for column in columns}


# The claims.csv columns a row sets as they are (the others are read by hand).
PLAIN_COLUMNS = (
    "text",
    "summary",
    "made_text",
    "made_edtf",
    "event_text",
    "event_edtf",
    "rating",
    "rating_rationale",
    "state",
    "language",
)


# The claims.csv columns read by hand (ClaimResource.read_by_hand).
CLAIM_COLUMNS_READ_BY_HAND = (
    "claimant",
    "claimant_id",
    "claimant_source_id",
    "people",
    "people_ids",
    "topics",
    "confirm_repetition",
)


class ClaimResource(ImportResource):
    """claims.csv: one row per claim, with its claimant, people and topics."""

    locals().update(_listed(*CLAIM_COLUMNS_READ_BY_HAND))

    class Meta:
        model = Claim
        fields = ("id", *CLAIM_COLUMNS_READ_BY_HAND, *PLAIN_COLUMNS)
        import_id_fields = ("id",)
        instance_loader_class = RowsInstanceLoader
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        skip_html_diff = True
        skip_diff = True  # the preview lists `changes` (skip_row), not import-export's diff

    def import_instance(self, instance: Claim, row: dict[str, Any], **kwargs: Any) -> None:
        # As stored (a new claim: the model's defaults, and no state before).
        instance._rated_before = instance.rating  # type: ignore[attr-defined]
        instance._verdict_before = (instance.rating, instance.rating_rationale)  # type: ignore[attr-defined]
        instance._state_before = None if instance._state.adding else instance.state  # type: ignore[attr-defined]
        super().import_instance(instance, row, **kwargs)

    def write(self, instance: Claim, is_create: bool) -> None:
        record_review(instance, rated_before=instance._rated_before)  # type: ignore[attr-defined]
        super().write(instance, is_create)

    def validate_instance(
        self, instance: Claim, import_validation_errors: Any = None, validate_unique: bool = True
    ) -> None:
        self.refuse_if_stale(import_validation_errors)
        # Claim's database constraints are all checks that Claim.clean() and the field
        # choices already enforce; validating them again would cost a query each, per row.
        errors = dict(import_validation_errors or {})
        try:
            # The claimant was found (or added) by read_by_hand: no query to check it again.
            exclude = [*errors, "claimant", "claimant_source"]
            instance.full_clean(exclude=exclude, validate_constraints=False)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if not errors:
            # Its citations come in citations.csv: a claim published with an evidence
            # rating is imported as a draft first, then published once they are in.
            rules = publishing_errors(instance, stored_evidence(instance))
            errors = {field: [message] for field, message in rules.items()}
        if not errors:  # the workflow's table and the second editor's rule (claims.workflow)
            before = instance._state_before  # type: ignore[attr-defined]
            changing = instance._verdict_before != (instance.rating, instance.rating_rationale)  # type: ignore[attr-defined]
            message = transition_error(before, instance.state) or pending_publish_error(
                instance, state_before=before, changing=changing
            )
            errors = {"state": [message]} if message else {}
        confirmed = getattr(instance, "_confirm_repetition", False)
        if not errors and instance._state.adding and not confirmed:
            errors = self.duplicate_errors(instance)
        if errors:
            raise ValidationError(errors)
        if instance._state.adding:
            key = (normalized(instance.text), instance.claimant_id)
            self.new_in_file.setdefault(key, self.row_number)

    def duplicate_errors(self, claim: Claim) -> dict[str, list[str]]:
        """An exact duplicate (claims.duplicates) of a recorded claim, or of a new one of an
        earlier row of this file, is refused unless the row confirms it is a repetition."""
        key = normalized(claim.text)
        if not key:
            return {}
        repeats = [c for c in self.recorded.get(key, []) if is_exact(c, key, claim.claimant_id)]
        if repeats:
            return {"text": [duplicate_message([Similar(c, True) for c in repeats])]}
        if (row := self.new_in_file.get((key, claim.claimant_id))) is not None:
            return {
                "text": [
                    f"This repeats the claim of row {row} of this file (the same claimant, the "
                    "same words). If it is the same claim made again on another occasion, put "
                    "yes in its confirm_repetition column; otherwise remove one of the rows."
                ]
            }
        return {}

    def changes(self, original: Claim, claim: Claim, row: dict[str, Any]) -> list[Change]:
        return cell_changes(original, claim, row)

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        super().before_import(dataset, **kwargs)
        # The recorded claims any row may repeat, in one query (not one a row); and the
        # new claims of the rows read so far, by normalized text and claimant.
        self.recorded = exact_duplicates([_claim_key(row) for row in dataset.dict])
        self.new_in_file: dict[tuple[str, int | None], int] = {}
        # The people the rows name by id, read at once.
        ids = [*_ids_in(dataset.dict, "claimant_id"), *_people_ids_in(dataset.dict)]
        self.people_by_id = {p.pk: p for p in Person.objects.filter(pk__in=ids)}
        # Claimants first, under their exported ids, before any row creates a namesake
        # among the people a claim is about.
        for row in dataset.dict:
            # An invalid claimant is reported on its row, where it is read again.
            with contextlib.suppress(ValidationError):
                name = _cell(row, "claimant").strip()
                pk = _id(row, "claimant_id")
                if (
                    name
                    and pk is not None
                    and pk not in self.people_by_id
                    and not Person.objects.filter(name=name).exists()
                ):
                    self.people_by_id[pk] = self.saved(Person(pk=pk, name=name), "claimant")

    def read_by_hand(self, instance: Claim, row: dict[str, Any]) -> None:
        # An exact duplicate of a recorded claim is refused unless this column says it is
        # the same claim made again on another occasion.
        confirm = _cell(row, "confirm_repetition").strip().lower()
        instance._confirm_repetition = confirm in ("1", "true", "yes")  # type: ignore[attr-defined]
        # A source as claimant (claimant_kind "source"): its id names it, and the claimant
        # cell is its title, not a person's name.
        source_id = _id(row, "claimant_source_id") if "claimant_source_id" in row else None
        if source_id is not None:
            source = Source.objects.filter(pk=source_id).first()
            if source is None:
                raise ValidationError(
                    {"claimant_source_id": f"There is no source {source_id}: add it first."}
                )
            instance.claimant, instance.claimant_source = None, source
            claimant = ""
        else:
            if "claimant_source_id" in row:
                instance.claimant_source = None
            claimant = _cell(row, "claimant").strip()
        pk = _id(row, "claimant_id")
        if source_id is None:
            instance.claimant = (
                self.read(self.person(claimant, pk=pk, column="claimant")) if claimant else None
            )
        elif pk is not None:
            raise ValidationError({"claimant_source_id": CLAIMANT_TWICE})
        instance._import_people = [  # type: ignore[attr-defined]
            self.read(self.person(name, pk=pk, column="people")) for name, pk in _people(row)
        ]
        instance._import_topics = [  # type: ignore[attr-defined]
            self.read(self.topic(slug)) for slug in _topics(row)
        ]

    def topic(self, slug: str) -> Topic:
        """The topic of this slug, or a new one; each slug looked up once an import."""
        if slug not in self.topics_slugged:
            self.topics_slugged[slug] = Topic.objects.filter(slug=slug).first() or self.saved(
                Topic(slug=slug, name=slug.replace("-", " ").capitalize()), "topics"
            )
        return self.topics_slugged[slug]

    def stored_rows(self) -> QuerySet[Claim]:
        # cell_changes() compares each stored claim's claimant, people and topics.
        return Claim.objects.select_related("claimant").prefetch_related("people", "topics")

    def save_m2m(self, instance: Claim, row: dict[str, Any], **kwargs: Any) -> None:
        if self.dry_run:  # a preview writes no claim (do_instance_save), nor its links
            return
        super().save_m2m(instance, row, **kwargs)
        if "people" in row:
            instance.people.set(instance._import_people)  # type: ignore[attr-defined]
        if "topics" in row:
            instance.topics.set(instance._import_topics)  # type: ignore[attr-defined]


def cell_changes(original: Claim, claim: Claim, row: dict[str, Any]) -> list[Change]:
    """ClaimResource.changes."""
    changes = plain_changes(original, claim, row, [(name, name) for name in PLAIN_COLUMNS])
    if ("claimant" in row or "claimant_id" in row) and original.claimant_id != claim.claimant_id:
        before = original.claimant.name if original.claimant is not None else ""
        changes.append(("claimant", before, claim.claimant.name if claim.claimant else ""))
    if "claimant_source_id" in row and original.claimant_source_id != claim.claimant_source_id:
        before = str(original.claimant_source_id or "")
        changes.append(("claimant_source_id", before, str(claim.claimant_source_id or "")))
    for column in ("people", "topics"):
        if column not in row:
            continue
        # The stored ones, as the claim was read with them (stored_rows: prefetched; the
        # copy `original` would read them again). The row has not written them yet.
        stored = list(getattr(claim, column).all()) if original.pk else []
        given = getattr(claim, f"_import_{column}")
        if {item.pk for item in stored} != {item.pk for item in given} or None in {
            item.pk for item in given
        }:
            names = [", ".join(sorted(str(item) for item in items)) for items in (stored, given)]
            changes.append((column, names[0], names[1]))
    return changes


CITATION_COLUMNS_READ_BY_HAND = (
    "claim_id",
    "source_id",
    "source_title",
    "source_kind",
    "source_url",
    "source_archive_url",
    "source_published_text",
    "source_published_edtf",
    "source_is_primary",
    "publisher",
    "publisher_reliability",
    "source_reliability",
    "path",
)
# (column, attribute) of the citations.csv cells a row sets as they are.
CITATION_PLAIN_COLUMNS = (
    ("role", "role"),
    ("quote", "quote"),
    ("locator", "locator"),
    ("reliability_note", "reliability_note"),
    ("accessed_on", "accessed_on"),
)


class IdWidget(widgets.IntegerWidget):
    """An id column read by the one id rule (sources.models.RECORD_ID), its errors in words."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> int | None:
        try:
            return _checked_id(text(value), "id")
        except ValidationError as error:
            raise ValueError(" ".join(error.messages)) from None


class DayWidget(widgets.DateWidget):
    """A day as the exports write it (2019-07-31), its error in words."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        try:
            return super().clean(value, row, **kwargs)
        except ValueError:
            raise ValueError(
                f'"{text(value)[:40]}" is not a day written as the exports write it (2019-07-31).'
            ) from None


class CitationResource(ImportResource):
    """citations.csv: one row per citation; its claim must exist, its source may be new."""

    locals().update(_listed(*CITATION_COLUMNS_READ_BY_HAND))
    id = fields.Field(attribute="id", column_name="citation_id", widget=IdWidget())
    accessed_on = fields.Field(
        attribute="accessed_on", column_name="accessed_on", widget=DayWidget("%Y-%m-%d")
    )

    class Meta:
        model = Citation
        fields = (
            "id",
            "role",
            "quote",
            "locator",
            "reliability_note",
            "accessed_on",
            *CITATION_COLUMNS_READ_BY_HAND,
        )
        import_id_fields = ("id",)
        instance_loader_class = RowsInstanceLoader
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        skip_html_diff = True
        skip_diff = True  # the preview lists `changes` (skip_row), not import-export's diff

    def changes(self, original: Citation, citation: Citation, row: dict[str, Any]) -> list[Change]:
        changes = plain_changes(original, citation, row, CITATION_PLAIN_COLUMNS)
        links = citation._path_links  # type: ignore[attr-defined]
        stored_path = self.paths_by_citation.get(original.pk, "") if original.pk else ""
        path = format_path(link.based_on_id for link in links) if links is not None else None
        if path is not None and path != stored_path:
            changes.append(("path", stored_path, path))
        for column, name in (
            ("claim_id", "claim"),
            ("source_id", "source"),
        ):
            if getattr(original, f"{name}_id") != getattr(citation, f"{name}_id"):
                before, after = (_shown(getattr(c, name, None)) for c in (original, citation))
                changes.append((column, before, after))
        return changes

    def write(self, instance: Citation, is_create: bool) -> None:
        save_citation(instance, force_insert=is_create)

    def validate_instance(
        self, instance: Citation, import_validation_errors: Any = None, validate_unique: bool = True
    ) -> None:
        if self.dry_run:
            self.validate_in_preview(instance, import_validation_errors)
            return
        super().validate_instance(instance, import_validation_errors, validate_unique)
        # A published claim keeps at least the evidence its rating needs (claims.rules).
        rules = citation_change_errors(instance, origin=origin_of(instance))
        if rules:
            raise ValidationError({"role": list(rules.values())})

    def after_save_instance(self, instance: Citation, row: Any, **kwargs: Any) -> None:
        super().after_save_instance(instance, row, **kwargs)
        links = instance._path_links  # type: ignore[attr-defined]
        if not self.dry_run and links is not None:
            write_paths({instance: links}, user=kwargs.get("user"))

    def validate_in_preview(self, citation: Citation, import_validation_errors: Any) -> None:
        """What the confirm checks against the database it writes row by row (the one-role-
        a-source constraint, the publishing rules), checked against the citations as the
        rows before this one leave them (`cited`): a preview writes no citation."""
        self.refuse_if_stale(import_validation_errors)
        errors = dict(import_validation_errors or {})
        try:
            # Its claim and source were found by read_by_hand: not looked up again.
            exclude = [*errors, "claim", "source"]
            citation.full_clean(exclude=exclude, validate_constraints=False)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if not errors:
            errors = self.cited.errors(citation, self.claims_by_id)
        if errors:
            raise ValidationError(errors)
        self.cited.record(citation, ("row", self.row_number))

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        super().before_import(dataset, **kwargs)
        rows = dataset.dict
        # The claims and sources the rows name, read once (a preview reads nothing more
        # of them), and the citations of those claims as they stand.
        given = set(_ids_in(rows, "citation_id"))
        moved = Citation.objects.filter(pk__in=given).values_list("claim_id", flat=True)
        claim_ids = {*_ids_in(rows, "claim_id"), *moved}
        self.claims_by_id = {c.pk: c for c in Claim.objects.filter(pk__in=claim_ids)}
        source_ids = set(_ids_in(rows, "source_id"))
        self.sources_by_id = {s.pk: s for s in Source.objects.filter(pk__in=source_ids)}
        self.cited = CitedRoles(claim_ids)
        # The stored paths of the citations the rows name, for changes().
        self.paths_by_citation = stored_paths(given)
        # The cited sources first, with all their columns. A stale row (check_versions)
        # adds none.
        for number, row in enumerate(dataset.dict, start=1):
            # An invalid source is reported on its row, where it is read again.
            with contextlib.suppress(ValidationError):
                if _id(row, "source_id") is not None and number not in self.stale_rows:
                    self._source(row)

    def read_by_hand(self, instance: Citation, row: dict[str, Any]) -> None:
        claim_id = _id(row, "claim_id")
        claim = self.read(self.claims_by_id.get(claim_id) if claim_id else None)
        if claim is None:
            raise ValidationError(
                {"claim_id": f"There is no claim {claim_id or '(empty)'}: import claims first."}
            )
        instance.claim = claim
        instance.source = self.read(self._source(row))
        # The path as the row gives it; without the column, as stored.
        if "path" in row:
            try:
                ids = parse_path(_cell(row, "path"))
                if ids and instance.source.pk is None:
                    raise PathError(
                        "Step 1: the cited source is new, so it has no provenance links to "
                        "follow yet: add them to the source, then import the path."
                    )
                links = resolve_path(instance.source.pk, ids) if ids else []
            except PathError as error:
                raise ValidationError({"path": str(error)}) from None
        elif instance.pk is not None and self._original.source_id != instance.source_id:
            links = []  # its stored path started at the source it no longer cites
        else:
            links = None  # as stored
        instance._path_links = links  # type: ignore[attr-defined]

    def _source(self, row: dict[str, Any]) -> Source:
        pk = _id(row, "source_id")
        if pk is not None and (source := self.sources_by_id.get(pk)):
            return source
        publisher = self._publisher(row)
        inherited = publisher.reliability if publisher else Reliability.UNRATED
        reliability = _cell(row, "source_reliability")
        source = Source(
            pk=pk,
            title=_cell(row, "source_title"),
            kind=_cell(row, "source_kind") or "other",
            url=_cell(row, "source_url"),
            archive_url=_cell(row, "source_archive_url"),
            published_text=_cell(row, "source_published_text"),
            published_edtf=_cell(row, "source_published_edtf"),
            is_primary=_cell(row, "source_is_primary").lower() == "true",
            publisher=publisher,
            reliability="" if reliability in ("", inherited) else reliability,
        )
        source = self.saved(source, "source_title")
        if not self.dry_run:
            capture_if_missing(source)
        if pk is not None:
            self.sources_by_id[pk] = source
        return source

    def _publisher(self, row: dict[str, Any]) -> Person | None:
        name = _cell(row, "publisher").strip()
        if not name:
            return None
        if name not in self.publishers_named:  # a name repeated in many rows: looked up once
            self.publishers_named[name] = self._find_publisher(name, row)
        return self.read(self.publishers_named[name])

    def _find_publisher(self, name: str, row: dict[str, Any]) -> Person:
        reliability = _cell(row, "publisher_reliability") or Reliability.UNRATED
        found = Person.objects.filter(name=name).order_by("-kind", "id")
        publisher = found.filter(kind=PersonKind.ORGANIZATION).first() or found.first()
        if publisher is None:
            publisher = Person(name=name)
        elif publisher.kind == PersonKind.ORGANIZATION:
            return publisher
        # Whoever publishes is an organization (claims.csv could not say so).
        publisher.kind = PersonKind.ORGANIZATION
        publisher.reliability = reliability
        return self.saved(publisher, "publisher")


def _claim_key(row: dict[str, Any]) -> tuple[str, str, int | None]:
    """A claims.csv row's text, claimant's name and claimant's id, as far as they can be
    read (exact_duplicates); a cell that cannot is reported on its row later."""
    cells = []
    for column in ("text", "claimant"):
        try:
            cells.append(_cell(row, column).strip() if column in row else "")
        except ValidationError:
            cells.append("")
    try:
        pk = _id(row, "claimant_id") if "claimant_id" in row else None
    except ValidationError:
        pk = None
    return cells[0], cells[1], pk


def _ids_in(rows: list[dict[str, Any]], column: str) -> list[int]:
    """The ids a column of the rows gives, as far as they can be read (a cell that cannot
    is reported on its row)."""
    ids = []
    for row in rows:
        with contextlib.suppress(ValidationError):
            if column in row and (pk := _id(row, column)) is not None:
                ids.append(pk)
    return ids


def _people_ids_in(rows: list[dict[str, Any]]) -> list[int]:
    """The ids the rows' people_ids give, as far as they can be read."""
    ids = []
    for row in rows:
        with contextlib.suppress(ValidationError):
            ids += [pk for _, pk in _people(row) if pk is not None]
    return ids


class CitedRoles:
    """The citations of some claims, as stored and then as an import's rows change them,
    for a preview that writes none: {citation: (claim, source, role)}, a new one keyed by
    its row. What the database would refuse or the publishing rules forbid, found here."""

    def __init__(self, claim_ids: Iterable[int]) -> None:
        stored = Citation.objects.filter(claim_id__in=list(claim_ids)).with_origin()
        self.cited: dict[Any, tuple[int, int, str, int]] = {
            pk: (claim, source, role, origin)
            for pk, claim, source, role, origin in stored.values_list(  # type: ignore[misc]
                "pk", "claim_id", "source_id", "role", "origin"
            )
        }
        self.by_claim: dict[int, set[Any]] = defaultdict(set)
        for key, (claim, *_) in self.cited.items():
            self.by_claim[claim].add(key)

    def errors(self, citation: Citation, claims: dict[int, Claim]) -> dict[str, list[str]]:
        """The constraint's and the rules' errors of saving `citation` now."""
        me = citation.pk
        mine = (citation.claim_id, citation.source_id, citation.role)
        if any(
            self.cited[key][:3] == mine for key in self.by_claim[citation.claim_id] if key != me
        ):
            return {NON_FIELD_ERRORS: [str(UNIQUE_ROLE.get_violation_error_message())]}
        affected = {citation.claim_id} | ({self.cited[me][0]} if me in self.cited else set())
        errors: dict[str, str] = {}
        for claim_id in affected:
            evidence = [self.cited[key][2:] for key in self.by_claim[claim_id] if key != me]
            if claim_id == citation.claim_id:
                evidence.append((citation.role, self.origin(citation)))
            errors.update(publishing_errors(claims[claim_id], evidence))
        return {"role": list(errors.values())} if errors else {}

    def record(self, citation: Citation, new_key: Any) -> None:
        """`citation` as its row leaves it (a new one under `new_key`)."""
        key = citation.pk if citation.pk is not None else new_key
        if key in self.cited:
            self.by_claim[self.cited[key][0]].discard(key)
        origin = self.origin(citation)
        self.cited[key] = (citation.claim_id, citation.source_id, citation.role, origin)
        self.by_claim[citation.claim_id].add(key)

    def origin(self, citation: Citation) -> int:
        """Where the citation's path, as its row leaves it, ends."""
        links = getattr(citation, "_path_links", None)
        if links is None and citation.pk in self.cited:  # the path as stored
            stored = self.cited[citation.pk]
            if stored[1] == citation.source_id:
                return stored[3]
        return origin_of(citation)


def origin_of(citation: Citation) -> int:
    """Where a citation's path as an import row gives it ends (the path as stored, when the
    row leaves it out)."""
    links = getattr(citation, "_path_links", None)
    if links:
        return links[-1].based_on_id
    if links is None and citation.pk is not None:
        stored = Citation.objects.filter(pk=citation.pk, source_id=citation.source_id)
        origin = stored.with_origin().values_list("origin", flat=True).first()  # type: ignore[misc]
        if origin is not None:
            return origin
    return citation.source_id


def stored_paths(citation_ids: Iterable[int]) -> dict[int, str]:
    """{citation id: its stored path, as the CSV writes it}, in one query."""
    steps: dict[int, list[int]] = defaultdict(list)
    rows = CitationStep.objects.filter(citation_id__in=list(citation_ids)).order_by(
        "citation_id", "position"
    )
    for citation_id, based_on in rows.values_list("citation_id", "link__based_on_id"):
        steps[citation_id].append(based_on)
    return {pk: format_path(ids) for pk, ids in steps.items()}


# The database's one-role-a-source rule, whose words a preview gives as the confirm does.
UNIQUE_ROLE = next(c for c in Citation._meta.constraints if c.name == "citation_unique_role")


def _people(row: dict[str, Any]) -> list[tuple[str, int | None]]:
    """A claims.csv row's people: (name, id) pairs, from `people` (names as the exports
    quote them: sources.export_engine.split_names) and `people_ids` where the file has it; an
    id names the person, its name is the one a missing person is added with."""
    names = [name.strip() for name in split_names(_cell(row, "people")) if name.strip()]
    if problem := PEOPLE_CAP.problem(len(names)):  # before any is looked up
        raise ValidationError({"people": problem})
    ids_cell = _cell(row, "people_ids").strip() if "people_ids" in row else ""
    if not ids_cell:
        return [(name, None) for name in names]
    ids = [_checked_id(part, "people_ids") for part in ids_cell.split(";")]
    if len(ids) != len(names) or None in ids:
        raise ValidationError(
            {
                "people_ids": f"This row names {len(names)} people in people but gives "
                f"{len(ids)} ids in people_ids: give one id for each name, in the same "
                "order, or leave people_ids empty."
            }
        )
    return list(zip(names, ids, strict=True))


def _topics(row: dict[str, Any]) -> list[str]:
    slugs = _split(row, "topics")
    if problem := TOPICS_CAP.problem(len(slugs)):  # before any is looked up
        raise ValidationError({"topics": problem})
    return slugs


def _split(row: dict[str, Any], column: str) -> list[str]:
    return [part.strip() for part in _cell(row, column).split("; ") if part.strip()]


def import_problems(result: Any) -> list[str]:
    """Each row's errors in words ("row 3: rating: …"), as the admin says them."""
    return [
        f"row {row.number}: "
        + "; ".join(
            ("" if field == "version" else f"{field}: ") + " ".join(map(str, errors))
            for field, errors in row.error_dict.items()
        )
        for row in result.invalid_rows
    ] + [f"row {number}: {errors[0].error}" for number, errors in result.row_errors()]


def record_import(result: Any, *, kind: str, user: User, outcome: str, file_name: str) -> ImportRun:
    """Keep what an import previewed or did (ImportRun), with its first rows' errors."""
    problems = import_problems(result)
    totals = result.totals
    return ImportRun.objects.create(
        user=user,
        kind=str(kind),
        file_name=file_name[:255],
        outcome=outcome,
        rows=result.total_rows,
        new=totals.get("new", 0),
        changed=totals.get("update", 0),
        errors=len(problems),
        problems="\n".join(problems[:50]),
    )
