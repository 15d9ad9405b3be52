"""Quotes checked against their sources' snapshots: each outcome, and kept true by every write."""

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from claims.models import Citation, QuoteCheck
from claims.services import save_citation, save_claim
from sources.models import Snapshot, Source
from sources.quotes import CONTEXT, MAX_PLACES, QuoteOutcome, find_quote, word_places
from sources.services import add_snapshot
from tests.conftest import edit
from tests.factories import CitationFactory, ClaimFactory, EditorFactory, SourceFactory
from tests.forms import form_data

READ_AT = datetime(2019, 9, 26, 14, 30, tzinfo=UTC)

ARTICLE = (
    "BEIJING \u2014 The documents describe the camps\u2019 rules in detail.\n"
    "\u201cNever allow escapes,\u201d one of them says, and\n  another orders "
    "\u201cstrict management\u201d of the students\u2026 It was signed in 2017.\n"
)


def snapshot(
    source: Source, text: str, user: User | None = None, *, at: datetime = READ_AT
) -> Snapshot:
    upload = SimpleUploadedFile("page.txt", text.encode(), "text/plain")
    return add_snapshot(source=source, upload=upload, captured_at=at, user=user)


# The outcomes, on crafted text


def test_a_quote_as_it_stands_is_found_exactly_with_its_context() -> None:
    match = find_quote("Never allow escapes,", ARTICLE)

    assert match is not None
    assert match.outcome == QuoteOutcome.EXACT
    assert match.score == 100
    assert ARTICLE[match.start : match.end] == match.exact == "Never allow escapes,"
    assert match.prefix == ARTICLE[max(0, match.start - CONTEXT) : match.start]
    assert match.prefix.endswith("in detail.\n\u201c")
    assert match.suffix == ARTICLE[match.end : match.end + CONTEXT]
    assert match.suffix.startswith("\u201d one of them says, and\n")


@pytest.mark.parametrize(
    "quote",
    [
        '"Never allow escapes," one of them says',  # straight quotes for curly ones
        "one of them says, and another orders",  # a line break and spaces for one space
        "BEIJING - The documents describe the camps' rules",  # a hyphen for an em dash
        "of the students... It was signed",  # three dots for an ellipsis
    ],
)
def test_a_quote_differing_only_in_spaces_quote_marks_or_dashes_is_found_normalised(
    quote: str,
) -> None:
    match = find_quote(quote, ARTICLE)

    assert match is not None
    assert match.outcome == QuoteOutcome.NORMALISED
    assert match.score == 100
    assert match.exact == ARTICLE[match.start : match.end]
    assert match.exact.split()[-1] == quote.split()[-1].replace("'", "\u2019")


def test_a_slightly_misquoted_passage_is_close_with_its_score_and_the_real_words() -> None:
    match = find_quote("The documents describe the camp rules in detail.", ARTICLE)

    assert match is not None
    assert match.outcome == QuoteOutcome.CLOSE
    assert 90 <= match.score < 100
    assert "describe the camps\u2019 rules in detail" in match.exact


def test_a_misquote_is_not_found_and_the_closest_passage_is_given() -> None:
    match = find_quote("The documents describe the prisons\u2019 rules at some length.", ARTICLE)

    assert match is not None
    assert match.outcome == QuoteOutcome.NOT_FOUND
    assert match.score < 90
    assert "The documents describe the" in match.exact
    assert match.exact == ARTICLE[match.start : match.end]


def test_the_close_threshold_is_a_setting(settings: Any) -> None:
    settings.QUOTE_CLOSE_SCORE = 50

    match = find_quote("The documents describe the prisons\u2019 rules at some length.", ARTICLE)

    assert match is not None
    assert match.outcome == QuoteOutcome.CLOSE


def test_a_blank_quote_is_not_checked() -> None:
    assert find_quote("  \n", ARTICLE) is None


def test_naughty_strings_are_found_where_they_are_and_never_break_the_check(
    naughty_strings: list[str],
) -> None:
    for naughty in naughty_strings:
        text = f"Before the quote. {naughty} After the quote."
        found = find_quote(naughty, text)
        assert found is not None
        assert found.outcome in (QuoteOutcome.EXACT, QuoteOutcome.NORMALISED)
        assert found.exact == text[found.start : found.end]
        elsewhere = find_quote(naughty, ARTICLE)
        assert elsewhere is not None
        assert 0 <= elsewhere.start <= elsewhere.end <= len(ARTICLE)
        assert elsewhere.exact == ARTICLE[elsewhere.start : elsewhere.end]


# Bounded on long texts (how fast, the benchmarks measure: docs/performance.md)

TEN_MB = 10 * 1024 * 1024


def test_in_a_10_mb_text_a_quote_is_aligned_only_where_its_rarest_words_are() -> None:
    filler = "the report says that the camp is large and that the guards are many. "
    text = filler * (TEN_MB // len(filler)) + "Forced labour on a massive scale, it says."
    quote = "Forced labor on a massive scale, the report says"

    # "the", "report" and "says" are in the text half a million times; "Forced", "on",
    # "massive" and "scale" once: only those few places are looked at.
    places = word_places(quote, text)
    assert [text[at:].split()[0] for at in places] == ["Forced", "on", "massive", "scale,"]
    match = find_quote(quote, text)
    assert match is not None
    assert match.outcome == QuoteOutcome.NOT_FOUND
    assert match.exact.startswith("Forced labour on a massive scale")


def test_in_a_10_mb_text_of_the_quotes_own_words_at_most_max_places_are_looked_at() -> None:
    quote = "the camp guards report every escape"
    text = " ".join(quote.split()[i % 6] for i in range(TEN_MB // 6))

    assert len(word_places(quote, text)) == MAX_PLACES
    match = find_quote("the camp guards report every escape at night", text)
    assert match is not None
    assert match.exact.startswith("the camp guards report every escape")


# Kept true by every write

pytestmark = pytest.mark.django_db


def test_adding_a_snapshot_checks_the_sources_citations_in_the_same_transaction(
    editor: User,
) -> None:
    source = SourceFactory()
    found = CitationFactory(source=source, quote="Never allow escapes,")
    missing = CitationFactory(source=source, quote="Let them all go home.")
    blank = CitationFactory(source=source, quote="")
    assert not QuoteCheck.objects.exists()  # no snapshot yet: nothing to check against

    stored = snapshot(source, ARTICLE, editor)

    checks = {check.citation_id: check for check in QuoteCheck.objects.all()}
    assert set(checks) == {found.pk, missing.pk}
    assert checks[found.pk].outcome == QuoteOutcome.EXACT
    assert checks[found.pk].snapshot == stored
    assert checks[missing.pk].outcome == QuoteOutcome.NOT_FOUND
    assert blank.pk not in checks


def test_a_newer_snapshot_is_the_one_checked_against_and_an_older_one_is_not(
    editor: User,
) -> None:
    source = SourceFactory()
    citation = CitationFactory(source=source, quote="strict management")
    first = snapshot(source, ARTICLE, editor)
    edited = snapshot(
        source, "The page now says nothing of the sort.", editor, at=READ_AT + timedelta(days=3)
    )
    assert QuoteCheck.objects.get(citation=citation).snapshot == edited
    assert QuoteCheck.objects.get(citation=citation).outcome == QuoteOutcome.NOT_FOUND

    snapshot(source, ARTICLE + "\nAn older copy.", editor, at=READ_AT - timedelta(days=3))

    check = QuoteCheck.objects.get(citation=citation)
    assert check.snapshot == edited != first


NEW_QUOTE = "\u201cstrict management\u201d"


def _change_quote_in_the_admin_citation_page(client: Client, citation: Citation) -> None:
    url = f"/admin/claims/citation/{citation.pk}/change/"
    data = form_data(client.get(url), "citation_form")
    data["quote"] = NEW_QUOTE
    assert client.post(url, data).status_code == 302


def _change_quote_in_the_admin_claim_page(client: Client, citation: Citation) -> None:
    url = f"/admin/claims/claim/{citation.claim_id}/change/"
    data = form_data(client.get(url), "claim_form")
    data["citations-0-quote"] = NEW_QUOTE
    assert client.post(url, data).status_code == 302


def _change_quote_by_import(client: Client, citation: Citation) -> None:
    row = f"citation_id,claim_id,source_id,role,quote\n{citation.pk},{citation.claim_id},"
    row += f"{citation.source_id},{citation.role},{NEW_QUOTE}\n"
    upload = SimpleUploadedFile("citations.csv", row.encode(), "text/csv")
    preview = client.post("/admin/claims/citation/import/", {"import_file": upload, "format": "0"})
    assert not preview.context["result"].has_validation_errors()
    confirm = preview.context["confirm_form"].initial
    assert client.post("/admin/claims/citation/process_import/", confirm).status_code == 302


def _change_quote_through_the_api(client: Client, citation: Citation) -> None:
    api = APIClient()
    api.force_authenticate(citation.claim.created_by or EditorFactory())
    url = f"/api/v1/claims/{citation.claim_id}/"
    body = {
        "citations": [
            {
                "id": citation.pk,
                "source": citation.source_id,
                "role": citation.role,
                "quote": NEW_QUOTE,
            }
        ]
    }
    assert edit(api, "patch", url, body).status_code == 200


@pytest.mark.parametrize(
    "door",
    [
        _change_quote_in_the_admin_citation_page,
        _change_quote_in_the_admin_claim_page,
        _change_quote_by_import,
        _change_quote_through_the_api,
    ],
)
def test_every_door_that_writes_a_quote_checks_it_again(
    editor_client: Client, door: Callable[[Client, Citation], None]
) -> None:
    source = SourceFactory()
    citation = CitationFactory(source=source, quote="Let them all go home.")
    snapshot(source, ARTICLE)
    assert QuoteCheck.objects.get(citation=citation).outcome == QuoteOutcome.NOT_FOUND

    door(editor_client, citation)

    citation.refresh_from_db()
    assert citation.quote == NEW_QUOTE
    assert QuoteCheck.objects.get(citation=citation).outcome == QuoteOutcome.EXACT


def test_a_plain_save_writes_the_row_only_and_the_service_checks_the_quote() -> None:
    """Side effects live in claims.services, not in Citation.save()."""
    source = SourceFactory()
    citation = CitationFactory(source=source, quote="Let them all go home.")
    snapshot(source, ARTICLE)

    citation.quote = NEW_QUOTE
    citation.save()
    assert QuoteCheck.objects.get(citation=citation).outcome == QuoteOutcome.NOT_FOUND

    save_citation(citation)
    assert QuoteCheck.objects.get(citation=citation).outcome == QuoteOutcome.EXACT

    created = Citation.objects.create(
        claim=citation.claim, source=source, role="context", quote=NEW_QUOTE
    )
    assert not QuoteCheck.objects.filter(citation=created).exists()


def test_editing_quotes_through_the_service_checks_them_and_a_refused_write_changes_no_check(
    editor: User,
) -> None:
    source = SourceFactory()
    claim = ClaimFactory()
    citation = CitationFactory(claim=claim, source=source, quote="Let them all go home.")
    snapshot(source, ARTICLE, editor)

    save_claim(
        claim=claim,
        data={"citations": [{"id": citation.pk, "quote": "strict  management"}]},
        user=editor,
    )
    check = QuoteCheck.objects.get(citation=citation)
    assert (check.outcome, check.exact) == (QuoteOutcome.NORMALISED, "strict management")

    # A refused write (one citation's locator too long) changes nothing, checks included.
    with pytest.raises(ValidationError):
        save_claim(
            claim=claim,
            data={
                "citations": [
                    {"id": citation.pk, "quote": "Never allow escapes,"},
                    {"source": source, "role": "context", "locator": "x" * 201},
                ]
            },
            user=editor,
        )
    assert Citation.objects.get(pk=citation.pk).quote == "strict  management"
    assert QuoteCheck.objects.get(citation=citation).outcome == QuoteOutcome.NORMALISED


def test_a_citation_moved_to_a_source_without_a_snapshot_loses_its_check(editor: User) -> None:
    source = SourceFactory()
    claim = ClaimFactory()
    citation = CitationFactory(claim=claim, source=source, quote="strict management")
    snapshot(source, ARTICLE, editor)
    assert QuoteCheck.objects.filter(citation=citation).exists()

    other = SourceFactory()
    save_claim(
        claim=claim,
        data={"citations": [{"id": citation.pk, "source": other}]},
        user=editor,
    )

    assert not QuoteCheck.objects.filter(citation=citation).exists()


# What readers see: the claim page, the API and citations.csv


@pytest.fixture
def checked(editor: User) -> tuple[Any, Citation, Citation]:
    """A published claim citing one snapshot twice: once as it says, once misquoted."""
    source = SourceFactory()
    claim = ClaimFactory(state="published")
    right = CitationFactory(
        claim=claim, source=source, role="appearance", quote="Never allow escapes,"
    )
    wrong = CitationFactory(
        claim=claim,
        source=source,
        role="supports",
        quote="The documents describe the prisons\u2019 rules at some length.",
    )
    # Its text after the last sentence is markup: shown as text, in that quote's context.
    CitationFactory(claim=claim, source=source, role="context", quote="It was signed in 2017.")
    snapshot(source, ARTICLE + "<script>alert(1)</script>", editor)
    return claim, right, wrong


def test_the_claim_page_says_which_quotes_the_snapshot_has_and_shows_the_closest_passage(
    client: Any, checked: tuple[Any, Citation, Citation]
) -> None:
    claim, _, _ = checked

    page = client.get(claim.get_absolute_url()).content.decode()

    assert "Quote checked against the snapshot of 26 September 2019: found as quoted." in page
    assert "Not found in the snapshot of 26 September 2019. The closest passage (score" in page
    assert "<mark>The documents describe the camps\u2019 rules in</mark>" in page
    assert "<script>alert(1)</script>" not in page
    assert "</mark>\n&lt;script&gt;alert(1)&lt;/script&gt;…" in page  # a suffix, escaped


def test_the_api_gives_each_citations_check_with_w3c_selectors(
    client: Any, checked: tuple[Any, Citation, Citation]
) -> None:
    claim, right, wrong = checked
    stored = Snapshot.objects.get()

    body = client.get(f"/api/v1/claims/{claim.pk}/").json()

    checks = {c["id"]: c["quote_check"] for c in body["citations"]}
    assert checks[right.pk]["outcome"] == "exact"
    assert checks[right.pk]["score"] == 100
    assert checks[right.pk]["snapshot"] == {
        "id": stored.pk,
        "captured_at": "2019-09-26T14:30:00Z",
        "media_type": "text/plain",
        "sha256": stored.sha256,
    }
    start = ARTICLE.index("Never allow escapes,")
    assert checks[right.pk]["selector"] == {
        "type": "TextQuoteSelector",
        "exact": "Never allow escapes,",
        "prefix": ARTICLE[start - CONTEXT : start],
        "suffix": ARTICLE[start + 20 : start + 20 + CONTEXT],
    }
    assert checks[right.pk]["position"] == {
        "type": "TextPositionSelector",
        "start": start,
        "end": start + 20,
    }
    assert checks[wrong.pk]["outcome"] == "not_found"
    assert checks[wrong.pk]["selector"]["exact"].startswith("The documents describe the camps")


def test_citations_csv_carries_each_check(
    editor_client: Any, checked: tuple[Any, Citation, Citation]
) -> None:
    claim, right, wrong = checked
    unchecked = CitationFactory(claim=claim, role="disputes", quote="")

    response = editor_client.get("/api/v1/citations.csv")
    rows = {
        row["citation_id"]: row
        for row in csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    }

    assert rows[str(right.pk)]["quote_check"] == "exact"
    assert rows[str(right.pk)]["quote_check_score"] == "100"
    assert rows[str(right.pk)]["quote_snapshot_id"] == str(Snapshot.objects.get().pk)
    assert rows[str(right.pk)]["quote_passage"] == "Never allow escapes,"
    assert rows[str(wrong.pk)]["quote_check"] == "not_found"
    assert rows[str(unchecked.pk)]["quote_check"] == rows[str(unchecked.pk)]["quote_passage"] == ""


def test_verify_quotes_checks_everything_again_and_says_what_it_found(
    editor: User, settings: Any
) -> None:
    source = SourceFactory()
    CitationFactory(source=source, quote="Never allow escapes,")
    close = CitationFactory(source=source, quote="The documents describe the camp rules in detail.")
    CitationFactory(source=source, quote="")
    CitationFactory(quote="A source without a snapshot.")
    snapshot(source, ARTICLE, editor)
    assert QuoteCheck.objects.get(citation=close).outcome == QuoteOutcome.CLOSE
    settings.QUOTE_CLOSE_SCORE = 99  # a stricter rule: checked again, close is not found
    out, err = io.StringIO(), io.StringIO()

    call_command("verify_quotes", "--batch", "2", stdout=out, stderr=err)

    assert QuoteCheck.objects.get(citation=close).outcome == QuoteOutcome.NOT_FOUND
    assert out.getvalue().startswith("Checked 4 citations in ")
    assert (
        "1 found as quoted, 0 found, but for spaces, quote marks or dashes, 0 a close passage "
        "found, 1 not found; 2 not checked" in out.getvalue()
    )
    assert "4/4" in err.getvalue()  # the progress bar


@pytest.mark.parametrize(
    ("quote", "text"),
    [
        ("cafe\u0301 de la gare a ferme\u0301", "Le caf\u00e9 de la gare a ferm\u00e9 hier."),
        ("the \ufb01nal report", "It was the final report of the year."),
    ],
    ids=["decomposed-accents", "ligature"],
)
def test_a_quote_differing_only_in_unicode_form_is_found_normalised(quote: str, text: str) -> None:
    match = find_quote(quote, text)

    assert match is not None
    assert match.outcome == QuoteOutcome.NORMALISED
    assert match.exact == text[match.start : match.end]


def test_a_pdfs_ligatures_are_read_as_letters() -> None:
    from sources.snapshots import read_snapshot

    reading = read_snapshot("The \ufb01nal report.".encode())

    assert reading.text == "The final report."
