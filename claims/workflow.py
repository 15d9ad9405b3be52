"""The desk's workflow, in one place: which state may follow which (TRANSITIONS, read by
the admin's form and actions, the API and the import), and the second editor's sign-off.

A claim goes draft -> researching -> in review -> published. With
PUBLISH_REQUIRES_SECOND_EDITOR on (the default), a verdict is published only once an
editor other than the last one to change it has signed it off. The verdict is the claim's
rating, its rationale and its citations (with their paths); who changed it last, and when,
is read from the history every door writes (verdict_changes), so nothing stored beside it
can go stale: a change after the sign-off withdraws it, whichever door it came through. A
published claim's verdict is therefore changed by taking it back to review first (in the
same write or before), and published again once signed off.

Every change of state is a change of the claim's row, so its history keeps who made it
and when."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from claims.models import Citation, CitationStep, Claim, State
from claims.rules import (
    VERDICT_LOCKED,
    evidence_by_claim,
    publishing_errors,
    second_editor_required,
)


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    action: str  # what the editor does, as buttons and bulk actions name it


TRANSITIONS = (
    Transition(State.DRAFT, State.RESEARCHING, "Start research"),
    Transition(State.DRAFT, State.IN_REVIEW, "Submit for review"),
    Transition(State.RESEARCHING, State.IN_REVIEW, "Submit for review"),
    Transition(State.IN_REVIEW, State.RESEARCHING, "Send back to research"),
    # From any state before it; with the second editor required, only a signed-off verdict,
    # and only a claim in review is signed off.
    Transition(State.DRAFT, State.PUBLISHED, "Publish"),
    Transition(State.RESEARCHING, State.PUBLISHED, "Publish"),
    Transition(State.IN_REVIEW, State.PUBLISHED, "Publish"),
    Transition(State.PUBLISHED, State.IN_REVIEW, "Take back to review"),
    Transition(State.RESEARCHING, State.DRAFT, "Back to draft"),
    Transition(State.IN_REVIEW, State.DRAFT, "Back to draft"),
    Transition(State.PUBLISHED, State.DRAFT, "Unpublish"),
)

# The states a new claim may start in (publishing it at once is the sign-off rule's to allow).
INITIAL_STATES = (State.DRAFT, State.RESEARCHING, State.IN_REVIEW, State.PUBLISHED)


def label(state: str | None) -> str:
    if state is None:
        return "new"
    return str(State(state).label).lower() if state in State.values else repr(state)


def next_states(state: str | None) -> list[str]:
    """The states a claim in `state` may go to (None: a new claim), in the table's order."""
    if state is None:
        return list(INITIAL_STATES)
    return [t.target for t in TRANSITIONS if t.source == state]


def transition_error(before: str | None, after: str) -> str:
    """Why a claim in state `before` (None: a new one) cannot go to `after`; "" when it can
    (staying where it is always can)."""
    if after == before or after in next_states(before):
        return ""
    if after not in State.values:
        return "Choose one of the states: draft, researching, in review or published."
    choices = " or ".join(f"“{label(state)}”" for state in next_states(before))
    return f"From “{label(before)}”, a claim goes to {choices}, not to “{label(after)}”."


@dataclass(frozen=True)
class VerdictChange:
    """The last change to a claim's verdict: who made it (None: no account, as the demo
    loader or a deleted account) and when."""

    user_id: int | None
    at: datetime


# A citation's columns that make the evidence: a history row that changes none of them (a
# write that sent the citation back as it was) changes no verdict.
EVIDENCE_FIELDS = tuple(
    field.attname
    for field in Citation._meta.concrete_fields
    if field.name not in ("id", "created_at", "updated_at")
)


def verdict_changes(claim_ids: Iterable[int]) -> dict[int, VerdictChange]:
    """{claim id: the last change to its rating, rationale or citations}, from the history,
    in three queries however many claims: the claim's rows whose rating or rationale differ
    from the row before (its first row counts); the rows of every citation it has had that
    add, change, move or delete one; its citations' path steps' rows."""
    ids = set(claim_ids)
    last: dict[int, VerdictChange] = {}

    def note(claim_id: Any, user_id: int | None, at: datetime) -> None:
        if claim_id in ids and (claim_id not in last or at >= last[claim_id].at):
            last[claim_id] = VerdictChange(user_id, at)

    previous: dict[int, tuple[object, ...]] = {}
    rows = (
        Claim.history.filter(id__in=ids)
        .order_by("id", "history_date", "history_id")
        .values_list("id", "history_user_id", "history_date", "rating", "rating_rationale")
    )
    for pk, user_id, at, *verdict in rows:
        if previous.get(pk) != tuple(verdict):
            note(pk, user_id, at)
        previous[pk] = tuple(verdict)
    # Every row of each citation the claims ever had: a citation moved to another claim
    # changed both.
    ever = Citation.history.filter(claim_id__in=ids).values("id")
    rows = (
        Citation.history.filter(id__in=ever)
        .order_by("id", "history_date", "history_id")
        .values_list("id", "history_user_id", "history_date", "history_type", *EVIDENCE_FIELDS)
    )
    claim_at = EVIDENCE_FIELDS.index("claim_id")
    before: dict[int, tuple[object, ...]] = {}
    claim_of: dict[int, int] = {}
    for citation_id, user_id, at, kind, *evidence in rows:
        row, was = tuple(evidence), before.get(citation_id)
        if kind == "-" or row != was:
            note(row[claim_at], user_id, at)
            if was is not None and was[claim_at] != row[claim_at]:
                note(was[claim_at], user_id, at)
        before[citation_id] = row
        claim_of[citation_id] = row[claim_at]
    steps = CitationStep.history.filter(citation_id__in=ever)
    for citation_id, user_id, at in steps.values_list(
        "citation_id", "history_user_id", "history_date"
    ):
        note(claim_of.get(citation_id), user_id, at)
    return last


class SignOff:
    """A claim's sign-off as it stands: whether it covers the verdict as it is now, and in
    words for the admin and the API (worked out when first read)."""

    def __init__(self, valid: bool, words: str | Callable[[], str]) -> None:
        self.valid = valid
        self._words = words

    @property
    def words(self) -> str:
        if callable(self._words):
            self._words = self._words()
        return self._words


def sign_off_state(claim: Claim, change: VerdictChange | None) -> SignOff:
    """Whether `claim`'s sign-off covers its verdict as the history has it (`change`: the
    last change to it, from verdict_changes)."""
    if claim.signed_off_at is None:
        return SignOff(False, "Not signed off.")
    valid = change is None or change.at <= claim.signed_off_at

    def words() -> str:  # read only when shown: it looks the editor up
        who = _name(claim.signed_off_by) if claim.signed_off_by_id else "an editor since removed"
        when = timezone.localtime(claim.signed_off_at).strftime("%Y-%m-%d %H:%M")
        if valid:
            return f"Signed off by {who} on {when}."
        return (
            f"Signed off by {who} on {when}, withdrawn: the rating, rationale or citations "
            "changed since."
        )

    return SignOff(valid, words)


def _name(user: AbstractBaseUser | None) -> str:
    if user is None:
        return "no one"
    full = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    return full or str(user.get_username())


def publish_error(claim: Claim, change: VerdictChange | None) -> str:
    """Why `claim` may not go to published (the second editor's rule); "" when it may.
    `change`: the last change to its verdict, counting this write's."""
    if not second_editor_required():
        return ""
    state = sign_off_state(claim, change)
    if state.valid:
        return ""
    return (
        "A verdict is published only once an editor other than the last one to change its "
        f"rating, rationale or citations signs it off ({state.words.rstrip('.')}): submit it "
        "for review and ask another editor to sign it off."
    )


def pending_publish_error(claim: Claim, *, state_before: str | None, changing: bool) -> str:
    """The second editor's rule for a door that checks before it writes (the admin's
    forms): `claim` as the write would leave it, `state_before` its stored state (None: a
    new claim), `changing` whether the write changes its verdict. "" when it may."""
    if claim.state != State.PUBLISHED or not second_editor_required():
        return ""
    if state_before == State.PUBLISHED:
        return VERDICT_LOCKED if changing else ""
    if changing or claim.pk is None:  # the change to come is after any sign-off
        return publish_error(claim, VerdictChange(None, timezone.now()))
    return publish_error(claim, verdict_changes([claim.pk]).get(claim.pk))


@dataclass(frozen=True)
class PublishGuard:
    """The second editor's rule for a door that writes first and checks after, in its
    transaction (save_claim): taken before the write (before()), asked after it
    (error()), the history then counting the write's own rows."""

    state: str | None  # as stored before the write (None: a new claim)
    change: VerdictChange | None  # the last change to its verdict before the write

    @classmethod
    def before(cls, claim: Claim) -> "PublishGuard":
        if claim.pk is None:
            return cls(None, None)
        published = claim.state == State.PUBLISHED and second_editor_required()
        return cls(claim.state, verdict_changes([claim.pk]).get(claim.pk) if published else None)

    def error(self, claim: Claim) -> str:
        """ "" when the claim as written keeps the rule: a claim that stays published kept
        its verdict (one published before the rule, or unsigned, may still have its other
        fields edited); one that became published has a sign-off covering its verdict."""
        if claim.state != State.PUBLISHED or not second_editor_required():
            return ""
        change = verdict_changes([claim.pk]).get(claim.pk)
        if self.state == State.PUBLISHED:
            return VERDICT_LOCKED if change != self.change else ""
        return publish_error(claim, change)


def sign_off_error(claim: Claim, user: User | AnonymousUser, change: VerdictChange | None) -> str:
    """Why `user` may not sign off `claim` as it is; "" when they may."""
    if not user.has_perm("claims.change_claim"):
        return "Only editors sign off claims."
    if claim.state != State.IN_REVIEW:
        return (
            f"Only a claim in review is signed off, and this one is {label(claim.state)}: "
            "submit it for review first."
        )
    if sign_off_state(claim, change).valid:
        return "This verdict is signed off already."
    if change is not None and change.user_id == user.pk:
        return (
            "You made the last change to this claim's rating, rationale or citations, so "
            "another editor signs it off."
        )
    return ""


@transaction.atomic
def sign_off(claim_id: int, user: User, *, seen: datetime | None) -> Claim:
    """Sign off the verdict of claim `claim_id` as `user` saw it: `seen` is the time of the
    last change to it when they read it (None: no change recorded). Its row locked, a
    change made since is refused in words, as is signing off one's own change; the
    sign-off is a change of the claim's row, so its history keeps who and when."""
    claim = Claim.objects.select_for_update().get(pk=claim_id)
    change = verdict_changes([claim.pk]).get(claim.pk)
    if (change.at if change else None) != seen:
        raise ValidationError(
            "The rating, rationale or citations changed since you opened this claim: read "
            "them again, then sign off.",
            code="stale",
        )
    if message := sign_off_error(claim, user, change):
        if not user.has_perm("claims.change_claim"):
            raise PermissionDenied(message)
        raise ValidationError(message, code="sign_off")
    claim.signed_off_by = user
    claim.signed_off_at = timezone.now()
    claim.updated_by = user
    claim._history_user = user  # type: ignore[attr-defined]
    claim.save(update_fields=["signed_off_by", "signed_off_at", "updated_by", "updated_at"])
    return claim


@transaction.atomic
def assign(claim_id: int, user: User, **editors: User | None) -> Claim:
    """Set the claim's assignee and/or reviewer (`editors`: those named), as `user`; a change
    of the claim's row, so its history keeps who and when. The caller holds its lock."""
    claim = Claim.objects.select_for_update().get(pk=claim_id)
    for field, editor in editors.items():
        setattr(claim, field, editor)
    claim.updated_by = user
    claim._history_user = user  # type: ignore[attr-defined]
    claim.save(update_fields=[*editors, "updated_by", "updated_at"])
    return claim


def move(claims: list[Claim], target: str, user: User) -> tuple[int, list[str]]:
    """Move each of `claims` (locked by the caller) to state `target` where the table, the
    publishing rules and the second editor's rule allow, each a change of its row with its
    history; answers how many moved and, for each of the others, why not in words."""
    publishing = target == State.PUBLISHED
    ids = [claim.pk for claim in claims]
    evidence = evidence_by_claim(ids) if publishing else {}
    changes = verdict_changes(ids) if publishing and second_editor_required() else {}
    moved, refused = 0, []
    for claim in claims:
        if claim.state == target:
            continue
        before, claim.state = claim.state, target
        errors = [transition_error(before, target)]
        if publishing and not errors[0]:
            errors += publishing_errors(claim, evidence[claim.pk]).values()
            errors.append(publish_error(claim, changes.get(claim.pk)))
        if reasons := [error for error in errors if error]:
            claim.state = before
            refused.append(f"“{claim}”: {' '.join(reasons)}")
            continue
        claim.updated_by = user
        claim._history_user = user  # type: ignore[attr-defined]
        claim.save(update_fields=["state", "updated_by", "updated_at"])
        moved += 1
    return moved, refused


def awaiting_sign_off(claims: Iterable[Claim], *, by: int | None = None) -> list[int]:
    """The ids of those of `claims` (in review, with signed_off_at loaded) whose verdict no
    sign-off covers; with `by` (a user id), only those that editor may sign off (they did
    not make the last change). Read against the history in three queries."""
    claims = [claim for claim in claims if claim.state == State.IN_REVIEW]
    changes = verdict_changes(claim.pk for claim in claims)
    return [
        claim.pk
        for claim in claims
        if not sign_off_state(claim, changes.get(claim.pk)).valid
        and (by is None or changes.get(claim.pk) is None or changes[claim.pk].user_id != by)
    ]
