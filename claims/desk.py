"""Each editor's desk, on the admin's front page: their work, counted, each count a link to
the list it counts (the changelists' filters in claims.admin do the same filtering, so
what a count says is what its list shows). In a fixed number of queries."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from claims.models import Citation, Claim, ClaimNote, ImportRun, QuoteChange, State
from claims.workflow import awaiting_sign_off, label
from sources.models import url_checks


@dataclass(frozen=True)
class DeskCount:
    words: str  # "3 researching"
    count: int
    url: str


@dataclass(frozen=True)
class Section:
    title: str
    counts: list[DeskCount]


def import_week_start() -> datetime:
    """Since when an import with errors is on its editor's desk."""
    return timezone.now() - timedelta(days=7)


# Assigned claims, by state: the work still to do first.
ASSIGNED_STATES = (State.RESEARCHING, State.IN_REVIEW, State.DRAFT, State.PUBLISHED)


def _link(changelist: str, **params: str) -> str:
    return reverse(f"admin:claims_{changelist}_changelist") + "?" + urlencode(params)


def desk(user: User | AnonymousUser) -> list[Section]:
    """The signed-in editor's desk; empty for those who may not view claims."""
    if not user.has_perm("claims.view_claim"):
        return []
    mine = Claim.objects.filter(assignee=user.pk)
    by_state = dict(mine.values_list("state").annotate(n=Count("pk")).order_by())
    assigned = [
        DeskCount(
            f"{label(state)}",
            by_state.get(state, 0),
            _link("claim", assigned_to="me", state__exact=state),
        )
        for state in ASSIGNED_STATES
    ]
    to_review = Claim.objects.filter(reviewer=user.pk, state=State.IN_REVIEW).only(
        "state", "signed_off_at"
    )
    yours = len(awaiting_sign_off(to_review, by=user.pk))
    mentioned = Claim.objects.filter(
        Exists(ClaimNote.objects.filter(claim=OuterRef("pk"), mentions=user.pk))
    ).count()
    cited = Citation.objects.filter(claim__assignee=user.pk)
    dead = Exists(url_checks(OuterRef("source_id"), OuterRef("source__url")).filter(dead=True))
    changed = Exists(QuoteChange.objects.filter(citation=OuterRef("pk"), resolved_at__isnull=True))
    imports = ImportRun.objects.filter(
        user=user.pk, errors__gt=0, created_at__gte=import_week_start()
    ).count()
    evidence = cited.aggregate(
        dead=Count("pk", filter=Q(dead)), changed=Count("pk", filter=Q(changed))
    )
    return [
        Section("Claims assigned to you", assigned),
        Section(
            "Waiting for your sign-off",
            [
                DeskCount(
                    "in review, for you to sign off",
                    yours,
                    _link("claim", review_by="me", sign_off="yours"),
                )
            ],
        ),
        Section(
            "Mentions",
            [DeskCount("claims whose notes mention you", mentioned, _link("claim", mentions="me"))],
        ),
        Section(
            "Evidence on your claims",
            [
                DeskCount(
                    "citations whose source's link died",
                    evidence["dead"],
                    _link("citation", assigned_to="me", link="dead"),
                ),
                DeskCount(
                    "citations whose quote changed at the source",
                    evidence["changed"],
                    _link("citation", assigned_to="me", source_changed="yes"),
                ),
            ],
        ),
        Section(
            "Your imports",
            [
                DeskCount(
                    "imports with errors in the last 7 days",
                    imports,
                    _link("importrun", by="me", with_errors="week"),
                )
            ],
        ),
    ]
