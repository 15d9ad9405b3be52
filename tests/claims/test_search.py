"""Full-text search on PostgreSQL: ranked, and backed by the GIN indexes."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from claims.filters import search_claims
from claims.models import Claim
from tests.factories import CitationFactory, ClaimFactory

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


def test_search_queries_can_use_the_gin_indexes() -> None:
    ClaimFactory.create_batch(3)
    query = search_claims(Claim.objects.all(), "wages")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        # On a tiny table the planner rightly prefers a scan; forbid it to see the index.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "claim_search_document_idx" in plan
    assert "citation_quote_search_idx" in plan


def test_odd_search_input_is_harmless(editor_api: APIClient, naughty_strings: list[str]) -> None:
    ClaimFactory(text="Something.")
    for query in naughty_strings:
        response = editor_api.get("/api/v1/claims/", {"q": query})
        assert response.status_code in (200, 400), query


def test_ranked_search_results_page_through_every_match_once(api_client: APIClient) -> None:
    for n in range(7):
        ClaimFactory(text="wages " * (n + 1) + "and more")
    ClaimFactory(text="Nothing to see.")

    seen: list[int] = []
    url: str | None = "/api/v1/claims/?q=wages&page_size=3"
    while url:
        page = api_client.get(url).json()
        seen += [c["id"] for c in page["results"]]
        url = page["next"]

    assert len(seen) == len(set(seen)) == 7
