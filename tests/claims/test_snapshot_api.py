"""Snapshots through the API: editors upload one, anyone lists them."""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from claims.models import QuoteCheck
from sources.models import Snapshot
from tests.factories import CitationFactory, ClaimFactory, SourceFactory, UserFactory

pytestmark = pytest.mark.django_db


def upload(client: APIClient, source_id: int, data: bytes, name: str = "page.html") -> object:
    return client.post(
        f"/api/v1/sources/{source_id}/snapshots/",
        {"file": SimpleUploadedFile(name, data), "captured_at": "2019-09-26T14:30:00Z"},
        format="multipart",
    )


def test_an_editor_uploads_a_page_and_its_quotes_are_checked_at_once(editor_api: APIClient) -> None:
    source = SourceFactory()
    citation = CitationFactory(
        claim=ClaimFactory(state="published"), source=source, quote="one million people"
    )
    page = b"<html><body><main><p>More than one million people, it says.</p></main></body></html>"

    response = upload(editor_api, source.pk, page)

    assert response.status_code == 201, response.content
    body = response.json()
    stored = Snapshot.objects.get()
    assert body == {
        "id": stored.pk,
        "source": source.pk,
        "captured_at": "2019-09-26T14:30:00Z",
        "media_type": "text/html",
        "sha256": stored.sha256,
        "size": len(page),
        "created_at": body["created_at"],
    }
    assert QuoteCheck.objects.get(citation=citation).outcome == "exact"
    listed = APIClient().get(f"/api/v1/sources/{source.pk}/snapshots/")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()] == [stored.pk]
    claim = APIClient().get(f"/api/v1/claims/{citation.claim_id}/").json()
    assert claim["citations"][0]["quote_check"]["outcome"] == "exact"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "Only HTML pages, PDF files and UTF-8 text"),
        (b"", "The submitted file is empty."),
        (b"a" * (20 * 1024 * 1024), "a snapshot can be at most 10.0"),
    ],
)
def test_a_file_that_cannot_be_a_snapshot_is_a_400_naming_the_file(
    editor_api: APIClient, data: bytes, message: str
) -> None:
    source = SourceFactory()

    response = upload(editor_api, source.pk, data)

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "file"
    assert message in response.json()["errors"][0]["detail"]
    assert not Snapshot.objects.exists()


def test_only_editors_upload(api_client: APIClient) -> None:
    source = SourceFactory()
    # Staff who may add and change sources, but not snapshots.
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_source", "change_source", "view_source"])
    )
    signed_in = APIClient()
    signed_in.force_authenticate(clerk)

    assert upload(api_client, source.pk, b"Some text.").status_code in (401, 403)
    refused = upload(signed_in, source.pk, b"Some text.")
    assert refused.status_code == 403
    assert "Only editors add snapshots." in refused.json()["errors"][0]["detail"]
    assert not Snapshot.objects.exists()
