"""The review record: who rated a claim and when, its public rating history ("Corrections
and updates"), and ClaimReview built from them, through every door."""

from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from claims.models import Claim, Rating, Role, State
from tests.conftest import edit
from tests.factories import CitationFactory, ClaimFactory

pytestmark = pytest.mark.django_db


def rate(client: APIClient, claim: Claim, rating: str, rationale: str) -> Any:
    return edit(
        client,
        "patch",
        f"/api/v1/claims/{claim.pk}/",
        {"rating": rating, "rating_rationale": rationale},
    )


def test_rating_a_claim_records_who_and_when_and_each_change_in_its_history(
    editor_api: APIClient, editor: User
) -> None:
    editor.first_name, editor.last_name = "Ada", "Checker"
    editor.save()
    claim = ClaimFactory(state=State.PUBLISHED)
    CitationFactory(claim=claim, role=Role.DISPUTES)  # published ratings need evidence
    assert (claim.reviewed_on, claim.reviewed_by) == (None, None)

    assert rate(editor_api, claim, "disputed", "Two reports dispute it.").status_code == 200
    assert rate(editor_api, claim, "false", "The documents show otherwise.").status_code == 200
    # An edit that leaves the rating alone is no review and no line in the history.
    summary = edit(editor_api, "patch", f"/api/v1/claims/{claim.pk}/", {"summary": "S."})
    assert summary.status_code == 200

    claim.refresh_from_db()
    assert claim.reviewed_on == timezone.localdate()
    assert claim.reviewed_by == editor
    body = APIClient().get(f"/api/v1/claims/{claim.pk}/").json()
    assert body["reviewed_by"] == "Ada Checker"
    assert body["reviewed_on"] == timezone.localdate().isoformat()
    assert [
        (c["previous_rating"], c["rating"], c["rationale"]) for c in body["rating_history"]
    ] == [
        ("unreviewed", "disputed", "Two reports dispute it."),
        ("disputed", "false", "The documents show otherwise."),
    ]
    page = APIClient().get(f"/claims/{claim.pk}/").content.decode()
    assert "Corrections and updates" in page
    assert "rating changed from Disputed to <strong>False</strong>" in page
    assert "Two reports dispute it." in page
    assert "Reviewed by Ada Checker" in page


def test_clearing_the_rating_clears_the_review_record(editor_api: APIClient) -> None:
    claim = ClaimFactory(rating=Rating.MIXED, rating_rationale="Some for, some against.")
    assert claim.reviewed_on == timezone.localdate()

    assert rate(editor_api, claim, "unreviewed", "").status_code == 200

    claim.refresh_from_db()
    assert (claim.reviewed_on, claim.reviewed_by) == (None, None)


def test_a_rating_changed_by_any_save_is_recorded(editor: User) -> None:
    """The admin and the CSV import save the model, as the API does."""
    claim = ClaimFactory(rating=Rating.UNREVIEWED)
    claim.rating, claim.rating_rationale, claim.updated_by = "supported", "Shown.", editor
    claim.save()

    claim.refresh_from_db()
    assert (claim.reviewed_on, claim.reviewed_by) == (timezone.localdate(), editor)


def test_claimreview_dates_come_from_the_first_and_last_review(editor_api: APIClient) -> None:
    claim = ClaimFactory(state=State.PUBLISHED)
    CitationFactory(claim=claim, role=Role.DISPUTES)
    assert rate(editor_api, claim, "disputed", "Disputed.").status_code == 200
    first = Claim.history.filter(id=claim.pk).latest("history_date")
    Claim.history.filter(pk=first.pk).update(
        history_date=timezone.make_aware(timezone.datetime(2020, 3, 1, 12))
    )
    rate(editor_api, claim, "false", "False.")

    review = APIClient().get(f"/api/v1/claims/{claim.pk}/claimreview/").json()

    assert review["datePublished"] == "2020-03-01"
    assert review["dateModified"] == timezone.localdate().isoformat()
    assert review["url"] == f"http://testserver/claims/{claim.pk}/"


def test_an_unrated_claim_has_no_claimreview(api_client: APIClient) -> None:
    claim = ClaimFactory(state=State.PUBLISHED, rating=Rating.UNREVIEWED)

    response = api_client.get(f"/api/v1/claims/{claim.pk}/claimreview/")

    assert response.status_code == 404
    assert response.json()["errors"][0]["detail"] == (
        "This claim is not rated yet, so it has no ClaimReview."
    )
    page = api_client.get(f"/claims/{claim.pk}/").content.decode()
    assert "application/ld+json" not in page
    assert "the claim has not been rated yet" in page


def test_the_migration_backfills_rated_claims(editor: User) -> None:
    """Claims rated before the record existed: reviewed when last changed (0014)."""
    from importlib import import_module

    from django.apps import apps

    claim = ClaimFactory(rating=Rating.MIXED, rating_rationale="x.", updated_by=editor)
    Claim.objects.filter(pk=claim.pk).update(reviewed_on=None, reviewed_by=None)
    unrated = ClaimFactory(rating=Rating.UNREVIEWED)

    import_module("claims.migrations.0014_review_record").backfill(apps, None)

    claim.refresh_from_db()
    assert (claim.reviewed_on, claim.reviewed_by) == (claim.updated_at.date(), editor)
    assert Claim.objects.get(pk=unrated.pk).reviewed_on is None
    assert isinstance(claim.reviewed_on, date)
