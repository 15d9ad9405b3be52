"""People, organizations and the sources they publish: the evidence side of Claimtrail.

This app knows nothing of claims; `claims` builds on it.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models, router
from django.db.models import Q
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from simple_history.models import HistoricalRecords

from sources.archives import ArchivedCopy, archived_copy
from sources.dates import FuzzyDateError, edtf_bounds, readable_date, to_edtf

# The longest free text each kind of field takes, in characters, at every door (admin,
# API, import): TextField's max_length alone would only reach forms. Far above what
# editors write, and low enough that a claim's search document stays within PostgreSQL's
# limits (README, "Limits").
TEXT_LIMITS = {"text": 10_000, "summary": 2_000, "quote": 10_000, "note": 5_000}


# A record's id as every door takes it (the API, the reading pages, the admin, the
# import): ASCII digits (Arabic-Indic digits or "²" are not ids, though Python's int()
# reads them), at most 18 of them, so always within a bigint.
RECORD_ID = re.compile(r"[0-9]{1,18}")
MAX_RECORD_ID = 10**18 - 1
# The largest id an import may give a new record. The id sequence moves past it, so it
# leaves room for a billion records made after it, each with an id every door takes.
MAX_IMPORTED_ID = MAX_RECORD_ID - 10**9


def is_record_id(value: object) -> bool:
    """Whether `value`, as a form, a file or an address gives it, is a record's id."""
    return RECORD_ID.fullmatch(str(value)) is not None


# The longest search any door takes (the reading pages, the API's q and search, the admin):
# past it a search is refused in words. SQLite refuses LIKE patterns past 50,000 bytes.
SEARCH_MAX_CHARS = 500


def search_too_long(text: str) -> str:
    """The error for a search past SEARCH_MAX_CHARS ("" for one within it)."""
    if len(text) <= SEARCH_MAX_CHARS:
        return ""
    return (
        f"Search for at most {SEARCH_MAX_CHARS:,} characters (this search has {len(text):,}): "
        "a few distinctive words find a claim best."
    )


@dataclass(frozen=True)
class FuzzyDate:
    """A fuzzy date as written, its EDTF value, and the calendar days it can mean."""

    text: str
    edtf: str
    earliest: date | None
    latest: date | None

    @property
    def readable(self) -> str:
        """As a reader would write it ("31 July (year uncertain, probably 2019)")."""
        return readable_date(self.text, self.edtf)

    @property
    def machine(self) -> str:
        """An HTML datetime value when the date is one certain year, month or day, else ""."""
        return (
            self.edtf if re.fullmatch(r"\d{4}(?:-(?:0[1-9]|1[0-2])(?:-\d{2})?)?", self.edtf) else ""
        )


class FuzzyDateModel(models.Model):
    """Fills the EDTF value and bounds of every fuzzy date named in FUZZY_DATES on clean()."""

    # Field prefixes: for "published", the fields published_text, published_edtf,
    # published_earliest and published_latest.
    FUZZY_DATES: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list[str]] = {}
        for prefix in self.FUZZY_DATES:
            try:
                self.fill_fuzzy_date(prefix)
            except ValidationError as error:
                errors.update(error.message_dict)
        if errors:
            raise ValidationError(errors)

    def fill_fuzzy_date(self, prefix: str) -> None:
        """Derive `<prefix>_edtf` from the wording unless an editor set it, then the bounds."""
        text = getattr(self, f"{prefix}_text").strip()
        value = getattr(self, f"{prefix}_edtf").strip()
        if not text and not value:
            setattr(self, f"{prefix}_earliest", None)
            setattr(self, f"{prefix}_latest", None)
            return
        field = f"{prefix}_edtf" if value else f"{prefix}_text"
        try:
            value = value or to_edtf(text)
            earliest, latest = edtf_bounds(value)
        except FuzzyDateError as error:
            raise ValidationError({field: str(error)}) from None
        setattr(self, f"{prefix}_text", text or value)
        setattr(self, f"{prefix}_edtf", value)
        setattr(self, f"{prefix}_earliest", earliest)
        setattr(self, f"{prefix}_latest", latest)

    def fuzzy_date(self, prefix: str) -> FuzzyDate:
        """The four `<prefix>_*` fields as one value."""
        return FuzzyDate(*(getattr(self, f"{prefix}_{part}") for part in FuzzyDate.__annotations__))


def fuzzy_date_constraints(prefix: str, model: str) -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(**{f"{prefix}_earliest__isnull": True})
            | Q(**{f"{prefix}_latest__isnull": True})
            | Q(**{f"{prefix}_earliest__lte": models.F(f"{prefix}_latest")}),
            name=f"{model}_{prefix}_bounds_ordered",
            violation_error_message="The date ends before it starts.",
        ),
        models.CheckConstraint(
            condition=Q(**{f"{prefix}_text": ""}) | ~Q(**{f"{prefix}_edtf": ""}),
            name=f"{model}_{prefix}_has_edtf",
            violation_error_message="Enter the date's EDTF value, or leave its wording blank.",
        ),
    ]


class Reliability(models.TextChoices):
    """A scale like Wikipedia's list of perennial sources."""

    GENERALLY_RELIABLE = "generally_reliable", "Generally reliable"
    NO_CONSENSUS = "no_consensus", "No consensus"
    GENERALLY_UNRELIABLE = "generally_unreliable", "Generally unreliable"
    DEPRECATED = "deprecated", "Deprecated"
    UNRATED = "unrated", "Unrated"


# For readers: what each reliability rating means (the ratings page, /ratings/).
RELIABILITY_MEANINGS: dict[str, str] = {
    Reliability.GENERALLY_RELIABLE: "A record of accuracy and of correcting its errors. Still "
    "read the piece itself: a reliable outlet can be wrong, and can be quoting others.",
    Reliability.NO_CONSENSUS: "Reliable on some topics or at some times and not others: "
    "weigh each piece, and look for corroboration.",
    Reliability.GENERALLY_UNRELIABLE: "Not to be relied on for facts without corroboration "
    "from a reliable source.",
    Reliability.DEPRECATED: "Known for publishing fabrications: do not rely on it.",
    Reliability.UNRATED: "Not rated here, and so neither reliable nor unreliable: unknown. "
    "The note beside the rating says why, and what is known of the source.",
}


class PersonKind(models.TextChoices):
    PERSON = "person", "Person"
    ORGANIZATION = "organization", "Organization"
    GROUP = "group", "Group of people"


class Person(models.Model):
    """Anyone who makes claims, is talked about, writes or publishes: people, organizations,
    and groups such as an ethnic or religious community."""

    kind = models.CharField(
        max_length=20,
        choices=PersonKind,
        default=PersonKind.PERSON,
        help_text="A person, an organization, or a group of people such as a community.",
    )
    name = models.CharField(max_length=200, help_text="The name most readers would recognise.")
    description = models.CharField(
        max_length=300,
        blank=True,
        help_text='Their role, as of the claims recorded: "U.S. Senator (R-Texas)".',
    )
    aliases = models.TextField(
        blank=True,
        max_length=TEXT_LIMITS["note"],
        validators=[MaxLengthValidator(TEXT_LIMITS["note"])],
        help_text="Other names and spellings, one per line, so search finds them.",
    )
    wikidata_id = models.CharField(
        "Wikidata ID",
        max_length=20,
        blank=True,
        validators=[RegexValidator(r"^Q[1-9][0-9]*\Z", "A Wikidata ID looks like Q42.")],
        help_text="Q followed by digits, from the person's Wikidata page. Leave blank if unsure.",
    )
    reliability = models.CharField(
        max_length=30,
        choices=Reliability,
        default=Reliability.UNRATED,
        help_text="For organizations that publish: how far their reporting can be trusted.",
    )
    reliability_note = models.TextField(
        blank=True,
        max_length=TEXT_LIMITS["note"],
        validators=[MaxLengthValidator(TEXT_LIMITS["note"])],
        help_text="Why this rating: the evidence or consensus behind it.",
    )
    reliability_reviewed_on = models.DateField(
        null=True,
        blank=True,
        help_text="When the rating was last reviewed: today, when the rating is changed and "
        "this is left as it was.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "person or organization"
        verbose_name_plural = "people and organizations"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=PersonKind.values),
                name="person_kind_valid",
                violation_error_message="Choose person, organization or group.",
            ),
            models.CheckConstraint(
                condition=Q(reliability__in=Reliability.values),
                name="person_reliability_valid",
                violation_error_message="Choose one of the reliability ratings.",
            ),
            models.CheckConstraint(
                condition=Q(kind=PersonKind.ORGANIZATION) | Q(reliability=Reliability.UNRATED),
                name="person_only_organizations_rated",
                violation_error_message="Only organizations carry a reliability rating.",
            ),
            models.CheckConstraint(
                condition=Q(wikidata_id="") | Q(wikidata_id__regex=r"^Q[1-9][0-9]*$"),
                name="person_wikidata_id_format",
                violation_error_message="A Wikidata ID looks like Q42.",
            ),
            models.UniqueConstraint(
                fields=["wikidata_id"],
                condition=~Q(wikidata_id=""),
                name="person_wikidata_id_unique",
                violation_error_message="Another person or organization has this Wikidata ID.",
            ),
        ]
        indexes = [
            # Admin and API search and ordering by name.
            models.Index(fields=["name"], name="person_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if not self.name.strip():
            raise ValidationError({"name": "Enter a name: it is only spaces."})
        if self.kind != PersonKind.ORGANIZATION and self.reliability != Reliability.UNRATED:
            raise ValidationError({"reliability": "Only organizations carry a reliability rating."})

    @property
    def alias_list(self) -> list[str]:
        # Split and trimmed exactly as the people CSV export does it in SQL.
        return [line.strip(" \t\r") for line in self.aliases.split("\n") if line.strip(" \t\r")]


def reviewed_on(data: dict[str, Any], changed: set[str], today: date) -> dict[str, Any]:
    """A person's new values with the review date set to `today` when their reliability is
    changed and the date is not (the admin form and the API, alike)."""
    if "reliability" in changed and "reliability_reviewed_on" not in changed:
        return {**data, "reliability_reviewed_on": today}
    return data


class SourceKind(models.TextChoices):
    NEWS_ARTICLE = "news_article", "News article"
    REPORT = "report", "Report"
    LEAKED_DOCUMENT = "leaked_document", "Leaked document"
    OFFICIAL_DOCUMENT = "official_document", "Official document"
    SPEECH = "speech", "Speech"
    INTERVIEW = "interview", "Interview"
    STATEMENT = "statement", "Statement"
    SOCIAL_POST = "social_post", "Social media post"
    DATASET = "dataset", "Dataset"
    BOOK = "book", "Book"
    OTHER = "other", "Other"


class Source(FuzzyDateModel):
    FUZZY_DATES = ("published",)

    kind = models.CharField(
        max_length=30,
        choices=SourceKind,
        default=SourceKind.NEWS_ARTICLE,
        help_text="What sort of source it is.",
    )
    title = models.CharField(
        max_length=500, help_text="The title, or a short description if it has none."
    )
    publisher = models.ForeignKey(
        Person,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="published_sources",
        limit_choices_to={"kind": PersonKind.ORGANIZATION},
        help_text="The organization that published it; its reliability rating applies.",
    )
    authors = models.ManyToManyField(Person, blank=True, related_name="authored_sources")
    url = models.URLField("URL", max_length=2000, blank=True)
    archive_url = models.URLField(
        "archive URL",
        max_length=2000,
        blank=True,
        help_text="A copy in a web archive, in case the original changes or disappears.",
    )
    published_text = models.CharField(
        "published",
        max_length=100,
        blank=True,
        help_text='When it was published, as written: "2014", "end of 2018", "July 31, 2019".',
    )
    published_edtf = models.CharField(
        "published (EDTF)",
        max_length=100,
        blank=True,
        help_text="Filled from the wording; correct it by hand if the wording is ambiguous.",
    )
    published_earliest = models.DateField(null=True, blank=True, editable=False)
    published_latest = models.DateField(null=True, blank=True, editable=False)
    language = models.CharField(
        max_length=35, default="en", help_text='Language code (BCP 47): "en", "zh-Hans".'
    )
    is_primary = models.BooleanField(
        "primary source",
        default=False,
        help_text="Primary: the original document, recording or data. Secondary: a report on it.",
    )
    reliability = models.CharField(
        "reliability override",
        max_length=30,
        choices=Reliability,
        blank=True,
        help_text="Leave blank to use the publisher's rating.",
    )
    reliability_note = models.TextField(
        blank=True,
        max_length=TEXT_LIMITS["note"],
        validators=[MaxLengthValidator(TEXT_LIMITS["note"])],
        help_text="Why this source is rated differently from its publisher.",
    )
    based_on = models.ManyToManyField(
        "self",
        through="Provenance",
        symmetrical=False,
        blank=True,
        related_name="derived_sources",
        help_text="The sources this one reports on: a news report based on leaked documents.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(m2m_fields=[authors])

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=SourceKind.values),
                name="source_kind_valid",
                violation_error_message="Choose one of the kinds of source.",
            ),
            models.CheckConstraint(
                condition=Q(reliability="") | Q(reliability__in=Reliability.values),
                name="source_reliability_valid",
                violation_error_message="Choose one of the reliability ratings, or leave it blank.",
            ),
            *fuzzy_date_constraints("published", "source"),
        ]
        indexes = [
            # Sorting and range-filtering sources by date.
            models.Index(
                fields=["published_earliest", "published_latest"], name="source_published_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        if not self.title.strip():
            raise ValidationError({"title": "Enter a title: it is only spaces."})
        if self.publisher is not None and self.publisher.kind != PersonKind.ORGANIZATION:
            raise ValidationError({"publisher": "A publisher must be an organization."})
        if self.archive_url and archived_copy(self.archive_url) is None:
            raise ValidationError(
                {
                    "archive_url": "This is not a web archive's address. Use a copy in the "
                    "Wayback Machine (web.archive.org), archive.today or Perma.cc, or ask an "
                    "administrator to add the archive's host to ARCHIVE_HOSTS."
                }
            )

    @property
    def archived_copy(self) -> ArchivedCopy | None:
        """The archive its archive URL is in, and when that copy was captured."""
        return archived_copy(self.archive_url) if self.archive_url else None

    @property
    def published_date(self) -> FuzzyDate:
        return self.fuzzy_date("published")

    @property
    def effective_reliability(self) -> str:
        """The source's own rating if set, else its publisher's, else unrated."""
        if self.reliability:
            return self.reliability
        if self.publisher is not None:
            return self.publisher.reliability
        return Reliability.UNRATED

    def get_effective_reliability_display(self) -> str:
        return Reliability(self.effective_reliability).label


# Source.effective_reliability in SQL, for reads built by the database (JSON, CSV):
# {source} and {publisher} are table aliases.
EFFECTIVE_RELIABILITY_SQL = (
    "COALESCE(NULLIF({source}.reliability, ''), {publisher}.reliability, 'unrated')"
)


class Provenance(models.Model):
    """One step in a chain of evidence: `source` is based on `based_on`."""

    source = models.ForeignKey(Source, models.CASCADE, related_name="provenance_links")
    based_on = models.ForeignKey(
        Source,
        models.PROTECT,
        related_name="derived_links",
        help_text="The source this one draws on.",
    )
    note = models.CharField(
        max_length=500, blank=True, help_text='How it draws on it: "quotes", "obtained copies".'
    )
    # The version its edit form carries (sources.forms.VersionedFormMixin).
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "provenance link"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "based_on"],
                name="provenance_unique",
                violation_error_message="This source is already listed as based on that one.",
            ),
            models.CheckConstraint(
                condition=~Q(source=models.F("based_on")),
                name="provenance_not_self",
                violation_error_message="A source cannot be based on itself.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} <- {self.based_on}"

    def clean(self) -> None:
        super().clean()
        if self.source_id and self.source_id == self.based_on_id:
            raise ValidationError({"based_on": "A source cannot be based on itself."})
        if self.source_id and self.based_on_id and self._creates_cycle():
            raise ValidationError(
                {"based_on": f'"{self.based_on}" is itself based on "{self.source}".'}
            )

    def _creates_cycle(self) -> bool:
        # Walk up from based_on; a chain is a few steps long, one query per step.
        seen: set[Any] = set()
        frontier = {self.based_on_id}
        while frontier:
            if self.source_id in frontier:
                return True
            seen |= frontier
            frontier = (
                set(
                    Provenance.objects.filter(source_id__in=frontier).values_list(
                        "based_on_id", flat=True
                    )
                )
                - seen
            )
        return False


def protected_by(rows: "Sequence[models.Model]", limit: int = 10) -> list[str]:
    """What keeps these rows from being deleted (a PROTECT foreign key to them: a citation's
    path taking a provenance link, say), in words, at most `limit` of them; [] when nothing
    does. This app knows nothing of what protects its rows: Django's collector finds it."""
    if not rows:
        return []
    collector = Collector(using=router.db_for_write(type(rows[0])))
    try:
        collector.collect(rows)
    except ProtectedError as error:
        names = sorted(str(row) for row in error.protected_objects)
    except RestrictedError as error:
        names = sorted(str(row) for row in error.restricted_objects)
    else:
        return []
    return names[:limit] + ([f"{len(names) - limit} more"] if len(names) > limit else [])


def based_on_counts(source_ids: Iterable[int]) -> dict[int, int]:
    """{source id: how many sources it is directly based on}, in one query (none: absent)."""
    links = Provenance.objects.filter(source_id__in=set(source_ids)).order_by()
    counts = links.values("source_id").annotate(n=models.Count("pk"))
    return dict(counts.values_list("source_id", "n"))


class SnapshotType(models.TextChoices):
    HTML = "text/html", "HTML page"
    PDF = "application/pdf", "PDF"
    TEXT = "text/plain", "Plain text"


class Snapshot(models.Model):
    """A copy of what an editor read of a source, with its text: stored once and never
    changed (the database refuses an update; a new snapshot is added instead). Added by
    sources.services.add_snapshot, which reads the file (sources.snapshots)."""

    source = models.ForeignKey(
        Source, models.PROTECT, related_name="snapshots", help_text="The source it is a copy of."
    )
    file = models.FileField(upload_to="snapshots/%Y/%m/", max_length=300)
    media_type = models.CharField(
        max_length=50, choices=SnapshotType.choices, editable=False, help_text="Its file's type."
    )
    sha256 = models.CharField(
        "SHA-256", max_length=64, editable=False, help_text="Its file's SHA-256, in hex."
    )
    size = models.PositiveBigIntegerField(editable=False, help_text="In bytes.")
    captured_at = models.DateTimeField(
        help_text="When the page or document was read, as it is in this file."
    )
    text = models.TextField(editable=False, help_text="Its text, read once when added.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    fetched_from = models.URLField(
        max_length=2000,
        blank=True,
        editable=False,
        help_text="Where Claimtrail fetched it (after redirects), when it was captured "
        "automatically; blank when an editor added the file.",
    )
    metadata = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="What the page says of itself (title, authors, published, site_name), read "
        "when it was added: suggestions for the source's fields, never written into them.",
    )
    # Not stored: what adding it changed, in words for the editor (add_snapshot's
    # receivers: "3 quotes checked: 2 found as quoted, 1 not found.").
    notes: tuple[str, ...] = ()

    class Meta:
        ordering = ["-captured_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "sha256"],
                name="snapshot_unique_content",
                violation_error_message="This source already has a snapshot with this content.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_media_type_display()} of {self.source}, {self.captured_at:%Y-%m-%d}"


class ArchiveRequest(models.Model):
    """A request to a web archive to save a source's page (sources.archive_requests),
    made with each capture when ARCHIVE_SAVE_URL is set: its job, its outcome, and the
    copy's URL and capture time once the archive has it."""

    class Status(models.TextChoices):
        ASKING = "asking", "Asking the archive"
        PENDING = "pending", "The archive is saving it"
        DONE = "done", "Saved"
        FAILED = "failed", "The archive could not save it"

    source = models.ForeignKey(Source, models.CASCADE, related_name="archive_requests")
    url = models.URLField(max_length=2000, help_text="The page the archive was asked to save.")
    status = models.CharField(max_length=20, choices=Status, default=Status.ASKING)
    job_id = models.CharField(max_length=200, blank=True, help_text="The archive's job.")
    archive_url = models.URLField(max_length=2000, blank=True, help_text="The archive's copy.")
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="When the archive captured it."
    )
    error = models.CharField(max_length=300, blank=True, help_text="Why it failed, in words.")
    requested_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.url}"


class LinkKind(models.TextChoices):
    URL = "url", "URL"
    ARCHIVE = "archive_url", "Archive URL"


class LinkCheck(models.Model):
    """The last time a source's URL or archive URL was fetched (manage.py check_links):
    derived, for the admin's list of dead links; it names the URL it fetched, so a check
    of a URL since changed is known as such."""

    source = models.ForeignKey(Source, models.CASCADE, related_name="link_checks")
    link = models.CharField(max_length=20, choices=LinkKind)
    url = models.TextField(help_text="The URL fetched.")
    status = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The HTTP status after redirects; empty without one."
    )
    final_url = models.TextField(blank=True, help_text="Where the redirects ended.")
    error = models.CharField(max_length=300, blank=True, help_text="Why no answer came.")
    dead = models.BooleanField(help_text="No answer, or an error status (4xx, 5xx).")
    checked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "link"],
                name="link_check_one_per_link",
                violation_error_message="This link of this source is already checked.",
            ),
            models.CheckConstraint(
                condition=Q(link__in=LinkKind.values),
                name="link_check_link_valid",
                violation_error_message="Not a kind of link.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_link_display()} {self.url}: {self.error or self.status}"


def url_checks(source: Any, url: Any) -> "models.QuerySet[LinkCheck]":
    """The checks of a source's URL as it is now (`source`, `url`: the outer query's, as
    OuterRef): a check of a URL since changed does not count."""
    return LinkCheck.objects.filter(source=source, link=LinkKind.URL, url=url)
