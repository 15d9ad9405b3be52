"""Duplicates caught at the door (claims.duplicates): similar claims are shown, and an
exact duplicate (same claimant, same words) is refused unless confirmed as a repetition."""

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from claims.duplicates import normalized, similar_claims
from claims.imports import ClaimResource
from claims.models import Claim
from tests.claims.test_admin import claim_form
from tests.claims.test_import import import_file
from tests.factories import ClaimFactory, PersonFactory

pytestmark = pytest.mark.django_db

ORGANS = "The regime removes their organs on a massive scale."


def test_normalized_text_ignores_case_punctuation_and_spacing() -> None:
    assert normalized("  The regime REMOVES their organs,\non a massive scale! ") == normalized(
        ORGANS
    )
    assert normalized("") == ""


def test_an_exact_duplicate_is_refused_by_the_api_unless_confirmed(
    editor_api: APIClient,
) -> None:
    cruz = PersonFactory(name="Ted Cruz")
    existing = ClaimFactory(text=ORGANS, claimant=cruz)
    body = {"text": "the regime removes their organs on a massive scale", "claimant": cruz.pk}

    refused = editor_api.post("/api/v1/claims/", body, format="json")

    assert refused.status_code == 400
    [error] = refused.json()["errors"]
    assert error["attr"] == "text"
    assert f"already recorded (claim {existing.pk})" in error["detail"]
    assert Claim.objects.count() == 1

    confirmed = editor_api.post(
        "/api/v1/claims/", {**body, "confirm_repetition": True}, format="json"
    )
    assert confirmed.status_code == 201
    assert f"/api/v1/claims/{existing.pk}/>" in confirmed["Link"]
    assert Claim.objects.count() == 2


def test_the_same_words_from_another_claimant_are_created_and_linked(
    editor_api: APIClient,
) -> None:
    existing = ClaimFactory(text=ORGANS, claimant=PersonFactory())

    response = editor_api.post(
        "/api/v1/claims/", {"text": ORGANS, "claimant": PersonFactory().pk}, format="json"
    )

    assert response.status_code == 201
    assert response["Link"] == (
        f'<http://testserver/api/v1/claims/{existing.pk}/>; rel="related"; title="similar claim"'
    )


def test_a_new_claim_with_nothing_like_it_has_no_link(editor_api: APIClient) -> None:
    ClaimFactory(text="Completely unrelated words about the weather.")

    response = editor_api.post("/api/v1/claims/", {"text": ORGANS}, format="json")

    assert response.status_code == 201
    assert "Link" not in response


def test_the_admin_lists_similar_claims_and_asks_to_confirm(editor_client: Client) -> None:
    cruz = PersonFactory(name="Ted Cruz")
    existing = ClaimFactory(text=ORGANS, claimant=cruz)
    data = claim_form(text=ORGANS + " ", claimant=str(cruz.pk))

    shown = editor_client.post("/admin/claims/claim/add/", data)

    assert shown.status_code == 200
    page = shown.content.decode()
    assert "Similar claims are already recorded" in page
    assert (
        f'/admin/claims/claim/{existing.pk}/change/" target="_blank">claim {existing.pk}</a>'
        in page
    )
    assert "(same claimant, same words)" in page
    assert Claim.objects.count() == 1

    saved = editor_client.post("/admin/claims/claim/add/", {**data, "confirm_repetition": "on"})
    assert saved.status_code == 302
    assert Claim.objects.count() == 2


def test_the_import_refuses_an_exact_duplicate_row_unless_it_says_it_repeats() -> None:
    cruz = PersonFactory(name="Ted Cruz")
    ClaimFactory(text=ORGANS, claimant=cruz)
    header = "id,text,claimant,state,confirm_repetition\n"

    refused = import_file(ClaimResource(), (header + f",{ORGANS},Ted Cruz,draft,\n").encode())
    [invalid] = refused.invalid_rows
    assert "already recorded" in str(invalid.error_dict["text"])
    assert Claim.objects.count() == 1

    accepted = import_file(ClaimResource(), (header + f",{ORGANS},Ted Cruz,draft,true\n").encode())
    assert not accepted.has_validation_errors()
    assert not accepted.has_errors(), [e.error for e in accepted.base_errors]
    assert Claim.objects.count() == 2


@pytest.mark.parametrize("claimant", ["", "Ted Cruz"])
def test_the_import_refuses_a_row_repeating_an_earlier_row_of_the_same_file(
    claimant: str,
) -> None:
    header = "id,text,claimant,state,confirm_repetition\n"
    row = f",{ORGANS},{claimant},draft,"
    unattributed = "" if claimant else ",The regime harvests organs on a massive scale!,,draft,\n"

    refused = import_file(ClaimResource(), f"{header}{row}\n{row}\n{unattributed}".encode())

    [invalid] = refused.invalid_rows
    assert invalid.number == 2
    assert "repeats the claim of row 1 of this file" in str(invalid.error_dict["text"])
    assert Claim.objects.count() == 0
    accepted = import_file(ClaimResource(), f"{header}{row}\n{row}true\n".encode())
    assert not accepted.has_validation_errors()
    assert Claim.objects.count() == 2


def test_the_import_refuses_an_unattributed_duplicate_of_an_unattributed_claim() -> None:
    ClaimFactory(text=ORGANS, claimant=None)
    ClaimFactory(text=ORGANS, claimant=PersonFactory(name="Someone"))
    header = "id,text,claimant,state\n"

    refused = import_file(ClaimResource(), f"{header},{ORGANS.upper()},,draft\n".encode())

    [invalid] = refused.invalid_rows
    assert "already recorded" in str(invalid.error_dict["text"])


def test_similar_claims_lists_near_matches_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("trigram similarity is PostgreSQL's (pg_trgm); SQLite compares exactly")
    near = ClaimFactory(text="The regime removes organs on a massive scale.")
    ClaimFactory(text="Completely unrelated words about the weather.")

    found = similar_claims(ORGANS, None)

    assert [s.claim.pk for s in found] == [near.pk]
    assert not found[0].exact


def test_the_similarity_search_uses_the_trigram_index_at_100k_claims() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the trigram index is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO claims_claim (text, summary, made_text, made_edtf, event_text,"
            " event_edtf, rating, rating_rationale, state, language, created_at, updated_at)"
            " SELECT 'Claim number ' || n || ' about topic ' || (n % 977), '', '', '', '', '',"
            " 'unreviewed', '', 'draft', 'en', now(), now() FROM generate_series(1, 100000) n"
        )
        cursor.execute("ANALYZE claims_claim")
        query = Claim.objects.filter(text__trigram_similar=ORGANS)
        plan = query.explain()

    assert "claim_text_trgm_idx" in plan, plan
