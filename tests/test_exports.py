import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from claims.exports import EXPORTS, data_dictionary
from claims.management.commands.export_csv import QUERYSETS
from claims.models import Citation, Claim, ClaimRelation, Role, State
from claims.paths import resolve_path
from claims.services import write_paths
from sources.export_engine import _cell, copy_statement, stream_csv
from sources.models import Source
from tests.factories import (
    CitationFactory,
    ClaimFactory,
    OrganizationFactory,
    PersonFactory,
    ProvenanceFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY is PostgreSQL's"
)


def rows_of(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, getattr(response, "content", b"")[:500]
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(body, newline="")))


def export_bytes(name: str, *, use_copy: bool) -> bytes:
    chunks = stream_csv(
        EXPORTS[name], QUERYSETS[name](), base_url="https://claims.example.org", use_copy=use_copy
    )
    return b"".join(chunks)


# Cells a spreadsheet may run, written here so that a clone without ../shared tests them.
FORMULAS = [
    "=1+1",
    "\uff1d1+1",
    "  =1+1",
    "\t=1",
    "\u3000\uff0bcmd",
    "'=quoted already",
    "'",
    "-",
    "@SUM(A1)",
]


@pytest.fixture
def hostile_data(naughty_strings: list[str]) -> None:
    """The demo data plus every naughty string in every text column we export."""
    call_command("load_demo")
    naughty_strings = [*FORMULAS, *naughty_strings]
    publisher = OrganizationFactory(name="=cmd|' /C calc'!A0", aliases="+1\n-2\n@3")
    previous = previous_source = None
    for index, text in enumerate(naughty_strings):
        claim = ClaimFactory(
            text=text, summary=text, rating_rationale=text, claimant=PersonFactory(name=text[:200])
        )
        if previous is not None:
            ClaimRelation.objects.create(
                claim=claim, kind="refines", other=previous, note=text[:500]
            )
        previous = claim
        claim.people.add(PersonFactory(name=text[:200], aliases=text))
        source = SourceFactory(title=text[:500], publisher=publisher, reliability_note=text)
        CitationFactory(claim=claim, source=source, quote=text, locator=text[:200])
        if previous_source is not None and index % 3:
            # Short chains (three sources at most), each link's note, and a citation whose
            # path goes up the chain as far as it goes.
            ProvenanceFactory(source=source, based_on=previous_source, note=text[:300])
            through = CitationFactory(claim=claim, source=source, quote=text, role=Role.CONTEXT)
            upstream = [
                previous_source.pk,
                *previous_source.provenance_links.values_list("based_on_id", flat=True),
            ]
            write_paths({through: resolve_path(source.pk, upstream)}, user=None)
        previous_source = source
        if index % 50 == 0:
            ClaimFactory(text=f"Draft {index}", state=State.DRAFT)
        if index % 7 == 0:  # a document as claimant, its title the hostile string
            ClaimFactory(text=f"According to {index}", claimant=None, claimant_source=source)


@needs_postgres
def test_copy_and_python_paths_write_identical_files(hostile_data: None) -> None:
    for name in EXPORTS:
        copied = export_bytes(name, use_copy=True)
        written = export_bytes(name, use_copy=False)

        assert copied.count(b"\n") > 20, name
        assert copied == written, name


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_headers_follow_the_data_dictionary(name: str, client: Client) -> None:
    header = export_bytes(name, use_copy=connection.vendor == "postgresql").split(b"\n")[0]
    assert header.decode().split(",") == EXPORTS[name].header
    dictionary = (ROOT / "docs" / "data-dictionary.md").read_text()
    for column in EXPORTS[name].columns:
        assert f"| `{column.name}` | {column.type} |" in dictionary


def test_the_shipped_data_dictionary_is_up_to_date() -> None:
    shipped = (ROOT / "docs" / "data-dictionary.md").read_text()
    assert shipped == data_dictionary(), (
        "Run: python manage.py export_csv --dictionary > docs/data-dictionary.md"
    )


@pytest.mark.parametrize(
    ("value", "kind", "cell"),
    [
        ("=SUM(A1)", "text", "'=SUM(A1)"),
        ("+1", "text", "'+1"),
        ("-1", "text", "'-1"),
        ("@cmd", "text", "'@cmd"),
        ("\tx", "text", "'\tx"),
        ("\rx", "text", "'\rx"),
        ("a=b", "text", "a=b"),
        ("\uff1dSUM(A1)", "text", "'\uff1dSUM(A1)"),
        ("\uff0b1", "text", "'\uff0b1"),
        ("\uff0d1", "text", "'\uff0d1"),
        ("\uff20cmd", "text", "'\uff20cmd"),
        ("  =1+1", "text", "'  =1+1"),
        ("\u00a0\u3000@x", "text", "'\u00a0\u3000@x"),
        ("\n=1", "text", "'\n=1"),
        ("'quoted", "text", "''quoted"),
        ("a = b", "text", "a = b"),
        ("   ", "text", "   "),
        ("", "text", ""),
        (None, "text", ""),
        (-5, "integer", "-5"),
        (True, "boolean", "true"),
    ],
)
def test_cells_are_neutralised_for_spreadsheets(value: Any, kind: str, cell: str) -> None:
    assert _cell(value, kind) == cell


@needs_postgres
def test_the_sql_side_neutralises_text_and_leaves_integers_alone() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT claimtrail_csv_safe('=1'), claimtrail_csv_safe('-5'), claimtrail_csv_safe(''),"
            " claimtrail_csv_safe(chr(13) || 'x'), claimtrail_csv_safe('ok'),"
            " claimtrail_csv_safe(%s), claimtrail_csv_safe(%s), claimtrail_csv_safe(%s)",
            ["\uff1d1", "  +1", "'x"],
        )
        assert cursor.fetchone() == (
            "'=1",
            "'-5",
            None,
            "'\rx",
            "ok",
            "'\uff1d1",
            "'  +1",
            "''x",
        )
    statement, _ = copy_statement(EXPORTS["claims"], Claim.objects.all(), "https://x")
    assert "c.id AS id" in statement
    assert "claimtrail_csv_safe(c.text) AS text" in statement


def test_hostile_cells_reach_the_file_neutralised(api_client: APIClient) -> None:
    ClaimFactory(text='=HYPERLINK("http://evil.example","click")', summary="-2+3")

    [row] = rows_of(api_client.get("/api/v1/claims.csv"))

    assert row["text"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["summary"] == "'-2+3"
    assert row["supports_count"] == "0"


def test_commas_quotes_newlines_and_unicode_survive(api_client: APIClient) -> None:
    text = 'He said, "no mercy."\nThen: «以严厉», naïve — ok\r\nend'
    ClaimFactory(text=text, claimant=PersonFactory(name="Xi, Jinping"))

    response = api_client.get("/api/v1/claims.csv")
    [row] = rows_of(response)

    assert row["text"] == text
    assert row["claimant"] == "Xi, Jinping"
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="claims.csv"'


def test_claims_csv_has_counts_dates_and_links(api_client: APIClient) -> None:
    claim = ClaimFactory(made_text="end of 2018")
    CitationFactory.create_batch(2, claim=claim, role=Role.SUPPORTS)
    CitationFactory(claim=claim, role=Role.DISPUTES, source=SourceFactory(is_primary=True))

    [row] = rows_of(api_client.get("/api/v1/claims.csv"))

    assert (row["made_text"], row["made_edtf"]) == ("end of 2018", "2018-36")
    assert (row["made_earliest"], row["made_latest"]) == ("2018-10-01", "2018-12-31")
    assert (row["supports_count"], row["disputes_count"], row["context_count"]) == ("2", "1", "0")
    assert row["has_primary_source"] == "true"
    assert row["api_url"] == f"http://testserver/api/v1/claims/{claim.pk}/"
    assert row["admin_url"] == f"http://testserver/admin/claims/claim/{claim.pk}/change/"


def test_exports_never_show_drafts_to_anonymous_clients(
    api_client: APIClient, editor_api: APIClient
) -> None:
    published = CitationFactory().claim
    CitationFactory(claim=ClaimFactory(state=State.DRAFT, text="Secret draft"))

    anonymous = rows_of(api_client.get("/api/v1/claims.csv"))
    anonymous_citations = rows_of(api_client.get("/api/v1/citations.csv"))
    editors = rows_of(editor_api.get("/api/v1/claims.csv"))

    assert [r["id"] for r in anonymous] == [str(published.pk)]
    assert [r["claim_id"] for r in anonymous_citations] == [str(published.pk)]
    assert len(editors) == 2


def test_exports_take_the_api_lists_filters(api_client: APIClient) -> None:
    cruz = PersonFactory(name="Ted Cruz")
    wanted = CitationFactory(claim=ClaimFactory(claimant=cruz, text="Organs on a massive scale"))
    CitationFactory()

    by_claimant = rows_of(api_client.get("/api/v1/claims.csv", {"claimant": cruz.pk}))
    by_search = rows_of(api_client.get("/api/v1/citations.csv", {"q": "massive"}))
    sources = rows_of(api_client.get("/api/v1/sources.csv", {"search": wanted.source.title}))
    # Every word searched must match: a made-up name (factories gave "Cruz-Holmes") holds one.
    PersonFactory(name="Cruz-Holmes")
    people = rows_of(api_client.get("/api/v1/people.csv", {"search": "Ted Cruz"}))
    bad = api_client.get("/api/v1/claims.csv", {"made_after": "last year"})

    assert [r["id"] for r in by_claimant] == [str(wanted.claim_id)]
    assert [r["citation_id"] for r in by_search] == [str(wanted.pk)]
    assert [r["id"] for r in sources] == [str(wanted.source_id)]
    assert [r["name"] for r in people] == ["Ted Cruz"]
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "made_after"


def test_an_analyst_counts_claims_by_publisher_reliability(api_client: APIClient) -> None:
    call_command("load_demo")

    rows = rows_of(api_client.get("/api/v1/citations.csv"))
    by_reliability: dict[str, set[str]] = {}
    for row in rows:
        by_reliability.setdefault(row["source_reliability"], set()).add(row["claim_id"])

    counts = {rating: len(claims) for rating, claims in by_reliability.items()}
    # The New York Times (4 claims), The Guardian (5) and AP (1) reports are cited by ten
    # published claims; the rest rest on unrated sources (the article itself, the leak,
    # the speeches). Fox News's claim is a draft.
    assert counts["generally_reliable"] == 10
    assert counts["unrated"] >= 10
    assert sum(1 for r in rows if r["claim_state"] == "draft") == 0


# COPY is one statement in its own transaction (here a savepoint: SAVEPOINT, the SET LOCALs,
# COPY, RELEASE); the Python path reads claims with their people and topics (3),
# sources with authors and provenance (3), citations with their paths' steps (2: the steps
# with their sources, per chunk), people in one query.
PYTHON_QUERIES = {"claims": 3, "citations": 2, "sources": 3, "people": 1, "claim_relations": 1}


@pytest.mark.parametrize("name", sorted(PYTHON_QUERIES))
@pytest.mark.parametrize("use_copy", [True, False])
def test_export_query_count_does_not_grow_with_rows(
    api_client: APIClient, django_assert_num_queries: Any, name: str, use_copy: bool, settings: Any
) -> None:
    if use_copy and connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    settings.CSV_EXPORT_USE_COPY = use_copy
    expected = 4 if use_copy else PYTHON_QUERIES[name]

    def make(count: int) -> None:
        claims = ClaimFactory.create_batch(count, state="published")
        for claim, other in zip(claims, claims[1:] + claims[:1], strict=True):
            claim.people.add(PersonFactory())
            cited, _ = CitationFactory.create_batch(2, claim=claim)
            upstream = ProvenanceFactory(source=cited.source).based_on
            further = ProvenanceFactory(source=upstream).based_on
            through = CitationFactory(claim=claim, source=cited.source, role=Role.CONTEXT)
            write_paths(
                {through: resolve_path(cited.source_id, [upstream.pk, further.pk])}, user=None
            )
            ClaimRelation.objects.create(claim=claim, kind="refines", other=other)

    make(2)
    with django_assert_num_queries(expected):
        small = rows_of(api_client.get(f"/api/v1/{name}.csv"))
    make(25)
    with django_assert_num_queries(expected):
        large = rows_of(api_client.get(f"/api/v1/{name}.csv"))
    assert len(large) > len(small)


def test_the_admin_exports_selected_claims(editor_client: Client) -> None:
    chosen, other = ClaimFactory(), ClaimFactory()

    response = editor_client.post(
        "/admin/claims/claim/", {"action": "export_csv", "_selected_action": [chosen.pk]}
    )

    ids = [r["id"] for r in rows_of(response)]
    assert ids == [str(chosen.pk)]
    assert str(other.pk) not in ids


@pytest.mark.parametrize(
    ("url", "action"),
    [
        ("/admin/claims/citation/", "export_csv"),
        ("/admin/sources/source/", "export_csv"),
        ("/admin/sources/person/", "export_csv"),
        ("/admin/claims/claim/", "export_citations_csv"),
    ],
)
def test_every_admin_changelist_offers_a_csv_export(
    editor_client: Client, url: str, action: str
) -> None:
    citation = CitationFactory()
    ids = {
        "/admin/claims/citation/": citation.pk,
        "/admin/sources/source/": citation.source_id,
        "/admin/sources/person/": citation.source.publisher_id,
        "/admin/claims/claim/": citation.claim_id,
    }
    response = editor_client.post(url, {"action": action, "_selected_action": [ids[url]]})
    assert len(rows_of(response)) == 1


def test_export_csv_command_writes_the_whole_database(tmp_path: Path) -> None:
    call_command("load_demo")
    target = tmp_path / "claims.csv"

    call_command("export_csv", "claims", "--output", str(target))

    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert len(rows) == Claim.objects.count() == 26
    assert any(r["state"] == "draft" for r in rows)


def test_claim_relations_csv_lists_relations_between_claims_the_client_may_see(
    api_client: APIClient, editor_api: APIClient
) -> None:
    a, b = ClaimFactory(state="published", text="=A"), ClaimFactory(state="published")
    draft = ClaimFactory(state="draft")
    ClaimRelation.objects.create(claim=a, kind="contradicts", other=b, note="Opposite figures.")
    ClaimRelation.objects.create(claim=draft, kind="repeats", other=a)

    public = rows_of(api_client.get("/api/v1/claim_relations.csv"))
    everything = rows_of(editor_api.get("/api/v1/claim_relations.csv"))

    assert [(r["claim_id"], r["kind"], r["other_claim_id"], r["note"]) for r in public] == [
        (str(a.pk), "contradicts", str(b.pk), "Opposite figures.")
    ]
    assert public[0]["claim_text"] == "'=A"  # the formula guard
    assert len(everything) == 2


def test_citations_csv_gives_each_citation_its_recorded_path_and_nothing_else(
    api_client: APIClient,
) -> None:
    call_command("load_demo", verbosity=0)
    ap = Source.objects.get(title__startswith="Associated Press")
    rows = rows_of(api_client.get("/api/v1/citations.csv"))

    [through_ap] = [r for r in rows if r["path"] == str(ap.pk)]
    # Through the AP report: that one source, not the article's other reports and the leak.
    assert through_ap["path_titles"] == f"{ap.title} [generally_reliable]"
    assert through_ap["origin_source_id"] == str(ap.pk)
    for row in rows:
        recorded = Citation.objects.get(pk=row["citation_id"]).path
        assert row["path"] == ">".join(str(s.pk) for s in recorded)
        assert row["path_titles"].count(" [") == len(recorded)
        assert row["origin_source_id"] == str(recorded[-1].pk if recorded else row["source_id"])


@needs_postgres
def test_the_sql_guard_agrees_with_python_whatever_the_first_character() -> None:
    # Every first character up to U+0400, the blanks and full-width forms above it, each
    # alone, before a formula and before text: the SQL fast path skips none that matter.
    firsts = [chr(c) for c in range(1, 0x400)] + ["\u3000", "\uff1d", "\uff0b", "\uff0d", "\uff20"]
    cells = [first + rest for first in firsts for rest in ("", "=1", "x", " @")]
    with connection.cursor() as cursor:
        cursor.execute("SELECT claimtrail_csv_safe(c) FROM unnest(%s::text[]) AS c", [cells])
        guarded = [row[0] or "" for row in cursor.fetchall()]
    assert guarded == [_cell(cell, "text") for cell in cells]
