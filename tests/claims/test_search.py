"""Full-text search on PostgreSQL: ranked, and backed by the GIN indexes."""

import os

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from claims.models import SEARCH_INDEX_NAME, Citation, Claim
from claims.search import _index_methods, search_claims, search_index_method, search_ordering
from tests.factories import CitationFactory, ClaimFactory, SourceFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="full-text search needs PostgreSQL"
    ),
]


def test_search_ranks_matches_in_the_claim_text_above_matches_in_the_summary(
    api_client: APIClient,
) -> None:
    in_summary = ClaimFactory(text="A statement.", summary="Detainees were not paid wages.")
    in_text = ClaimFactory(text="Detainees were not paid any wages at all.")

    response = api_client.get("/api/v1/claims/", {"q": "wages"})

    assert [c["id"] for c in response.json()["results"]] == [in_text.pk, in_summary.pk]


def test_search_understands_stemming_and_phrases(api_client: APIClient) -> None:
    claim = ClaimFactory(text="Officials were instructed to justify prolonged detention.")
    ClaimFactory(text="Detention was never justified, officials said, when instructed.")

    stemmed = api_client.get("/api/v1/claims/", {"q": "instructions"}).json()["results"]
    phrase = api_client.get("/api/v1/claims/", {"q": '"prolonged detention"'}).json()["results"]

    assert len(stemmed) == 2
    assert [c["id"] for c in phrase] == [claim.pk]


def test_search_finds_claims_by_citation_quote(api_client: APIClient) -> None:
    citation = CitationFactory(quote="The camp paid no money, not a penny.")

    response = api_client.get("/api/v1/claims/", {"q": "penny"})

    assert [c["id"] for c in response.json()["results"]] == [citation.claim_id]


def search_page_plan(api_client: APIClient) -> str:
    """EXPLAIN of the SQL a search page ran, on a table large enough that PostgreSQL plans
    it as it would in production: a few matches among thousands of claims."""
    ClaimFactory.create_batch(3, text="Wages were withheld.")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO claims_claim (text, summary, made_text, made_edtf, event_text,"
            " event_edtf, rating, rating_rationale, state, language, created_at, updated_at)"
            " SELECT 'Filler statement number ' || n, '', '', '', '', '', 'unreviewed', '',"
            " 'published', 'en', now(), now() FROM generate_series(1, 5000) n"
        )
        if search_index_method() == "gin":
            # As autovacuum would: move new entries from GIN's pending list into the index.
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [SEARCH_INDEX_NAME])
        cursor.execute("ANALYZE claims_claim")
    with CaptureQueriesContext(connection) as queries:
        assert api_client.get("/api/v1/claims/", {"q": "wages"}).status_code == 200
    [page_sql] = [q["sql"] for q in queries.captured_queries if "search_document @@" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {page_sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def test_on_rum_a_search_page_reads_matches_best_first_from_the_index(
    api_client: APIClient,
) -> None:
    if search_index_method() != "rum":
        pytest.skip("this database's search index is GIN (no RUM extension)")
    plan = search_page_plan(api_client)
    # An ordered index scan: RUM hands out matches by distance, so nothing ranks and
    # sorts every match.
    assert "Index Scan using claim_search_document_idx" in plan, plan
    assert "Order By: (search_document <=>" in plan, plan
    assert "Sort" not in plan, plan


def test_on_gin_a_search_page_finds_matches_through_the_index_and_ranks_them(
    api_client: APIClient,
) -> None:
    if search_index_method() != "gin":
        pytest.skip("this database's search index is RUM")
    plan = search_page_plan(api_client)
    # GIN only finds the matches; ranking them is a sort of every match.
    assert "Bitmap Index Scan on claim_search_document_idx" in plan, plan
    assert "Sort" in plan, plan


@pytest.mark.skipif(
    os.environ.get("CI") != "true" or settings.SEARCH_INDEX == "gin",
    reason="CI installs the RUM extension (and runs the search tests once with GIN too)",
)
def test_ci_searches_through_the_rum_index() -> None:
    assert search_index_method() == "rum"


def test_the_search_index_is_the_one_settings_ask_for() -> None:
    if settings.SEARCH_INDEX == "gin":
        assert search_index_method() == "gin"
    else:
        assert search_index_method() in ("rum", "gin")


def test_quotes_join_the_claim_document_when_cited_edited_and_removed(
    api_client: APIClient,
) -> None:
    claim = ClaimFactory(text="A statement.")

    def found(word: str) -> list[int]:
        return [c["id"] for c in api_client.get("/api/v1/claims/", {"q": word}).json()["results"]]

    citation = CitationFactory(claim=claim, quote="Nobody was paid a penny.")
    assert found("penny") == [claim.pk]

    citation.quote = "Wages were withheld."
    citation.save()
    assert found("penny") == []
    assert found("withheld") == [claim.pk]

    other = ClaimFactory(text="Another statement.")
    Citation.objects.filter(pk=citation.pk).update(claim=other)
    assert found("withheld") == [other.pk]

    citation.delete()
    assert found("withheld") == []


def test_citations_written_in_one_statement_reach_every_claim(api_client: APIClient) -> None:
    first, second = ClaimFactory.create_batch(2, text="A statement.")
    Citation.objects.bulk_create(
        CitationFactory.build(claim=claim, quote=quote, source=SourceFactory())
        for claim, quote in [(first, "Paid in kind."), (second, "Never paid."), (first, "In kind.")]
    )

    found = api_client.get("/api/v1/claims/", {"q": "paid"}).json()["results"]
    assert {c["id"] for c in found} == {first.pk, second.pk}
    Citation.objects.filter(claim=second).delete()
    found = api_client.get("/api/v1/claims/", {"q": "paid"}).json()["results"]
    assert [c["id"] for c in found] == [first.pk]


def test_a_claim_deleted_with_its_citations_leaves_the_search(api_client: APIClient) -> None:
    claim = CitationFactory(quote="They were paid nothing.").claim
    kept = CitationFactory(quote="They were paid later.").claim

    claim.delete()

    found = api_client.get("/api/v1/claims/", {"q": "paid"}).json()["results"]
    assert [c["id"] for c in found] == [kept.pk]


def test_editing_the_claim_text_updates_its_document(api_client: APIClient) -> None:
    claim = ClaimFactory(text="Detainees were moved.")
    CitationFactory(claim=claim, quote="They were moved at night.")

    claim.text = "Detainees were released."
    claim.save()

    assert api_client.get("/api/v1/claims/", {"q": "released"}).json()["results"][0]["id"] == (
        claim.pk
    )
    # The quote is still part of the document.
    assert len(api_client.get("/api/v1/claims/", {"q": "night"}).json()["results"]) == 1


def test_text_ranks_above_summary_above_quote(api_client: APIClient) -> None:
    in_quote = ClaimFactory(text="A statement.")
    CitationFactory(claim=in_quote, quote="No wages were paid.")
    in_summary = ClaimFactory(text="Another statement.", summary="About wages.")
    in_text = ClaimFactory(text="Wages were withheld.")

    response = api_client.get("/api/v1/claims/", {"q": "wages"})

    assert [c["id"] for c in response.json()["results"]] == [
        in_text.pk,
        in_summary.pk,
        in_quote.pk,
    ]


def test_odd_search_input_is_harmless(editor_api: APIClient, naughty_strings: list[str]) -> None:
    ClaimFactory(text="Something.")
    for query in naughty_strings:
        response = editor_api.get("/api/v1/claims/", {"q": query})
        assert response.status_code in (200, 400), query


def test_ranked_search_results_page_through_every_match_once(api_client: APIClient) -> None:
    for n in range(7):
        ClaimFactory(text="wages " * (n + 1) + "and more")
    ClaimFactory(text="Nothing to see.")

    pages = _follow(api_client, "/api/v1/claims/?q=wages&page_size=3", "next")
    seen = [pk for page in pages for pk in page]

    assert len(seen) == len(set(seen)) == 7


@pytest.mark.parametrize("method", ["rum", "gin"])
def test_tied_search_results_page_through_every_match_once(
    api_client: APIClient, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if method == "rum" and search_index_method() != "rum":
        pytest.skip("the RUM extension is not installed here")
    # The GIN way of ranking works on either index: it is what runs without RUM.
    monkeypatch.setitem(_index_methods, connection.settings_dict["NAME"], method)
    tied = {ClaimFactory(text="Wages were withheld.").pk for _ in range(9)}
    best = ClaimFactory(text="Wages, wages and wages.")

    pages = _follow(api_client, "/api/v1/claims/?q=wages&page_size=2", "next")
    seen = [pk for page in pages for pk in page]

    assert seen[0] == best.pk
    assert len(seen) == len(set(seen)) == 10
    assert set(seen[1:]) == tied

    # And back: every previous page is a run of the same order (DRF may let pages that
    # start inside a tie overlap, but never reorders them), down to the first.
    url = "/api/v1/claims/?q=wages&page_size=3"
    while next_url := api_client.get(url).json()["next"]:
        url = next_url
    back = _follow(api_client, api_client.get(url).json()["previous"], "previous")
    for ids in back:
        start = seen.index(ids[0])
        assert ids == seen[start : start + len(ids)]
    assert back[-1][0] == seen[0]


def _follow(api_client: APIClient, url: str | None, link: str) -> list[list[int]]:
    """The claim ids of each page met following `link` ("next" or "previous") from url."""
    pages = []
    while url:
        page = api_client.get(url).json()
        pages.append([c["id"] for c in page["results"]])
        url = page[link]
    return pages


def test_every_slice_of_a_search_sees_the_same_order() -> None:
    # Many ties: whatever the slice (cursor pages are slices), the order is one order.
    for n in range(30):
        ClaimFactory(text="wages " * (n % 4 + 1) + "were paid", summary="wages" if n % 3 else "")
    claims = search_claims(Claim.objects.published(), "wages")
    claims = claims.order_by(*search_ordering(claims))
    whole = [(c.pk, c.rank) for c in claims[0:100]]

    assert len(whole) == 30
    assert [rank for _, rank in whole] == sorted(rank for _, rank in whole)
    for start, stop in [(0, 1), (0, 5), (3, 9), (10, 30), (29, 31), (7, 8)]:
        assert [(c.pk, c.rank) for c in claims[start:stop]] == whole[start:stop], (start, stop)


def distinct_words(count: int, prefix: str) -> str:
    return " ".join(f"{prefix}{n}q" for n in range(count))


def test_huge_stored_text_and_quotes_keep_the_claim_saved_and_searchable(
    api_client: APIClient,
) -> None:
    # Stored directly, past the limits every door enforces: a search document must still
    # fit PostgreSQL's 1 MB tsvector ("string is too long for tsvector" otherwise).
    claim = Claim.objects.create(text=distinct_words(120_000, "t"), state="published")
    source = SourceFactory()
    Citation.objects.bulk_create(
        Citation(claim=claim, source=source, role=role, quote=distinct_words(40_000, f"{role}z"))
        for role in ("supports", "disputes", "context")
    )
    claim.summary = distinct_words(50_000, "s")
    claim.save()

    for word in ("t1q", "s1q", "supportsz1q"):
        found = api_client.get("/api/v1/claims/", {"q": word}).json()["results"]
        assert [c["id"] for c in found] == [claim.pk], word


@pytest.mark.parametrize("query", ["-1", "wages -camp", 'x -"two words"', "(-x)"])
def test_a_negated_word_is_never_ranked_by_rum(query: str, api_client: APIClient) -> None:
    """RUM crashed the backend on "-1" (claims.search.NEGATION): such searches rank by
    ts_rank, and answer."""
    ClaimFactory(text="The camp paid no wages.")

    sql = str(search_claims(Claim.objects.all(), query).query)

    assert "<=>" not in sql
    assert api_client.get("/api/v1/claims/", {"q": query}).status_code == 200
    assert api_client.get("/", {"q": query}).status_code == 200


def test_a_hyphenated_word_is_still_ranked_by_the_index() -> None:
    if search_index_method() != "rum":
        pytest.skip("the RUM extension is not installed here")
    assert "<=>" in str(search_claims(Claim.objects.all(), "e-mail well-known").query)


def test_a_search_that_only_leaves_words_out_lists_the_rest_newest_first(
    api_client: APIClient,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("websearch syntax is PostgreSQL's")
    older = ClaimFactory(text="Old wages.")
    ClaimFactory(text="The camp.")
    newer = ClaimFactory(text="New wages.")

    body = api_client.get("/api/v1/claims/", {"q": "-camp"}).json()

    assert [claim["id"] for claim in body["results"]] == [newer.pk, older.pk]
