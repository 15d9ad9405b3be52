"""Snapshots through the API: editors upload one, anyone lists them."""

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from claims.models import QuoteCheck
from sources.models import Snapshot
from tests.factories import CitationFactory, ClaimFactory, SourceFactory, UserFactory
from tests.sources.test_snapshots import (
    DIVS_100000_DEEP,
    NESTED_5000_DEEP,
    NUL_IN_TEXT,
    pdf_mapping_a_to,
    stored_files,
    zip_bomb_pdf,
)
from tests.test_concurrent_writes import held

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
        "fetched_from": "",
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


def test_hostile_files_are_stored_cleaned_or_refused_in_words_never_a_500_nor_a_stray_file(
    settings: Any, editor_api: APIClient
) -> None:
    source = SourceFactory()
    read = [NUL_IN_TEXT, pdf_mapping_a_to("0000"), pdf_mapping_a_to("D800")]
    # Each with time to spare but the slow page, so a busy machine cannot blur the reason.
    refused = {
        NESTED_5000_DEEP: ("its parts are nested too deeply to be read.", 20),
        zip_bomb_pdf(): (
            "its compressed parts unpack to far more data than a snapshot can hold.",
            20,
        ),
        DIVS_100000_DEEP: ("reading it took longer than 1 second.", 1),
    }

    for data in read:
        assert upload(editor_api, source.pk, data, "hostile.pdf").status_code == 201
    for data, (reason, seconds) in refused.items():
        settings.SNAPSHOT_READ_SECONDS = seconds
        response = upload(editor_api, source.pk, data, "hostile.pdf")
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert error["attr"] == "file"
        assert error["detail"].startswith(f"Could not read this file: {reason}")

    assert sorted(s.text for s in Snapshot.objects.all()) == ["BB", "BeforeAfter", "\ufffdB\ufffdB"]
    assert stored_files(settings) == sorted(s.file.name for s in Snapshot.objects.all())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite takes one writer at a time")
def test_an_upload_whose_write_fails_removes_its_file_but_not_one_another_source_uses(
    settings: Any, editor_api: APIClient
) -> None:
    settings.DATABASE_LOCK_WAIT_SECONDS = 0.2
    words = b"The same words, read for two sources."
    first, second = SourceFactory(), SourceFactory()
    assert upload(editor_api, first.pk, words, "page.txt").status_code == 201
    cited = CitationFactory(source=second, quote="the same words")

    # Another editor's save holds the citation its quote check writes: the upload's
    # write fails after its file (the first source's, by its name) is stored.
    with held("claims_citation", cited.pk):
        response = upload(editor_api, second.pk, words, "page.txt")

    assert response.status_code == 409
    kept = Snapshot.objects.get()
    assert kept.source == first
    assert stored_files(settings) == [kept.file.name]
    with kept.file.open("rb") as file:
        assert file.read() == words
    # Once the other save is done, the upload goes in; both snapshots name the one file.
    assert upload(editor_api, second.pk, words, "page.txt").status_code == 201
    assert {s.file.name for s in Snapshot.objects.all()} == {kept.file.name}
    assert stored_files(settings) == [kept.file.name]
