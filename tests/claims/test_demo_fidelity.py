"""The demo says what its article says and no more (claims/demo/seed_article.json).

The article is in the shared folder beside the project (../shared/seed/); these tests skip
where it is absent, and CI always has it.
"""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claims.demo import DEMO_FILE
from sources.dates import edtf_bounds, to_edtf

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed"
DEMO = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
QUOTE_MARKS = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
MONTHS = r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b\.?"
SOURCES = {row["key"]: row for row in DEMO["sources"]}
# The article itself: the source whose snapshot the demo ships.
ARTICLE = DEMO["snapshots"][0]["source"]
LEAK = next(key for key, row in SOURCES.items() if row["kind"] == "leaked_document")
# What a citation's reliability note says when the article names no source for the claim.
NO_SOURCE = "the article gives no source"


def normalised(text: str) -> str:
    """Only whitespace and the kind of quote marks are set aside."""
    return " ".join(text.translate(QUOTE_MARKS).split())


@pytest.fixture(scope="module")
def article_text() -> str:
    files = sorted(SEED.glob("*.txt"))
    if not files:
        pytest.skip("the demo's article (../shared/seed/) is not beside this checkout")
    return files[0].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def article(article_text: str) -> str:
    return normalised(article_text)


@pytest.fixture(scope="module")
def quoted_passages(article_text: str) -> list[str]:
    """What the article puts in (outermost) double quotation marks: the words it gives as
    someone else's."""
    passages, depth, start = [], 0, 0
    for position, char in enumerate(article_text):
        if char == "\u201c":
            depth += 1
            if depth == 1:
                start = position + 1
        elif char == "\u201d":
            depth -= 1
            if depth == 0:
                passages.append(normalised(article_text[start:position]))
    assert depth == 0, "the article's quotation marks do not pair up"
    return passages


def quotes() -> Iterator[tuple[str, str]]:
    for claim in DEMO["claims"]:
        for citation in claim["citations"]:
            if citation.get("quote"):
                yield claim["key"], citation["quote"]


def citations() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for claim in DEMO["claims"]:
        for citation in claim["citations"]:
            yield claim, citation


def where(claim: dict[str, Any], citation: dict[str, Any]) -> str:
    return f"{claim['key']}: {citation['source']} ({citation['role']})"


def based_on(key: str) -> list[str]:
    return [link["source"] for link in SOURCES[key].get("based_on", [])]


def origin(citation: dict[str, Any]) -> str:
    """Where the claim came from, as recorded: the end of the path, else the cited source."""
    return citation["path"][-1] if citation.get("path") else citation["source"]


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


def test_only_the_article_is_quoted_in_its_own_words(quoted_passages: list[str]) -> None:
    """A speech, report or document is quoted only in the words the article puts in
    quotation marks as its own, never with the article's words around them ("Xi said,
    adding", "the script said")."""
    for claim, citation in citations():
        if citation["source"] != ARTICLE and citation.get("quote"):
            quote = normalised(citation["quote"])
            assert any(quote in passage for passage in quoted_passages), where(claim, citation)


def test_an_attributed_claim_leaves_the_articles_attribution_out() -> None:
    for claim in DEMO["claims"]:
        if claim.get("claimant") or claim.get("claimant_source"):
            attribution = re.search(r"\b(said|adding|according to|reported)\b", claim["text"])
            assert attribution is None, claim["key"]


def test_only_primary_sources_and_the_articles_own_words_go_without_a_path() -> None:
    """A citation of a secondary source that is based on others records the path the
    claim took; without one, its note says the article gives no source for the claim
    (and only the article itself can be cited so)."""
    for claim, citation in citations():
        source = SOURCES[citation["source"]]
        says_none = NO_SOURCE in citation["reliability_note"].lower()
        if citation.get("path"):
            assert not says_none, where(claim, citation)
        elif not source["is_primary"] and source.get("based_on"):
            assert says_none, where(claim, citation)
        if says_none:
            assert citation["source"] == ARTICLE, where(claim, citation)


def test_every_path_follows_provenance_links_to_where_the_article_leaves_the_claim() -> None:
    """Each step is a source the one before it is based on, none twice, and the path does
    not stop at a secondary source that is itself based on others: it names the whole
    route, as far as the article gives it."""
    for claim, citation in citations():
        path = citation.get("path", [])
        at = citation["source"]
        for step in path:
            assert step in based_on(at), f"{where(claim, citation)}: {at} -> {step}"
            at = step
        assert len({citation["source"], *path}) == len(path) + 1, where(claim, citation)
        end = SOURCES[origin(citation)]
        if path:
            assert end["is_primary"] or not end.get("based_on"), where(claim, citation)


def test_xis_speeches_are_on_the_paths_of_his_quoted_words_only() -> None:
    """The article ties the speeches to Xi's words it quotes, not to what else the
    documents say (the investigations, the jailed official, Wang Yongzhi): those claims
    reach the documents and stop there."""
    speeches = next(
        key
        for key, row in SOURCES.items()
        if row["kind"] == "speech" and row.get("authors") == ["xi"]
    )
    reaching = {
        claim["key"]
        for claim, citation in citations()
        if speeches in (citation["source"], *citation.get("path", []))
    }
    quoted = {claim["key"] for claim in DEMO["claims"] if claim.get("claimant") == "xi"}
    assert reaching == quoted
    for claim in DEMO["claims"]:
        if claim["key"] in quoted:
            paths = {citation["source"]: citation.get("path") for citation in claim["citations"]}
            assert paths == {
                ARTICLE: ["nyt_report", LEAK, speeches],
                "nyt_report": [LEAK, speeches],
            }


def test_what_the_documents_say_is_attributed_to_the_documents() -> None:
    """Where the article says "the documents show" or "an internal document said", the
    claimant is the documents, not the government whose documents they are, nor the
    newspaper that reported them."""
    for claim, citation in citations():
        if citation["role"] != "appearance":
            continue
        if re.search(r"\bdocuments?\b", citation.get("quote", ""), re.I):
            assert origin(citation) == LEAK, where(claim, citation)
        if origin(citation) == LEAK:
            assert claim.get("claimant_source") == LEAK, claim["key"]
            assert "claimant" not in claim, claim["key"]


def test_an_unsupported_claim_cites_nothing_but_where_it_appears() -> None:
    """A claim rated unsupported has nothing cited that gives evidence for it: every
    citation comes from where the claim appears, and none supports or disputes it."""
    unsupported = [claim for claim in DEMO["claims"] if claim.get("rating") == "unsupported"]
    assert unsupported
    for claim in unsupported:
        roles = {citation["role"] for citation in claim["citations"]}
        appears = {origin(c) for c in claim["citations"] if c["role"] == "appearance"}
        assert roles <= {"appearance", "context"}, claim["key"]
        assert {origin(citation) for citation in claim["citations"]} == appears, claim["key"]
