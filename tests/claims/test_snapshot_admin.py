"""Editors add snapshots to a source in the admin; they are shown, never changed there."""

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from claims.models import QuoteCheck
from sources.admin import SnapshotUploadInline
from sources.models import Snapshot, Source
from sources.quotes import QuoteOutcome
from tests.factories import CitationFactory, SourceFactory, UserFactory
from tests.sources.test_snapshots import (
    DIVS_100000_DEEP,
    NESTED_5000_DEEP,
    NUL_IN_TEXT,
    pdf_with_text,
    stored_files,
    zip_bomb_pdf,
)
from tests.test_concurrent_writes import other_session

pytestmark = pytest.mark.django_db


def change_form(page: Any, **overrides: Any) -> dict[str, Any]:
    """What a browser sends back from an admin change page as it was shown, with overrides:
    the main form's values and every inline's management form and rows."""
    data: dict[str, Any] = {}
    form = page.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = [str(v) for v in value] if isinstance(value, list) else value
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[f"{formset.prefix}-{name}"] = formset.management_form[name].value()
        for row in formset.initial_forms:
            for name in row.fields:
                value = row[name].value()
                if value not in (None, False):
                    data[row.add_prefix(name)] = value
    data.update(overrides)
    return data


def upload_prefix(page: Any) -> str:
    return next(
        inline.formset.prefix
        for inline in page.context["inline_admin_formsets"]
        if isinstance(inline.opts, SnapshotUploadInline)
    )


def upload(client: Client, source: Source, file: SimpleUploadedFile, **fields: Any) -> Any:
    """Add a snapshot on the source's admin page as an editor does: the page as shown, the
    file and its capture time in the upload row, and any other changes to the source."""
    url = f"/admin/sources/source/{source.pk}/change/"
    page = client.get(url)
    prefix = upload_prefix(page)
    upload_row = {
        f"{prefix}-0-file": file,
        f"{prefix}-0-captured_at_0": "2019-09-26",
        f"{prefix}-0-captured_at_1": "14:30:00",
    }
    return client.post(url, change_form(page, **fields, **upload_row))


def test_an_editor_uploads_a_pdf_and_sees_a_misquote_flagged_with_the_closest_passage(
    editor_client: Client,
) -> None:
    source = SourceFactory()
    right = CitationFactory(source=source, quote="Forced labor on a massive scale,")
    wrong = CitationFactory(
        source=source, role="context", quote="Voluntary training on a small scale."
    )
    pdf = pdf_with_text("Forced labor on a massive scale,", "the report says.")

    response = upload(
        editor_client, source, SimpleUploadedFile("report.pdf", pdf, "application/pdf")
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    snapshot = Snapshot.objects.get(source=source)
    assert snapshot.media_type == "application/pdf"
    assert snapshot.created_by is not None
    assert QuoteCheck.objects.get(citation=right).outcome == QuoteOutcome.EXACT
    flagged = QuoteCheck.objects.get(citation=wrong)
    assert flagged.outcome == QuoteOutcome.NOT_FOUND
    assert flagged.exact  # the closest passage
    # The editor is told what the check found, and each citation's row says it.
    told = editor_client.get(response.url).content.decode()
    assert "Snapshot added. 2 quotes checked: 1 found as quoted, 1 not found." in told
    citations_page = editor_client.get("/admin/claims/citation/").content.decode()
    assert "Found as quoted" in citations_page
    assert "Not found (closest passage scores" in citations_page
    claim_admin = editor_client.get(f"/admin/claims/claim/{wrong.claim_id}/change/")
    assert "Not found (closest passage scores" in claim_admin.content.decode()
    # The source's page lists it, read-only, with its file to download (never shown as a
    # page of this site).
    shown = editor_client.get(f"/admin/sources/source/{source.pk}/change/").content.decode()
    assert snapshot.sha256 in shown
    download = f"/admin/sources/source/{source.pk}/snapshots/{snapshot.pk}/"
    assert download in shown
    response = editor_client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Security-Policy"] == "sandbox"
    assert Client().get(download).status_code == 302  # to the login page
    clerk = UserFactory(is_staff=True)  # staff, but not allowed to see snapshots
    outsider = Client()
    outsider.force_login(clerk)
    assert outsider.get(download).status_code == 403
    claim_page = editor_client.get(f"/claims/{wrong.claim_id}/preview/").content.decode()
    assert "Not found in the snapshot of 26 September 2019" in claim_page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "Only HTML pages, PDF files and UTF-8 text"),
        (b"a" * (11 * 1024 * 1024), "a snapshot can be at most 10.0"),
    ],
)
def test_a_file_that_cannot_be_a_snapshot_is_an_error_on_the_form_and_nothing_is_stored(
    editor_client: Client, data: bytes, message: str
) -> None:
    source = SourceFactory(title="Before")

    response = upload(editor_client, source, SimpleUploadedFile("upload.bin", data), title="After")

    assert response.status_code == 200
    assert message in response.content.decode().replace("&nbsp;", "\xa0")
    assert not Snapshot.objects.exists()
    assert Source.objects.get(pk=source.pk).title == "Before"  # the whole save is refused


def test_the_same_file_twice_is_refused_with_a_reason(editor_client: Client) -> None:
    source = SourceFactory()
    for _ in range(2):
        response = upload(editor_client, source, SimpleUploadedFile("a.txt", b"The same words."))
    assert response.status_code == 200
    assert "This source already has a snapshot with this content." in response.content.decode()
    assert Snapshot.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (NESTED_5000_DEEP, "its parts are nested too deeply to be read."),
        (zip_bomb_pdf(), "its compressed parts unpack to far more data than a snapshot can hold."),
        (DIVS_100000_DEEP, "reading it took longer than 1 second."),
    ],
    ids=["operands nested 5,000 deep", "200 MB FlateDecode bomb", "100,000 nested divs"],
)
def test_a_file_built_to_break_the_parser_is_an_error_in_words_and_nothing_is_stored(
    settings: Any, editor_client: Client, data: bytes, reason: str
) -> None:
    # Time to spare but for the slow page, so a busy machine cannot blur the reason.
    settings.SNAPSHOT_READ_SECONDS = 1 if data is DIVS_100000_DEEP else 20
    source = SourceFactory(title="Before")

    response = upload(editor_client, source, SimpleUploadedFile("hostile", data), title="After")

    assert response.status_code == 200
    assert f"Could not read this file: {reason}" in response.content.decode()
    assert not Snapshot.objects.exists()
    assert Source.objects.get(pk=source.pk).title == "Before"
    assert stored_files(settings) == []


def test_a_pdf_whose_text_holds_a_nul_is_added_without_it(
    settings: Any, editor_client: Client
) -> None:
    source = SourceFactory()

    response = upload(editor_client, source, SimpleUploadedFile("nul.pdf", NUL_IN_TEXT))

    assert response.status_code == 302
    snapshot = Snapshot.objects.get()
    assert snapshot.text == "BeforeAfter"
    assert stored_files(settings) == [snapshot.file.name]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite takes one writer at a time")
def test_a_save_tried_again_after_a_write_conflict_leaves_one_file_the_snapshots(
    settings: Any, editor_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DATABASE_LOCK_WAIT_SECONDS = 0.2
    source = SourceFactory()
    cited = CitationFactory(source=source, quote="the words")

    with other_session() as other:
        # Another editor's save holds the citation the upload's quote check writes: the
        # first try fails once its file is stored; the other save is done before the next.
        other.execute("SELECT id FROM claims_citation WHERE id = %s FOR UPDATE", [cited.pk])
        monkeypatch.setattr("sources.admin.pause_before_retry", lambda attempt: other.rollback())
        response = upload(editor_client, source, SimpleUploadedFile("a.txt", b"Here the words."))

    assert response.status_code == 302
    snapshot = Snapshot.objects.get()
    assert stored_files(settings) == [snapshot.file.name]
    with snapshot.file.open("rb") as file:
        assert file.read() == b"Here the words."
    assert QuoteCheck.objects.get(citation=cited).outcome == QuoteOutcome.EXACT
