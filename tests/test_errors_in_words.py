"""Each error once, in words about the input, with the same wording at every door."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from claims.models import Claim
from sources.models import SEARCH_MAX_CHARS, Source
from tests.claims.test_admin import claim_form
from tests.factories import ClaimFactory

pytestmark = pytest.mark.django_db

LONG = "word " * 10_100  # 50,500 characters: SQLite's LIKE refuses a pattern this long


def test_a_search_past_the_limit_is_a_400_naming_the_limit_in_the_api(
    api_client: APIClient,
) -> None:
    for url, name in (("/api/v1/claims/", "q"), ("/api/v1/sources/", "search")):
        response = api_client.get(url, {name: LONG})

        assert response.status_code == 400, url
        [error] = response.json()["errors"]
        assert error["attr"] == name
        assert (
            f"at most {SEARCH_MAX_CHARS:,} characters (this search has 50,499)" in error["detail"]
        )


def test_a_search_within_the_limit_still_works(api_client: APIClient) -> None:
    ClaimFactory(text="The camps are vocational training centers.")
    words = "vocational " + "x" * (SEARCH_MAX_CHARS - 11)

    assert api_client.get("/api/v1/claims/", {"q": words}).status_code == 200
    assert len(api_client.get("/api/v1/claims/", {"q": "vocational"}).json()["results"]) == 1


def test_a_search_past_the_limit_on_the_reading_page_is_a_400_in_words(client: Client) -> None:
    response = client.get("/", {"q": LONG})

    assert response.status_code == 400
    assert f"at most {SEARCH_MAX_CHARS:,} characters" in response.content.decode()


def test_a_search_past_the_limit_in_the_admin_lists_nothing_and_says_why(
    editor_client: Client,
) -> None:
    ClaimFactory()
    response = editor_client.get("/admin/claims/claim/", {"q": LONG}, follow=True)

    assert response.status_code == 200
    assert f"Search for at most {SEARCH_MAX_CHARS:,} characters" in response.content.decode()


def error_count(html: str, message: str) -> int:
    return html.count(message)


def test_a_claim_text_too_long_shows_its_length_error_alone(editor_client: Client) -> None:
    response = editor_client.post("/admin/claims/claim/add/", claim_form(text="x" * 200_000))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Ensure this value has at most" in html
    assert "it is only spaces" not in html
    assert not Claim.objects.exists()


def test_a_duplicate_claim_shows_the_duplicate_error_alone(editor_client: Client) -> None:
    ClaimFactory(text="The camps are vocational training centers.", claimant=None)

    response = editor_client.post("/admin/claims/claim/add/", claim_form())

    html = response.content.decode()
    assert "Similar claims are already recorded" in html
    assert "it is only spaces" not in html
    assert Claim.objects.count() == 1


def test_a_source_title_too_long_shows_its_length_error_alone(editor_client: Client) -> None:
    response = editor_client.post(
        "/admin/sources/source/add/",
        {
            "kind": "news_article",
            "title": "x" * 200_000,
            "language": "en",
            "reliability": "",
            "provenance_links-TOTAL_FORMS": "0",
            "provenance_links-INITIAL_FORMS": "0",
            "snapshots-TOTAL_FORMS": "0",
            "snapshots-INITIAL_FORMS": "0",
            "snapshots-2-TOTAL_FORMS": "0",
            "snapshots-2-INITIAL_FORMS": "0",
        },
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Ensure this value has at most" in html
    assert "only spaces" not in html
    assert not Source.objects.exists()
