"""The review record: who rated a claim and when, its public rating history ("Corrections
and updates"), and ClaimReview built from them, through every door."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from claims.models import Claim, Rating, Role, State
from claims.services import record_review
from tests.conftest import edit
from tests.factories import CitationFactory, ClaimFactory
from tests.forms import form_data

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
    claim = ClaimFactory(
        rating=Rating.MIXED,
        rating_rationale="Some for, some against.",
        reviewed_on=date(2020, 1, 2),
    )

    assert rate(editor_api, claim, "unreviewed", "").status_code == 200

    claim.refresh_from_db()
    assert (claim.reviewed_on, claim.reviewed_by) == (None, None)


def _rate_in_the_admin(client: Client, claim: Claim) -> None:
    url = f"/admin/claims/claim/{claim.pk}/change/"
    data = form_data(client.get(url), "claim_form")
    data.update(rating="supported", rating_rationale="Shown.")
    assert client.post(url, data).status_code == 302


def _rate_by_import(client: Client, claim: Claim) -> None:
    rows = f"id,text,rating,rating_rationale\n{claim.pk},{claim.text},supported,Shown.\n"
    upload = SimpleUploadedFile("claims.csv", rows.encode(), "text/csv")
    preview = client.post("/admin/claims/claim/import/", {"import_file": upload, "format": "0"})
    assert not preview.context["result"].has_validation_errors()
    confirm = preview.context["confirm_form"].initial
    assert client.post("/admin/claims/claim/process_import/", confirm).status_code == 302


def _rate_through_the_api(client: Client, claim: Claim) -> None:
    api = APIClient()
    api.force_authenticate(_session_user(client))
    assert rate(api, claim, "supported", "Shown.").status_code == 200


def _session_user(client: Client) -> User:
    return User.objects.get(pk=client.session["_auth_user_id"])


@pytest.mark.parametrize("door", [_rate_in_the_admin, _rate_by_import, _rate_through_the_api])
def test_every_door_that_changes_a_rating_records_the_review(
    editor_client: Client, editor: User, door: Callable[[Client, Claim], None]
) -> None:
    claim = ClaimFactory(rating=Rating.UNREVIEWED)
    CitationFactory(claim=claim, role=Role.SUPPORTS)

    door(editor_client, claim)

    claim.refresh_from_db()
    assert claim.rating == Rating.SUPPORTED
    assert claim.reviewed_on == timezone.localdate()
    # The import records no editor on the claim (updated_by): the review names none either.
    assert claim.reviewed_by == (None if door is _rate_by_import else editor)


def test_a_plain_save_records_no_review_and_the_service_does(editor: User) -> None:
    """Side effects live in claims.services (record_review), not in Claim.save()."""
    claim = ClaimFactory(rating=Rating.UNREVIEWED)
    claim.rating, claim.rating_rationale, claim.updated_by = "supported", "Shown.", editor
    claim.save()
    claim.refresh_from_db()
    assert (claim.reviewed_on, claim.reviewed_by) == (None, None)

    claim.rating = Rating.FALSE
    assert record_review(claim, rated_before=Rating.SUPPORTED) == ["reviewed_on", "reviewed_by"]
    assert (claim.reviewed_on, claim.reviewed_by) == (timezone.localdate(), editor)
    assert record_review(claim, rated_before=Rating.FALSE) == []


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
