"""The text of a snapshot's file, read in a child process under limits.

sources.snapshots runs this file as a script of its own (`python -I extraction.py <type>
<seconds> <memory bytes> <most characters>`, the file's bytes on stdin) so that a file
built to break a parser costs at most that time and memory, and a crash of the parser
(a C stack overflow, say) is the child's, never the web server's. It answers one JSON
object on stdout: {"text": ...}, or {"problem": ...} naming why there is none (PROBLEMS
in sources.snapshots says each in words).

It imports nothing of the project, nor Django: the child starts with no settings, no
database connection and no environment (no secret to leak to a parser's bug).
"""

import io
import json
import resource
import sys
import unicodedata

HTML, PDF, TEXT = "text/html", "application/pdf", "text/plain"

# Elements whose text is not the page's content.
NOT_CONTENT = "script, style, noscript, template, nav, header, footer, aside, form, svg"
# Elements that end a line of text (inline ones, such as <b> or <a>, run on).
LINE_ENDS = (
    "p, h1, h2, h3, h4, h5, h6, li, blockquote, pre, td, th, dd, dt, figcaption, caption, "
    "div, section, article, br, tr, hr"
)


class Problem(Exception):
    """A file whose text cannot be read, for a reason named by a key of PROBLEMS."""


def main(argv: list[str]) -> None:
    media_type, seconds, memory, most = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    # Past `seconds` of CPU the kernel stops the child (SIGXCPU, then SIGKILL); past
    # `memory` bytes an allocation fails (MemoryError, or the parser's own crash).
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    data = sys.stdin.buffer.read()
    answer: dict[str, object]
    try:
        answer = {"text": text_of(media_type, data, most)}
        if media_type == HTML:
            answer["metadata"] = html_metadata(data)
    except Problem as problem:
        answer = {"problem": str(problem)}
    except MemoryError:
        answer = {"problem": "memory"}
    except RecursionError:
        answer = {"problem": "too_deep"}
    except Exception as error:  # any parser's failure is the file's, said in words
        limit = type(error).__name__ == "LimitReachedError"  # pypdf's, on a zip bomb
        answer = {"problem": "too_large_unpacked" if limit else f"damaged_{media_type}"}
    sys.stdout.buffer.write(json.dumps(answer, ensure_ascii=False).encode())


def text_of(media_type: str, data: bytes, most: int) -> str:
    """The file's text, clean and in Unicode NFKC, at most `most` characters."""
    read = {HTML: html_text, PDF: pdf_text, TEXT: plain_text}[media_type]
    text = clean(read(data))
    if len(text) > most:
        raise Problem("too_much_text")
    # NFKC, as quotes are compared (sources.quotes): a PDF's ligatures (ﬁ) and decomposed
    # accents read as typed.
    text = unicodedata.normalize("NFKC", text)
    if len(text) > most:
        raise Problem("too_much_text")
    return text


def clean(text: str) -> str:
    """The text as a database keeps it: without NUL (PostgreSQL refuses it in text) and
    with each lone surrogate (a PDF's font may map a glyph to one; no encoding takes it)
    as U+FFFD. A surrogate pair is the character it stands for."""
    text = text.replace("\x00", "")
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


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


def html_metadata(data: bytes) -> dict[str, str]:
    """What the page says of itself (trafilatura, which reads its embedded metadata:
    Open Graph, JSON-LD, meta tags; htmldate for the date): title, authors, publication
    date (YYYY-MM-DD) and site name, where it says them. Suggestions for the editor, never
    written into a source by themselves; a page whose metadata cannot be read has none."""
    try:
        from trafilatura import extract_metadata

        found = extract_metadata(data.decode("utf-8", "replace"))
    except Exception:  # metadata is a courtesy: its failure is not the snapshot's
        return {}
    if found is None:
        return {}
    values = {
        "title": found.title,
        "authors": found.author,
        "published": found.date,
        "site_name": found.sitename,
    }
    return {
        key: clean(" ".join(str(value).split()))[:500] for key, value in values.items() if value
    }


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise Problem("encrypted")
    return "\n\n".join(page.extract_text() or "" for page in reader.pages)


if __name__ == "__main__":
    main(sys.argv[1:])
