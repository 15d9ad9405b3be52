"""Snapshots of sources: what an editor read, kept as it was, and its text.

A snapshot is an HTML page, a PDF or plain text. Its type is read from its bytes, never
from the name or the type a browser claims; its text is extracted once, when it is added:
the main text of an HTML page (selectolax's lexbor parser: scripts, styles, navigation,
headers and footers left out), the text layer of a PDF (pypdf), or the text itself.

Parsers are not trusted with an upload: the text is read in a child process
(sources.extraction) bounded by SNAPSHOT_READ_SECONDS and SNAPSHOT_READ_MEMORY_BYTES, and
whatever goes wrong there (a damaged or hostile file, a parser's bug or crash, the time or
memory running out) is an error about the file, in words an editor can act on.
"""

import hashlib
import json
import logging
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from sources.models import SnapshotType

HTML, PDF, TEXT = SnapshotType.HTML.value, SnapshotType.PDF.value, SnapshotType.TEXT.value
# The name a stored file ends with, by its type.
EXTENSIONS = {HTML: "html", PDF: "pdf", TEXT: "txt"}

EXTRACTION = Path(__file__).with_name("extraction.py")

# Why a file's text could not be read (sources.extraction's answers), in words.
PROBLEMS = {
    "encrypted": "it is an encrypted PDF. Add a copy without a password.",
    f"damaged_{PDF}": "it is not a PDF that can be read; it may be damaged. Save it again, "
    "or add its text.",
    f"damaged_{HTML}": "it could not be parsed as an HTML page; it may be too large or too "
    "deeply nested. Save the page as text or PDF, or keep only the part that is cited.",
    f"damaged_{TEXT}": "its text is not UTF-8 throughout.",
    "too_deep": "its parts are nested too deeply to be read. Save it again, or add its text.",
    "too_large_unpacked": "its compressed parts unpack to far more data than a snapshot can "
    "hold. Save it again, or add its text.",
    "too_much_text": "its text is longer than a snapshot can hold. Keep only the part that is "
    "cited.",
}

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reading:
    """What a snapshot's bytes are: their type, digest, size and text."""

    media_type: str
    sha256: str
    size: int
    text: str
    # What an HTML page says of itself: title, authors, published, site_name (suggestions).
    metadata: dict[str, str] = field(default_factory=dict)

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
    text, metadata = extract_text(media_type, data)
    if not text.strip():
        raise ValidationError(
            "No text could be read from this file (a scanned PDF has only images of its "
            "text). Add a copy with a text layer, or the text itself.",
            code="no_text",
        )
    return Reading(media_type, hashlib.sha256(data).hexdigest(), len(data), text, metadata)


def extract_text(media_type: str, data: bytes) -> tuple[str, dict[str, str]]:
    """The file's text, in Unicode NFKC, without NUL or lone surrogates, and what an HTML
    page says of itself (sources.extraction.html_metadata), read in a child process
    (sources.extraction) within SNAPSHOT_READ_SECONDS of time and
    SNAPSHOT_READ_MEMORY_BYTES of memory; a ValidationError in words when it cannot be."""
    seconds = settings.SNAPSHOT_READ_SECONDS
    memory = settings.SNAPSHOT_READ_MEMORY_BYTES
    # A snapshot's text is at most as many characters as its file may have bytes.
    most = settings.SNAPSHOT_MAX_BYTES
    limits = [str(seconds), str(memory), str(most)]
    try:
        done = subprocess.run(  # noqa: S603 (our own interpreter and script, no shell)
            [sys.executable, "-I", str(EXTRACTION), media_type, *limits],
            input=data,
            capture_output=True,
            timeout=seconds,
            env={},
            check=False,
        )
    except subprocess.TimeoutExpired:  # the child is killed
        raise too_slow(seconds) from None
    if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise too_slow(seconds)
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        # Killed by a signal (the parser crashed, or ran out of memory in its own code),
        # or an error in the child itself: the log says which.
        logger.warning(
            "Reading a %s snapshot stopped (exit %s): %s",
            media_type,
            done.returncode,
            done.stderr[-2000:].decode(errors="replace"),
        )
        raise unreadable(
            f"reading it stopped before the end; it may be damaged, or need more than "
            f"{filesizeformat(memory)} of memory to be read.",
            "stopped",
        ) from None
    if "problem" in answer:
        problem = answer["problem"]
        if problem == "memory":
            raise unreadable(
                f"reading it would need more than {filesizeformat(memory)} of memory. Save it "
                "again as text or PDF, or keep only the part that is cited.",
                problem,
            )
        raise unreadable(
            PROBLEMS.get(problem, "it may be damaged. Save it again, or add its text."), problem
        )
    text: str = answer["text"]
    metadata = answer.get("metadata") or {}
    return text, {str(key): str(value) for key, value in metadata.items()}


def unreadable(reason: str, code: str) -> ValidationError:
    return ValidationError(f"Could not read this file: {reason}", code=code)


def too_slow(seconds: int) -> ValidationError:
    return unreadable(
        f"reading it took longer than {seconds} second{'s' if seconds != 1 else ''}. Save it "
        "again as text or PDF, or keep only the part that is cited.",
        "too_slow",
    )


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


def split_authors(authors: str) -> list[str]:
    """The names in a page's author metadata ("A. Reporter; B. Writer")."""
    return [name.strip() for name in authors.replace(" and ", ";").split(";") if name.strip()]
