"""Snapshots of sources: what an editor read, kept as it was, and its text.

A snapshot is an HTML page, a PDF or plain text. Its type is read from its bytes, never
from the name or the type a browser claims; its text is extracted once, when it is added:
the main text of an HTML page (selectolax's lexbor parser: scripts, styles, navigation, headers and
footers left out), the text layer of a PDF (pypdf), or the text itself. Limits and
failures are errors about the file, in words an editor can act on.
"""

import hashlib
import io
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from sources.models import SnapshotType

HTML, PDF, TEXT = SnapshotType.HTML.value, SnapshotType.PDF.value, SnapshotType.TEXT.value
# The name a stored file ends with, by its type.
EXTENSIONS = {HTML: "html", PDF: "pdf", TEXT: "txt"}

# Elements whose text is not the page's content.
NOT_CONTENT = "script, style, noscript, template, nav, header, footer, aside, form, svg"
# Elements that end a line of text (inline ones, such as <b> or <a>, run on).
LINE_ENDS = (
    "p, h1, h2, h3, h4, h5, h6, li, blockquote, pre, td, th, dd, dt, figcaption, caption, "
    "div, section, article, br, tr, hr"
)


@dataclass(frozen=True)
class Reading:
    """What a snapshot's bytes are: their type, digest, size and text."""

    media_type: str
    sha256: str
    size: int
    text: str

    @property
    def file_name(self) -> str:
        """Where it is stored, named by its content: `<digest>.<extension>`."""
        return f"{self.sha256[:32]}.{EXTENSIONS[self.media_type]}"


def read_snapshot(data: bytes) -> Reading:
    """The file's type, SHA-256, size and text, or a ValidationError saying what is wrong."""
    check_size(len(data))
    if not data.strip():
        raise ValidationError("This file is empty.", code="empty")
    media_type = sniff(data)
    text = {HTML: html_text, PDF: pdf_text, TEXT: plain_text}[media_type](data)
    if not text.strip():
        raise ValidationError(
            "No text could be read from this file (a scanned PDF has only images of its "
            "text). Add a copy with a text layer, or the text itself.",
            code="no_text",
        )
    # NFKC, as quotes are compared (sources.quotes): a PDF's ligatures (ﬁ) and decomposed
    # accents read as typed.
    text = unicodedata.normalize("NFKC", text)
    return Reading(media_type, hashlib.sha256(data).hexdigest(), len(data), text)


def check_size(size: int) -> None:
    """A ValidationError when a file of `size` bytes is over SNAPSHOT_MAX_BYTES."""
    limit = settings.SNAPSHOT_MAX_BYTES
    if size > limit:
        raise ValidationError(
            f"This file is {filesizeformat(size)}; a snapshot can be at most "
            f"{filesizeformat(limit)}. Save the page as text or PDF, or keep only the part "
            "that is cited.",
            code="too_large",
        )


def sniff(data: bytes) -> str:
    """HTML, PDF or plain text, from the bytes; anything else is refused."""
    if data.startswith(b"%PDF-"):
        return PDF
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in head:
        return HTML
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(
            "Only HTML pages, PDF files and UTF-8 text can be snapshots; this file is none "
            "of them.",
            code="unsupported_type",
        ) from None
    if b"\x00" in data:
        raise ValidationError("This file holds binary data, not text.", code="unsupported_type")
    return TEXT


def plain_text(data: bytes) -> str:
    return data.decode("utf-8").removeprefix("\ufeff")


def html_text(data: bytes) -> str:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(data)
    for node in tree.css(NOT_CONTENT):
        node.decompose()
    for node in tree.css(LINE_ENDS):
        node.insert_after("\x00")  # the parser turns any NUL of the page into U+FFFD
    root = tree.css_first("main") or tree.css_first("article") or tree.body or tree.root
    if root is None:
        return ""
    # As a browser shows it: runs of white space are one space, blocks end lines.
    lines = (" ".join(line.split()) for line in root.text(separator="").split("\x00"))
    return "\n".join(line for line in lines if line)


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ValidationError(
                "This PDF is encrypted; add a copy without a password.", code="encrypted"
            )
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise ValidationError(
            "This PDF could not be read; it may be damaged. Save it again or add its text.",
            code="unreadable",
        ) from error
