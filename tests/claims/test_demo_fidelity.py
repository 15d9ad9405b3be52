"""The demo says what its article says and no more (claims/demo/seed_article.json).

The article is in the shared folder beside the project (../shared/seed/); these tests skip
where it is absent, and CI always has it.
"""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from claims.demo import DEMO_FILE
from sources.dates import edtf_bounds, to_edtf

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed"
DEMO = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
QUOTE_MARKS = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
MONTHS = r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b\.?"


def normalised(text: str) -> str:
    """Only whitespace and the kind of quote marks are set aside."""
    return " ".join(text.translate(QUOTE_MARKS).split())


@pytest.fixture(scope="module")
def article() -> str:
    files = sorted(SEED.glob("*.txt"))
    if not files:
        pytest.skip("the demo's article (../shared/seed/) is not beside this checkout")
    return normalised(files[0].read_text(encoding="utf-8"))


def quotes() -> Iterator[tuple[str, str]]:
    for claim in DEMO["claims"]:
        for citation in claim["citations"]:
            if citation.get("quote"):
                yield claim["key"], citation["quote"]


def dates() -> Iterator[tuple[str, str, str]]:
    """(where, wording, EDTF value or "" when it is derived from the wording)."""
    for kind, prefixes in (("claims", ("made", "event")), ("sources", ("published",))):
        for row in DEMO[kind]:
            for prefix in prefixes:
                if text := row.get(f"{prefix}_text", ""):
                    where = f"{row['key']}.{prefix}"
                    yield where, text, row.get(f"{prefix}_edtf", "")


@pytest.mark.parametrize(("claim", "quote"), list(quotes()))
def test_every_citation_quote_is_verbatim_in_the_article(
    article: str, claim: str, quote: str
) -> None:
    assert normalised(quote) in article, claim


def test_every_claim_quoting_the_article_quotes_its_words(article: str) -> None:
    """A claim's text that quotes words ("...") quotes each fragment verbatim."""
    for claim in DEMO["claims"]:
        for fragment in re.findall(r"\u201c(.+?)\u201d", claim["text"]):
            assert normalised(fragment) in article, claim["key"]


@pytest.mark.parametrize(("where", "wording", "value"), list(dates()))
def test_no_demo_date_is_more_precise_than_its_wording(
    article: str, where: str, wording: str, value: str
) -> None:
    # The wording is the article's own ...
    assert normalised(wording).lower() in article.lower(), where
    value = value or to_edtf(wording)
    edtf_bounds(value)  # a valid EDTF value
    words = wording.lower()
    says_year = re.search(r"\b\d{4}\b", words) is not None
    says_month = re.search(MONTHS, words) is not None
    says_day = says_month and re.search(r"\b\d{1,2}\b", words) is not None
    for _year, qualifier, month, day in re.findall(
        r"(\d{4})([?~%]?)(?:-(\d{2}))?(?:-(\d{2}))?", value
    ):
        # ... a year it does not give is inferred, and marked uncertain ...
        assert says_year or qualifier in ("?", "%"), f"{where}: {value} states a year"
        # ... and no month or day it does not give.
        assert not month or int(month) > 12 or says_month, f"{where}: {value} states a month"
        assert not day or says_day, f"{where}: {value} states a day"


def test_an_inferred_year_is_marked_the_same_way_everywhere() -> None:
    values = {where: value for where, wording, value in dates() if not re.search(r"\d{4}", wording)}
    assert values  # the article gives days and months without years
    assert all("?" in value for value in values.values()), values


def test_the_demo_snapshot_is_the_article_as_it_stands() -> None:
    files = sorted(SEED.glob("*.txt"))
    if not files:
        pytest.skip("the demo's article (../shared/seed/) is not beside this checkout")
    shipped = DEMO_FILE.parent / DEMO["snapshots"][0]["file"]
    assert shipped.read_bytes() == files[0].read_bytes()
