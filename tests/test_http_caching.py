"""Readers' responses carry caching headers a proxy or CDN can act on (config.middleware)."""

import hashlib

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from api.models import ApiToken
from claims.models import Claim
from tests.factories import CitationFactory, ClaimFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim() -> Claim:
    claim = ClaimFactory(state="published")
    CitationFactory(claim=claim)
    return claim


def reader_urls(claim: Claim) -> list[str]:
    citation = claim.citations.get()
    return [
        "/api/v1/claims/",
        f"/api/v1/claims/{claim.pk}/",
        "/api/v1/sources/",
        f"/api/v1/sources/{citation.source_id}/",
        "/api/v1/people/",
        f"/api/v1/people/{claim.claimant_id}/",
        "/",
        f"/claims/{claim.pk}/",
        f"/sources/{citation.source_id}/",
        f"/people/{claim.claimant_id}/",
    ]


def test_anonymous_readers_get_a_strong_etag_and_a_public_max_age(
    client: Client, claim: Claim
) -> None:
    for url in reader_urls(claim):
        response = client.get(url)

        assert response.status_code == 200, url
        assert response["ETag"] == f'"{hashlib.sha256(response.content).hexdigest()}"', url
        assert response["Cache-Control"] == "public, max-age=60", url
        vary = {part.strip() for part in response["Vary"].split(",")}
        assert {"Authorization", "Cookie"} <= vary, url


def test_a_matching_if_none_match_answers_304_without_a_body(client: Client, claim: Claim) -> None:
    for url in reader_urls(claim):
        etag = client.get(url)["ETag"]

        response = client.get(url, headers={"If-None-Match": etag})

        assert response.status_code == 304, url
        assert response.content == b"", url
        assert response["ETag"] == etag, url


def test_an_edit_changes_the_etag_so_the_old_one_gets_the_new_body(
    client: Client, claim: Claim
) -> None:
    url = f"/api/v1/claims/{claim.pk}/"
    etag = client.get(url)["ETag"]
    claim.text = "Reworded."
    claim.save()

    response = client.get(url, headers={"If-None-Match": etag})

    assert response.status_code == 200
    assert response.json()["text"] == "Reworded."
    assert response["ETag"] != etag


def test_the_max_age_comes_from_settings(client: Client, claim: Claim, settings: object) -> None:
    settings.HTTP_CACHE_SECONDS = 300  # type: ignore[attr-defined]
    assert client.get("/api/v1/claims/")["Cache-Control"] == "public, max-age=300"


def test_editors_responses_are_private_and_not_stored(editor_client: Client, claim: Claim) -> None:
    for url in reader_urls(claim):
        response = editor_client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "private, no-store", url


def test_token_holders_responses_are_private_and_not_stored(claim: Claim, editor: User) -> None:
    _, key = ApiToken.issue(name="Newsroom", user=None, created_by=editor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    response = client.get("/api/v1/claims/")

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_errors_writes_exports_and_the_admin_get_no_public_caching(
    client: Client, editor_client: Client, claim: Claim
) -> None:
    assert not client.get("/api/v1/claims/999999/").has_header("ETag")
    assert not client.post("/api/v1/claims/", {}).has_header("ETag")
    assert not client.get("/api/v1/claims.csv").has_header("ETag")
    admin = editor_client.get("/admin/claims/claim/")
    assert admin.status_code == 200
    assert "public" not in admin["Cache-Control"]
    assert "no-store" in admin["Cache-Control"] or "no-cache" in admin["Cache-Control"]


def test_every_response_carries_a_strict_content_security_policy(
    client: Client, editor_client: Client, claim: Claim
) -> None:
    for response in (
        client.get("/"),
        client.get(f"/claims/{claim.pk}/"),
        client.get("/api/v1/claims/"),
        client.get("/api/docs/"),
        editor_client.get("/admin/claims/claim/add/"),
    ):
        policy = response["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy


def test_a_head_request_gives_the_etag_a_get_would(client: Client, claim: Claim) -> None:
    for url in reader_urls(claim):
        head = client.head(url)
        assert head.status_code == 200, url
        assert head["ETag"] == client.get(url)["ETag"], url


@pytest.mark.parametrize("url", ["/api/v1/claims.csv", "/api/v1/claims.ndjson"])
def test_an_editors_export_with_its_drafts_is_never_stored_by_a_shared_cache(
    editor_client: Client, claim: Claim, url: str
) -> None:
    ClaimFactory(state="draft")
    editors = editor_client.get(url)
    anonymous = Client().get(url)

    assert editors["Cache-Control"] == "private, no-store"
    assert "Cookie" in editors["Vary"]
    assert "Authorization" in editors["Vary"]
    # An anonymous reader's copy is public data; the Vary keeps it apart from editors'.
    assert not anonymous.has_header("Cache-Control")
    assert "Cookie" in anonymous["Vary"]
