"""Source snapshots: stored once through the storage API, read once, never changed."""

import hashlib
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, transaction

from sources.models import Snapshot
from sources.services import add_snapshot
from sources.snapshots import read_snapshot
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db

READ_AT = datetime(2019, 9, 26, 14, 30, tzinfo=UTC)


def pdf_with_text(*lines: str) -> bytes:
    """A real one-page PDF with a text layer, written by hand (PDF 1.4, Helvetica)."""
    text = " ".join(f"({line}) Tj 0 -16 Td" for line in lines)
    return pdf(f"BT /F1 12 Tf 72 720 Td {text} ET".encode("latin-1"))


def pdf(
    content: bytes, *, font: bytes = b"", more: tuple[bytes, ...] = (), stream: bytes = b""
) -> bytes:
    """A one-page PDF written by hand (PDF 1.4, Helvetica), its page's content stream as
    given: `font`, more of the font's dictionary; `more`, objects from number 6 on;
    `stream`, more of the content stream's dictionary (a /Filter)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica " + font + b" >>",
        b"<< /Length %d %s >>\nstream\n" % (len(content), stream) + content + b"\nendstream",
        *more,
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


def pdf_mapping_a_to(code: str) -> bytes:
    """A PDF showing "ABAB" in a font whose ToUnicode map reads A as UTF-16 `code`."""
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Hostile "
        b"def 1 begincodespacerange <00> <FF> endcodespacerange 2 beginbfchar <41> <%s> "
        b"<42> <0042> endbfchar endcmap CMapName currentdict /CMap defineresource pop end end"
        % code.encode()
    )
    to_unicode = b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream"
    return pdf(b"BT /F1 12 Tf 72 720 Td (ABAB) Tj ET", font=b"/ToUnicode 6 0 R", more=(to_unicode,))


def zip_bomb_pdf(unpacked: int = 200 * 1024 * 1024) -> bytes:
    """A PDF whose content stream is a few hundred kB of FlateDecode that unpacks to
    `unpacked` bytes (white space after one line of text)."""
    packer = zlib.compressobj(9)
    content = packer.compress(b"BT /F1 12 Tf 72 720 Td (Bomb) Tj ET ")
    chunk = b" " * (1024 * 1024)
    for _ in range(unpacked // len(chunk)):
        content += packer.compress(chunk)
    return pdf(content + packer.flush(), stream=b"/Filter /FlateDecode")


# Files built to break a parser, as an attacker-style review sent them: each is either
# read (its text cleaned) or refused in words, never an error of the server.
NUL_IN_TEXT = pdf(b"BT /F1 12 Tf 72 720 Td (Before\\000After) Tj ET")
NESTED_5000_DEEP = pdf(b"BT /F1 12 Tf 72 720 Td " + b"[" * 5000 + b"]" * 5000 + b" (x) Tj ET")
DIVS_100000_DEEP = (
    b"<html><body>" + b"<div>" * 100_000 + b"x" + b"</div>" * 100_000 + b"</body></html>"
)


def stored_files(settings: Any) -> list[str]:
    """Every file in the storage (MEDIA_ROOT), as names relative to it."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


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
        (
            b"%PDF-1.4\nnot really a pdf",
            "Could not read this file: it is not a PDF that can be read",
        ),
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


@pytest.mark.parametrize(
    ("data", "read"),
    [
        (NUL_IN_TEXT, "BeforeAfter"),  # (a\000b) Tj: PostgreSQL refuses a NUL in text
        (pdf_mapping_a_to("0000"), "BB"),  # a font whose letter reads as U+0000
        (pdf_mapping_a_to("D800"), "\ufffdB\ufffdB"),  # as a lone surrogate: no UTF-8 for it
    ],
    ids=["NUL in a string", "ToUnicode to U+0000", "ToUnicode to U+D800"],
)
def test_a_pdfs_nul_is_dropped_and_a_lone_surrogate_replaced_so_it_is_stored(
    settings: Any, editor: Any, data: bytes, read: str
) -> None:
    snapshot = add_snapshot(
        source=SourceFactory(),
        upload=SimpleUploadedFile("hostile.pdf", data),
        captured_at=READ_AT,
        user=editor,
    )

    assert Snapshot.objects.get(pk=snapshot.pk).text == read
    assert stored_files(settings) == [snapshot.file.name]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (NESTED_5000_DEEP, "its parts are nested too deeply to be read."),
        (zip_bomb_pdf(), "its compressed parts unpack to far more data than a snapshot can hold."),
    ],
    ids=["operands nested 5,000 deep", "200 MB FlateDecode bomb"],
)
def test_a_pdf_built_to_break_the_parser_is_refused_in_words_and_nothing_is_stored(
    settings: Any, editor: Any, data: bytes, reason: str
) -> None:
    with pytest.raises(ValidationError) as error:
        add_snapshot(
            source=SourceFactory(),
            upload=SimpleUploadedFile("hostile.pdf", data),
            captured_at=READ_AT,
            user=editor,
        )

    assert error.value.messages[0].startswith(f"Could not read this file: {reason}")
    assert not Snapshot.objects.exists()
    assert stored_files(settings) == []


def test_a_page_taking_longer_than_the_time_bound_to_read_is_refused_in_words(
    settings: Any,
) -> None:
    settings.SNAPSHOT_READ_SECONDS = 1  # 100,000 nested <div> take the parser a minute

    with pytest.raises(ValidationError) as error:
        read_snapshot(DIVS_100000_DEEP)

    assert error.value.messages == [
        "Could not read this file: reading it took longer than 1 second. Save it again as "
        "text or PDF, or keep only the part that is cited."
    ]


def test_a_file_needing_more_memory_than_the_bound_to_read_is_refused_in_words(
    settings: Any,
) -> None:
    settings.SNAPSHOT_READ_MEMORY_BYTES = 64 * 1024 * 1024
    # 3 MB of U+FDFA, a ligature of 18 letters in Unicode NFKC: over 50 million characters.
    swelling = "\ufdfa".encode() * 1_000_000

    with pytest.raises(ValidationError) as error:
        read_snapshot(swelling)

    assert error.value.messages == [
        "Could not read this file: reading it would need more than 64.0\xa0MB of memory. Save "
        "it again as text or PDF, or keep only the part that is cited."
    ]


def test_a_text_longer_than_a_snapshot_holds_once_read_is_refused_in_words(
    settings: Any,
) -> None:
    settings.SNAPSHOT_MAX_BYTES = 3000
    swelling = "\ufdfa".encode() * 900  # 2,700 bytes; 16,200 characters once read

    with pytest.raises(ValidationError) as error:
        read_snapshot(swelling)

    assert error.value.messages == [
        "Could not read this file: its text is longer than a snapshot can hold. Keep only the "
        "part that is cited."
    ]
