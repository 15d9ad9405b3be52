"""Source snapshots: stored once through the storage API, read once, never changed."""

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, transaction

from claims.services import add_snapshot
from sources.models import Snapshot
from sources.snapshots import read_snapshot
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db

READ_AT = datetime(2019, 9, 26, 14, 30, tzinfo=UTC)


def pdf_with_text(*lines: str) -> bytes:
    """A real one-page PDF with a text layer, written by hand (PDF 1.4, Helvetica)."""
    text = " ".join(f"({line}) Tj 0 -16 Td" for line in lines)
    stream = f"BT /F1 12 Tf 72 720 Td {text} ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_the_text_of_a_real_pdf_is_read() -> None:
    reading = read_snapshot(pdf_with_text("Forced labor on a massive scale,", "the report says."))

    assert reading.media_type == "application/pdf"
    assert "Forced labor on a massive scale," in reading.text
    assert "the report says." in reading.text


def test_an_html_page_gives_its_main_text_without_menus_or_scripts() -> None:
    page = (
        b"<!DOCTYPE html><html><head><title>T</title><script>var tracking = 1;</script>"
        b"<style>p { color: red }</style></head><body><nav>Home | World</nav>"
        b"<main><h1>Camps in Xinjiang</h1><p>More than <b>one million</b> people,\n"
        b"  the report says.</p><p>Second paragraph.</p></main>"
        b"<footer>Copyright</footer></body></html>"
    )
    reading = read_snapshot(page)

    assert reading.media_type == "text/html"
    assert reading.text == (
        "Camps in Xinjiang\nMore than one million people, the report says.\nSecond paragraph."
    )


def test_plain_text_is_kept_as_it_is() -> None:
    reading = read_snapshot("\ufeffLine one\n  «以严厉» naïve\n".encode())

    assert reading.media_type == "text/plain"
    assert reading.text == "Line one\n  «以严厉» naïve\n"
    assert (
        reading.sha256 == hashlib.sha256("\ufeffLine one\n  «以严厉» naïve\n".encode()).hexdigest()
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "Only HTML pages, PDF files and UTF-8 text"),
        (b"text\x00with a NUL", "binary data"),
        (b"   \n  ", "This file is empty."),
        (b"%PDF-1.4\nnot really a pdf", "This PDF could not be read"),
        (b"<html><body><script>only()</script></body></html>", "No text could be read"),
    ],
)
def test_files_that_are_not_snapshots_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(ValidationError) as error:
        read_snapshot(data)
    assert message in error.value.messages[0]


def test_a_20_mb_file_is_refused_before_it_is_read_and_nothing_is_stored(
    settings: Any, editor: Any
) -> None:
    source = SourceFactory()
    upload = SimpleUploadedFile("huge.txt", b"a" * (20 * 1024 * 1024), "text/plain")

    with pytest.raises(ValidationError) as error:
        add_snapshot(source=source, upload=upload, captured_at=READ_AT, user=editor)

    assert error.value.messages == [
        "This file is 20.0\xa0MB; a snapshot can be at most 10.0\xa0MB. Save the page as text "
        "or PDF, or keep only the part that is cited."
    ]
    assert not Snapshot.objects.exists()
    assert not (Path(settings.MEDIA_ROOT) / "snapshots").exists()


def test_a_snapshot_is_stored_through_the_storage_api_with_its_digest_and_text(
    settings: Any, editor: Any
) -> None:
    source = SourceFactory()
    data = pdf_with_text("The exact words.")

    snapshot = add_snapshot(
        source=source,
        upload=SimpleUploadedFile("report.pdf", data, "application/octet-stream"),
        captured_at=READ_AT,
        user=editor,
    )

    stored = Snapshot.objects.get()
    assert stored == snapshot
    assert (stored.media_type, stored.size, stored.created_by) == (
        "application/pdf",
        len(data),
        editor,
    )
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert "The exact words." in stored.text
    assert stored.captured_at == READ_AT
    assert stored.file.name.endswith(".pdf")
    with stored.file.open("rb") as kept:
        assert kept.read() == data
    assert Path(settings.MEDIA_ROOT, stored.file.name).is_file()


def test_the_same_content_twice_is_refused(editor: Any) -> None:
    source = SourceFactory()
    add_snapshot(
        source=source,
        upload=SimpleUploadedFile("a.txt", b"The words."),
        captured_at=READ_AT,
        user=editor,
    )

    with pytest.raises(ValidationError, match="already has a snapshot with this content"):
        add_snapshot(
            source=source,
            upload=SimpleUploadedFile("b.txt", b"The words."),
            captured_at=READ_AT,
            user=editor,
        )
    assert Snapshot.objects.count() == 1


def test_the_database_refuses_to_change_a_snapshot(editor: Any) -> None:
    snapshot = add_snapshot(
        source=SourceFactory(),
        upload=SimpleUploadedFile("a.txt", b"What was read."),
        captured_at=READ_AT,
        user=editor,
    )

    for change in (
        {"text": "What we wish it said."},
        {"sha256": "0" * 64},
        {"captured_at": READ_AT.replace(year=2020)},
    ):
        with (
            pytest.raises(DatabaseError, match="A snapshot is never changed"),
            transaction.atomic(),
        ):
            Snapshot.objects.filter(pk=snapshot.pk).update(**change)
    snapshot.text = "Edited"
    with pytest.raises(DatabaseError), transaction.atomic():
        snapshot.save()
    assert Snapshot.objects.get().text == "What was read."
    # Deleting its editor's account leaves the snapshot, without the name.
    editor.delete()
    assert Snapshot.objects.get().created_by is None
