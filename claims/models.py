"""Claims, what they are about, and the citations that tie them to evidence."""

import difflib
from collections.abc import Iterable, Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models, transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

from sources.limits import ListCap
from sources.locks import lock_rows
from sources.models import (
    TEXT_LIMITS,
    FuzzyDate,
    FuzzyDateModel,
    Person,
    Provenance,
    Snapshot,
    Source,
    fuzzy_date_constraints,
)
from sources.quotes import QuoteOutcome, find_quote

# Full-text search, PostgreSQL only (claims.search.search_claims): each claim keeps a
# document of its text (weight A), summary (B) and citation quotes (D), written by triggers
# (claims_claim.search_document, migration 0001_squashed_0023), indexed by RUM where
# available, else GIN.
SEARCH_INDEX_NAME = "claim_search_document_idx"


# How many people and topics one claim may name, at every door (api.serializers, the
# admin's ClaimForm): far above what a claim is about, and a list past it is refused
# before any id in it is looked up.
MAX_PEOPLE_PER_CLAIM = 100
PEOPLE_CAP = ListCap(MAX_PEOPLE_PER_CLAIM, "A claim", "people")
MAX_TOPICS_PER_CLAIM = 50
TOPICS_CAP = ListCap(MAX_TOPICS_PER_CLAIM, "A claim", "topics")


# The columns the lists' orderings and cursor pages read (see api.ordering.ClaimOrdering).
SORT_KEYS = ("id", "updated_at", "created_at", "rating", "made_earliest", "event_earliest")


CLAIMANT_TWICE = (
    "A claim is made by a person or organization, or by a source, not both: clear one of them."
)


class Rating(models.TextChoices):
    UNREVIEWED = "unreviewed", "Unreviewed"
    SUPPORTED = "supported", "Supported by evidence"
    MIXED = "mixed", "Mixed evidence"
    UNSUPPORTED = "unsupported", "Unsupported: no evidence given"
    DISPUTED = "disputed", "Disputed"
    FALSE = "false", "False"


# For readers: the one-line conclusion a claim page shows under each rating, and what the
# rating means (the ratings page, /ratings/).
RATING_MEANINGS: dict[str, tuple[str, str]] = {
    Rating.UNREVIEWED: (
        "Not reviewed yet: the evidence below has not been weighed.",
        "An editor has recorded the claim, who made it and where it appears, but has not "
        "yet weighed the evidence. Unreviewed is not a verdict either way.",
    ),
    Rating.SUPPORTED: (
        "The evidence cited supports it.",
        "At least one citation supports the claim, and the weight of the evidence cited "
        "is with it.",
    ),
    Rating.MIXED: (
        "The evidence cited points both ways.",
        "Citations support some of the claim and dispute the rest, or evidence for and "
        "against it carries similar weight.",
    ),
    Rating.UNSUPPORTED: (
        "No evidence is given for it.",
        "Neither the claimant nor anything cited here gives evidence for the claim. This "
        "does not say the claim is false; the rationale says what is missing.",
    ),
    Rating.DISPUTED: (
        "The evidence cited disputes it.",
        "At least one citation disputes the claim, and the weight of the evidence cited is "
        "against it.",
    ),
    Rating.FALSE: (
        "The evidence cited shows it is false.",
        "Evidence cited here contradicts the claim directly.",
    ),
}


class State(models.TextChoices):
    """Where a claim is in the desk's work; only published claims are seen by readers.
    Which state may follow which, and on what condition, is claims.workflow's table."""

    DRAFT = "draft", "Draft"
    RESEARCHING = "researching", "Researching"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"


class Role(models.TextChoices):
    APPEARANCE = "appearance", "Where the claim appears"
    SUPPORTS = "supports", "Supports"
    DISPUTES = "disputes", "Disputes"
    CONTEXT = "context", "Context"


# The roles whose citations and independent origins are counted for each claim (the API's
# `evidence`, claims.csv, the reading pages).
COUNTED_ROLES = (Role.SUPPORTS, Role.DISPUTES, Role.CONTEXT)


class Topic(models.Model):
    name = models.CharField(max_length=100, unique=True, help_text="As readers see it.")
    slug = models.SlugField(max_length=100, unique=True, help_text="Used in links and filters.")
    # The version its edit form carries (sources.forms.VersionedFormMixin).
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    def __str__(self) -> str:
        return self.name


def may_see_drafts(user: "User | AnonymousUser") -> bool:
    """Whether `user` may read draft claims (and relations to them): those who may edit
    claims. The one rule behind ClaimQuerySet.visible_to and the API's documents."""
    return user.has_perm("claims.change_claim")


class ClaimQuerySet(models.QuerySet["Claim"]):
    def published(self) -> "ClaimQuerySet":
        return self.filter(state=State.PUBLISHED)

    def visible_to(self, user: "User | AnonymousUser") -> "ClaimQuerySet":
        """Drafts only for those who may edit claims; everyone else sees published claims."""
        return self if may_see_drafts(user) else self.published()

    # The filters of the API, the CSV exports and the reading pages (api.filters,
    # claims.forms): one rule each, whichever door asks.

    def about(self, person_id: int) -> "ClaimQuerySet":
        """Claims about this person or organization."""
        people = Claim.people.through.objects.filter(claim_id=OuterRef("pk"), person_id=person_id)
        return self.filter(Exists(people))

    def in_topic(self, slug: str) -> "ClaimQuerySet":
        topics = Claim.topics.through.objects.filter(claim_id=OuterRef("pk"), topic__slug=slug)
        return self.filter(Exists(topics))

    def citing(
        self,
        *,
        source: int | None = None,
        publisher: int | None = None,
        role: str | None = None,
        publisher_reliability: str | None = None,
    ) -> "ClaimQuerySet":
        """Claims with a citation meeting every condition given, all by the same citation:
        role="disputes", publisher=3 is "disputed by something publisher 3 published"."""
        conditions = Q(claim_id=OuterRef("pk"))
        if source:
            conditions &= Q(source_id=source)
        if publisher:
            conditions &= Q(source__publisher_id=publisher)
        if role:
            conditions &= Q(role=role)
        if publisher_reliability:
            conditions &= Q(source__publisher__reliability=publisher_reliability)
        return self.filter(Exists(Citation.objects.filter(conditions)))

    def dated(
        self, prefix: str, *, after: date | None = None, before: date | None = None
    ) -> "ClaimQuerySet":
        """Claims whose fuzzy date `prefix` ("made", "event") overlaps the range: "end of
        2018" (2018-10-01..2018-12-31) is made after 2018-01-01 and before 2018-12-31."""
        claims = self
        if after is not None:
            claims = claims.filter(**{f"{prefix}_latest__gte": after})
        if before is not None:
            claims = claims.filter(**{f"{prefix}_earliest__lte": before})
        return claims

    def for_api(self) -> "ClaimQuerySet":
        """Claims with their claimants, in one query."""
        return self.select_related("claimant", "claimant_source")

    def for_serializer(self) -> "ClaimQuerySet":
        """Everything ClaimSerializer touches, in five queries, in the API's order."""
        return self.select_related("claimant", "claimant_source", "reviewed_by").prefetch_related(
            Prefetch("people", queryset=Person.objects.order_by("name", "id")),
            Prefetch("topics", queryset=Topic.objects.order_by("name")),
            Prefetch(
                "citations",
                queryset=Citation.objects.select_related(
                    "source__publisher", "quote_check__snapshot"
                )
                .defer("quote_check__snapshot__text")
                .order_by("id"),
            ),
            Prefetch(
                "citations__steps",
                queryset=CitationStep.objects.select_related("link__based_on__publisher"),
            ),
            Prefetch(
                "citations__quote_changes",
                queryset=QuoteChange.objects.filter(resolved_at__isnull=True),
                to_attr="open_changes",
            ),
        )

    def for_documents(self) -> "ClaimQuerySet":
        """The rows a page of API documents starts from, in one query: only the sort keys,
        since the documents are built from the ids (api.documents.claim_documents)."""
        return self.only(*SORT_KEYS)

    def for_page(self) -> "ClaimQuerySet":
        """What a row of the reading pages' list shows: the claimant, the citation count,
        the evidence (with_evidence)."""
        citations = Citation.objects.filter(claim=OuterRef("pk")).order_by().values("claim")
        return (
            self.select_related("claimant", "claimant_source")
            .annotate(
                citation_count=Coalesce(Subquery(citations.annotate(n=Count("pk")).values("n")), 0)
            )
            .with_evidence()
        )

    def with_evidence(self) -> "ClaimQuerySet":
        """Annotate `<role>_total` and `<role>_origins` for each of COUNTED_ROLES: how many
        citations in that role, and from how many independent origins (the distinct
        sources their paths end at). Correlated subqueries: they run for the rows fetched."""
        annotations = {}
        for role in COUNTED_ROLES:
            citations = (
                Citation.objects.filter(claim=OuterRef("pk"), role=role)
                .with_origin()
                .order_by()
                .values("claim")
            )
            annotations[f"{role}_total"] = Coalesce(
                Subquery(citations.annotate(n=Count("pk")).values("n")), 0
            )
            annotations[f"{role}_origins"] = Coalesce(
                Subquery(citations.annotate(n=Count("origin", distinct=True)).values("n")), 0
            )
        return self.annotate(**annotations)

    def with_citation_counts(self) -> "ClaimQuerySet":
        """Annotate supports_count, disputes_count and context_count in the same query.

        Correlated subqueries rather than a join with GROUP BY: they run only for the rows
        fetched (a page), and COUNT(*) for the paginator stays a plain count of claims.
        """
        return self.annotate(
            supports_count=_citation_count(Role.SUPPORTS),
            disputes_count=_citation_count(Role.DISPUTES),
            context_count=_citation_count(Role.CONTEXT),
        )


def _citation_count(role: str) -> Coalesce:
    citations = (
        Citation.objects.filter(claim=OuterRef("pk"), role=role)
        .order_by()
        .values("claim")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(citations), 0)


def editor_field(**kwargs: Any) -> Any:
    """Which account did something to a record; kept (as null) if the account goes."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        **kwargs,
    )


class Claim(FuzzyDateModel):
    FUZZY_DATES = ("made", "event")

    text = models.TextField(
        "claim as stated",
        max_length=TEXT_LIMITS["text"],
        validators=[MaxLengthValidator(TEXT_LIMITS["text"])],
        help_text="The claim in the claimant's own words, verbatim.",
    )
    summary = models.TextField(
        blank=True,
        max_length=TEXT_LIMITS["summary"],
        validators=[MaxLengthValidator(TEXT_LIMITS["summary"])],
        help_text="Optional: the claim restated in neutral words.",
    )
    claimant = models.ForeignKey(
        Person,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="claims_made",
        help_text="Who made the claim. Leave this and the source blank when it is unattributed.",
    )
    claimant_source = models.ForeignKey(
        Source,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="claims_attributed",
        verbose_name="claimant (a source)",
        help_text="Or the source that makes the claim, when a document says it (“the documents "
        "show”): a leaked document, a report, a transcript. Not both.",
    )
    people = models.ManyToManyField(
        Person,
        blank=True,
        related_name="claims_about",
        verbose_name="about",
        help_text="The people and organizations the claim is about.",
    )
    topics = models.ManyToManyField(Topic, blank=True, related_name="claims")
    made_text = models.CharField(
        "made",
        max_length=100,
        blank=True,
        help_text='When the claim was made, as written: "Sept. 26, 2019", "end of 2018".',
    )
    made_edtf = models.CharField(
        "made (EDTF)",
        max_length=100,
        blank=True,
        help_text="Filled from the wording; correct it by hand if the wording is ambiguous.",
    )
    made_earliest = models.DateField(null=True, blank=True, editable=False)
    made_latest = models.DateField(null=True, blank=True, editable=False)
    event_text = models.CharField(
        "event happened",
        max_length=100,
        blank=True,
        help_text='When the claimed event happened, as written: "2014", "May and September 2019".',
    )
    event_edtf = models.CharField(
        "event (EDTF)",
        max_length=100,
        blank=True,
        help_text="Filled from the wording; correct it by hand if the wording is ambiguous.",
    )
    event_earliest = models.DateField(null=True, blank=True, editable=False)
    event_latest = models.DateField(null=True, blank=True, editable=False)
    rating = models.CharField(
        max_length=20,
        choices=Rating,
        default=Rating.UNREVIEWED,
        help_text="What the cited evidence shows, once reviewed.",
    )
    rating_rationale = models.TextField(
        blank=True,
        max_length=TEXT_LIMITS["note"],
        validators=[MaxLengthValidator(TEXT_LIMITS["note"])],
        help_text="Why this rating, in neutral words. Required once rated.",
    )
    reviewed_on = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the claim was last rated (set when its rating changes).",
    )
    reviewed_by = editor_field(help_text="Who last rated the claim.")
    state = models.CharField(
        max_length=20,
        choices=State,
        default=State.DRAFT,
        help_text="Only published claims are seen by readers; the other states by editors.",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="claims_assigned",
        limit_choices_to={"is_staff": True},
        help_text="The editor researching the claim.",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="claims_to_review",
        limit_choices_to={"is_staff": True},
        help_text="The editor asked to review it and sign it off.",
    )
    # The second editor's sign-off of the verdict (rating, rationale, citations) as it was
    # then: claims.workflow reads it against the history, so a later change withdraws it.
    signed_off_by = editor_field(help_text="Who signed the verdict off.")
    signed_off_at = models.DateTimeField(null=True, blank=True, editable=False)
    language = models.CharField(
        max_length=35, default="en", help_text='Language of the claim (BCP 47): "en", "zh-Hans".'
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = editor_field()
    updated_by = editor_field()

    history = HistoricalRecords(m2m_fields=[people, topics])

    objects = ClaimQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__in=Rating.values),
                name="claim_rating_valid",
                violation_error_message="Choose one of the ratings.",
            ),
            models.CheckConstraint(
                condition=Q(state__in=State.values),
                name="claim_state_valid",
                violation_error_message="Choose one of the states: draft, researching, in "
                "review or published.",
            ),
            models.CheckConstraint(
                condition=Q(rating=Rating.UNREVIEWED) | ~Q(rating_rationale=""),
                name="claim_rating_has_rationale",
                violation_error_message="Explain the rating: which evidence supports it.",
            ),
            models.CheckConstraint(
                condition=Q(claimant__isnull=True) | Q(claimant_source__isnull=True),
                name="claim_one_claimant",
                violation_error_message=CLAIMANT_TWICE,
            ),
            models.CheckConstraint(
                condition=~Q(text=""),
                name="claim_text_not_empty",
                violation_error_message="Enter the claim as stated.",
            ),
            *fuzzy_date_constraints("made", "claim"),
            *fuzzy_date_constraints("event", "claim"),
        ]
        indexes = [
            # API lists, newest first, as anonymous clients (published) and editors see them;
            # the id breaks ties for cursor pagination.
            models.Index(fields=["state", "-updated_at", "-id"], name="claim_state_updated_idx"),
            models.Index(fields=["-updated_at", "-id"], name="claim_updated_idx"),
            # Each editor's desk: their claims by state (claims.desk).
            models.Index(fields=["assignee", "state"], name="claim_assignee_idx"),
            models.Index(fields=["reviewer", "state"], name="claim_reviewer_idx"),
            # Range filters and ordering on when the claim was made / the event happened.
            models.Index(fields=["made_earliest", "made_latest"], name="claim_made_idx"),
            models.Index(fields=["event_earliest", "event_latest"], name="claim_event_idx"),
        ]

    def __str__(self) -> str:
        text = " ".join(self.text.split())
        return text if len(text) <= 80 else text[:79] + "…"

    def get_absolute_url(self) -> str:
        """The public page; a draft has none (editors preview it: claim_preview_url)."""
        return reverse("claim-page", args=[self.pk])

    @property
    def attributed_to(self) -> Person | Source | None:
        """Who or what makes the claim: a person or organization, a source, or no one."""
        if self.claimant_id is not None:
            return self.claimant
        if self.claimant_source_id is not None:
            return self.claimant_source
        return None

    @property
    def made_date(self) -> FuzzyDate:
        return self.fuzzy_date("made")

    @property
    def event_date(self) -> FuzzyDate:
        return self.fuzzy_date("event")

    def clean(self) -> None:
        super().clean()
        if not self.text.strip():
            raise ValidationError({"text": "Enter the claim as stated: it is only spaces."})
        if self.claimant_id is not None and self.claimant_source_id is not None:
            raise ValidationError({"claimant_source": CLAIMANT_TWICE})
        message = rationale_missing(self)
        if message:
            raise ValidationError({"rating_rationale": message})


def rationale_missing(claim: Claim) -> str:
    """What to write when a rated claim has no rationale ("" when it has one, or when its
    rating is not one of ours: that is the rating's own error, not this one). One message
    for every door that checks it (Claim.clean, claims.rules)."""
    if claim.rating not in Rating.values or claim.rating == Rating.UNREVIEWED:
        return ""
    if claim.rating_rationale.strip():
        return ""
    if claim.rating == Rating.UNSUPPORTED:
        return (
            "Say what evidence is missing: a claim rated “Unsupported” is explained by what "
            "was looked for and not found."
        )
    return "Explain the rating: which evidence supports it."


class CitationQuerySet(models.QuerySet["Citation"]):
    def with_origin(self) -> "CitationQuerySet":
        """Annotate `origin`: the id of the last source on the citation's path, else of the
        cited source (claims.paths). One index lookup a citation."""
        last = (
            CitationStep.objects.filter(citation=OuterRef("pk"))
            .order_by("-position")
            .values("link__based_on_id")[:1]
        )
        return self.annotate(
            origin=Coalesce(
                Subquery(last), models.F("source_id"), output_field=models.BigIntegerField()
            )
        )


class Citation(models.Model):
    claim = models.ForeignKey(Claim, models.CASCADE, related_name="citations")
    source = models.ForeignKey(
        Source,
        models.PROTECT,
        related_name="citations",
        help_text="A cited source cannot be deleted while this citation exists.",
    )
    role = models.CharField(
        max_length=20,
        choices=Role,
        default=Role.SUPPORTS,
        help_text="Where the claim appears, or whether this evidence supports or disputes it.",
    )
    quote = models.TextField(
        blank=True,
        max_length=TEXT_LIMITS["quote"],
        validators=[MaxLengthValidator(TEXT_LIMITS["quote"])],
        help_text="The exact words in the source.",
    )
    locator = models.CharField(
        max_length=200, blank=True, help_text='Where in the source: "p. 12", "para. 4", "03:15".'
    )
    reliability_note = models.TextField(
        blank=True,
        max_length=TEXT_LIMITS["note"],
        validators=[MaxLengthValidator(TEXT_LIMITS["note"])],
        help_text="How far this piece of evidence can be trusted, and why. Say so when the "
        "source gives no evidence for the claim.",
    )
    accessed_on = models.DateField(
        null=True, blank=True, help_text="When the source was read for this citation."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    objects = CitationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=Role.values),
                name="citation_role_valid",
                violation_error_message="Choose one of the roles.",
            ),
            models.UniqueConstraint(
                fields=["claim", "source", "role"],
                name="citation_unique_role",
                violation_error_message="This source is already cited in this role for this claim.",
            ),
        ]
        indexes = [
            # "Which claims cite this source", from the source's side.
            models.Index(fields=["source", "role"], name="citation_source_role_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.source}"

    @property
    def path(self) -> list[Source]:
        """The sources the cited source took the claim from, in order (prefetched steps
        with their links' sources: Claim.objects.for_serializer)."""
        return [step.link.based_on for step in self.steps.all()]

    @property
    def origin(self) -> Source:
        """Where the claim came from, as recorded: the last source of the path, else the
        cited source itself."""
        path = self.path
        return path[-1] if path else self.source


class CitationStep(models.Model):
    """One step of a citation's path: the provenance link it follows. The first step
    starts at the cited source, each next one where the previous one ended
    (claims.paths checks it at every door)."""

    citation = models.ForeignKey(Citation, models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(help_text="1 for the first step, and so on.")
    link = models.ForeignKey(
        Provenance,
        models.PROTECT,
        related_name="citation_steps",
        help_text="A provenance link on a citation's path is kept while the path uses it.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["citation", "position"]
        verbose_name = "step of a citation's path"
        constraints = [
            models.UniqueConstraint(
                fields=["citation", "position"],
                name="citation_step_unique_position",
                violation_error_message="A path has one step in each place.",
            ),
            models.UniqueConstraint(
                fields=["citation", "link"],
                name="citation_step_unique_link",
                violation_error_message="A path takes each provenance link once.",
            ),
            models.CheckConstraint(
                condition=Q(position__gte=1),
                name="citation_step_position_positive",
                violation_error_message="Steps are numbered from 1.",
            ),
        ]
        indexes = [
            # "Which citations' paths use this link", from the link's side.
            models.Index(fields=["link"], name="citation_step_link_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"step {self.position} of citation {self.citation_id} "
            f"(claim {self.citation.claim_id}: {self.citation.claim})"
        )


class RelationKind(models.TextChoices):
    REPEATS = "repeats", "repeats"
    CONTRADICTS = "contradicts", "contradicts"
    REFINES = "refines", "refines"
    RESPONDS_TO = "responds_to", "responds to"


class ClaimRelation(models.Model):
    """A typed link from one claim to another: this claim repeats, contradicts, refines
    or responds to that one. Read both ways (api.documents, the claim page)."""

    claim = models.ForeignKey(Claim, models.CASCADE, related_name="relations")
    kind = models.CharField(max_length=20, choices=RelationKind, help_text="How they relate.")
    other = models.ForeignKey(
        Claim,
        models.CASCADE,
        related_name="related_from",
        verbose_name="other claim",
        help_text="The claim this one relates to.",
    )
    note = models.CharField(max_length=500, blank=True, help_text="Why, in a few words.")
    # The version its edit form carries (sources.forms.VersionedFormMixin).
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "kind", "other"],
                name="claim_relation_unique",
                violation_error_message="These claims are already related this way.",
            ),
            models.CheckConstraint(
                condition=~Q(claim=models.F("other")),
                name="claim_relation_not_self",
                violation_error_message="A claim cannot relate to itself.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=RelationKind.values),
                name="claim_relation_kind_valid",
                violation_error_message="Choose one of the kinds of relation.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim} {self.get_kind_display()} {self.other}"


class QuoteCheckManager(models.Manager["QuoteCheck"]):
    def recheck_all(
        self, citations: "models.QuerySet[Citation]", *, batch: int = 500
    ) -> Iterator[int]:
        """Check these citations' quotes again, `batch` at a time, each batch in its own
        short transaction (recheck); yield how many each batch covered. By source, so that
        a batch reads each snapshot's text once."""
        keys = citations.order_by("source_id", "pk").values_list("source_id", "pk")
        chunk = list(keys[:batch])
        while chunk:
            self.recheck(pk for _, pk in chunk)
            yield len(chunk)
            source_id, pk = chunk[-1]
            after = Q(source_id__gt=source_id) | Q(source_id=source_id, pk__gt=pk)
            chunk = list(keys.filter(after)[:batch])

    def recheck(self, citation_ids: Iterable[int]) -> int:
        """Check these citations' quotes against their sources' latest snapshots, in the
        caller's transaction; return how many were checked. Called by every write of a
        citation (claims.services.save_citation, save_claim) and of a snapshot
        (claims.services.recheck_source_quotes, on sources' snapshot_added).

        Never stale under concurrency (tests/claims/test_quote_checks.py): the sources are
        locked FOR SHARE (adding a snapshot locks its source FOR UPDATE, so one waits for
        the other and the later one reads what the earlier one wrote) and the citations
        FOR NO KEY UPDATE (a writer of the same citation waits), both in id order, and
        the quotes and snapshots are read after the locks are held."""
        ids = sorted(set(citation_ids))
        if not ids:
            return 0
        with transaction.atomic():
            sources = Citation.objects.filter(pk__in=ids).values_list("source_id", flat=True)
            lock_rows(shared_sources=sources, citations=ids, allow_missing=True)
            citations = list(
                Citation.objects.filter(pk__in=ids).order_by("pk").only("source_id", "quote")
            )
            latest = Snapshot.objects.filter(source=OuterRef("source")).order_by(
                "-captured_at", "-id"
            )
            snapshots = {
                snapshot.source_id: snapshot
                for snapshot in Snapshot.objects.filter(
                    source_id__in={c.source_id for c in citations},
                    pk=Subquery(latest.values("pk")[:1]),
                ).only("source_id", "text")
            }
            now = timezone.now()
            checks = []
            for citation in citations:
                snapshot = snapshots.get(citation.source_id)
                found = snapshot and find_quote(citation.quote, snapshot.text)
                if snapshot and found:
                    checks.append(
                        QuoteCheck(
                            citation=citation,
                            snapshot=snapshot,
                            outcome=found.outcome,
                            score=found.score,
                            start=found.start,
                            end=found.end,
                            exact=found.exact,
                            prefix=found.prefix,
                            suffix=found.suffix,
                            checked_at=now,
                        )
                    )
            self.filter(citation_id__in=ids).delete()
            self.bulk_create(checks)
            # A quote found again closes the watch's flags on it (QuoteChange).
            found_again = [c.citation_id for c in checks if c.outcome in FOUND_OUTCOMES]
            QuoteChange.objects.filter(
                citation_id__in=found_again, resolved_at__isnull=True
            ).update(resolved_at=now)
        return len(checks)


FOUND_OUTCOMES = {QuoteOutcome.EXACT, QuoteOutcome.NORMALISED, QuoteOutcome.CLOSE}


def quote_checks_summary(outcomes: Iterable[str], quoted: int) -> str:
    """What checking `quoted` citations' quotes found, in words: "3 quotes checked: 2
    found as quoted, 1 not found" (outcomes: those that have a check)."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    if not quoted:
        return "No quotes to check: no citation of this source quotes it."
    parts = [
        f"{counts[outcome]} {str(label)[:1].lower()}{str(label)[1:]}"
        for outcome, label in QuoteOutcome.choices
        if counts.get(outcome)
    ]
    unchecked = quoted - sum(counts.values())
    if unchecked:
        parts.append(f"{unchecked} not checked (no snapshot)")
    return f"{quoted} quote{'s' if quoted != 1 else ''} checked: {', '.join(parts)}."


class QuoteCheck(models.Model):
    """A citation's quote as found in its source's latest snapshot (sources.quotes), kept
    in the same transaction as every write of the quote or of a snapshot
    (QuoteCheckManager.recheck). None when the quote is blank or the source has no
    snapshot. The passage is a W3C TextQuoteSelector (exact, prefix, suffix) with its
    position in the snapshot's text."""

    citation = models.OneToOneField(
        Citation, models.CASCADE, primary_key=True, related_name="quote_check"
    )
    snapshot = models.ForeignKey(
        Snapshot, models.PROTECT, related_name="+", help_text="The snapshot checked against."
    )
    outcome = models.CharField(
        max_length=20,
        choices=QuoteOutcome,
        help_text="exact: found as quoted; normalised: found but for spaces, quote marks or "
        "dashes; close: a passage close enough (see score); not_found: the closest passage "
        "is given; checking: a new snapshot came and the check is under way.",
    )
    score = models.PositiveSmallIntegerField(
        help_text="How close the passage is to the quote, 0 to 100."
    )
    exact = models.TextField(blank=True, help_text="The passage found, as the snapshot has it.")
    prefix = models.TextField(blank=True, help_text="The words just before it.")
    suffix = models.TextField(blank=True, help_text="The words just after it.")
    start = models.PositiveIntegerField(help_text="Where the passage starts in the text.")
    end = models.PositiveIntegerField(help_text="Where it ends.")
    checked_at = models.DateTimeField(help_text="When it was checked.")

    objects = QuoteCheckManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=QuoteOutcome.values),
                name="quote_check_outcome_valid",
                violation_error_message="Not a quote check outcome.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} ({self.score})"


class QuoteChange(models.Model):
    """A quote found in its source's snapshot that the live page no longer has as it was
    (claims.watch): the passage before and after, and the snapshots they are in. Open
    (resolved_at null) until the quote is found again in its source's latest snapshot
    (QuoteCheckManager.recheck closes it)."""

    citation = models.ForeignKey(Citation, models.CASCADE, related_name="quote_changes")
    before_snapshot = models.ForeignKey(
        Snapshot, models.PROTECT, related_name="+", help_text="Where the quote was found."
    )
    after_snapshot = models.ForeignKey(
        Snapshot, models.PROTECT, related_name="+", help_text="The live page, as it was then."
    )
    before = models.TextField(help_text="The passage as the earlier snapshot has it.")
    after = models.TextField(
        blank=True, help_text="The closest passage of the live page (blank: none close)."
    )
    after_found = models.BooleanField(
        help_text="Whether the live page still has the quote, changed (else it is gone)."
    )
    detected_at = models.DateTimeField(help_text="When the watch saw the change.")
    resolved_at = models.DateTimeField(
        null=True, blank=True, help_text="When the quote was found again; null while open."
    )

    class Meta:
        ordering = ["-detected_at", "-id"]
        indexes = [
            models.Index(
                fields=["citation"],
                condition=Q(resolved_at__isnull=True),
                name="quote_change_open",
            )
        ]

    def __str__(self) -> str:
        return f"Changed at the source since {self.detected_at:%Y-%m-%d}"

    def word_diff(self) -> list[tuple[str, str]]:
        """The passage before and after, word by word: ("same" | "gone" | "new", words)."""
        before, after = self.before.split(), self.after.split()
        parts: list[tuple[str, str]] = []
        matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
        for op, a1, a2, b1, b2 in matcher.get_opcodes():
            if op == "equal":
                parts.append(("same", " ".join(before[a1:a2])))
                continue
            if a2 > a1:
                parts.append(("gone", " ".join(before[a1:a2])))
            if b2 > b1:
                parts.append(("new", " ".join(after[b1:b2])))
        return parts


def open_change(citation: Citation) -> QuoteChange | None:
    """The citation's latest open QuoteChange (prefetched as `open_changes` by
    ClaimQuerySet.for_serializer, else read), or None."""
    changes = getattr(citation, "open_changes", None)
    if changes is None:
        changes = list(citation.quote_changes.filter(resolved_at__isnull=True))
    return max(changes, key=lambda c: (c.detected_at, c.pk), default=None)


class ClaimNote(models.Model):
    """An editor's internal note on a claim, or a reply to one: the desk's discussion of
    it, on its admin page. Never shown to readers: no page, feed, export or API response
    has notes, and only those who may view claims read them (the admin). A note is kept
    as it was posted, with the editors it mentions (@username), for their desk."""

    claim = models.ForeignKey(Claim, models.CASCADE, related_name="notes")
    reply_to = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="replies",
        help_text="The note this one answers (blank: a new thread).",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="claim_notes"
    )
    text = models.TextField(
        max_length=TEXT_LIMITS["note"],
        validators=[MaxLengthValidator(TEXT_LIMITS["note"])],
        help_text="Mention another editor with @ and their username: the note shows on their desk.",
    )
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="claim_note_mentions"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["claim", "created_at"], name="claim_note_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(text=""),
                name="claim_note_text",
                violation_error_message="Write the note.",
            )
        ]

    def __str__(self) -> str:
        return f"Note by {self.author or 'a removed account'} on {self.created_at:%Y-%m-%d %H:%M}"


class ImportOutcome(models.TextChoices):
    PREVIEWED = "previewed", "Previewed"
    IMPORTED = "imported", "Imported"
    REFUSED = "refused", "Refused at the confirm"


class ImportRun(models.Model):
    """Each CSV import an editor previewed or confirmed in the admin: which file, how many
    rows, and each row's error in words, for their desk and for whoever asks later what
    came in and how."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="import_runs"
    )
    kind = models.CharField(max_length=40, help_text="What the file holds: claims, citations.")
    file_name = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=20, choices=ImportOutcome)
    rows = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0, help_text="Rows with an error.")
    problems = models.TextField(blank=True, help_text="The first rows' errors, in words.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="import_run_user_idx")]

    def __str__(self) -> str:
        who = self.user or "a removed account"
        return f"{self.kind} import by {who}, {self.created_at:%Y-%m-%d %H:%M}"
