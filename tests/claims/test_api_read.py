from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from claims.models import Rating, Role, State
from claims.paths import resolve_path
from claims.services import write_paths
from sources.models import Provenance, Reliability, SourceKind
from tests.factories import (
    CitationFactory,
    ClaimFactory,
    OrganizationFactory,
    PersonFactory,
    SourceFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

# The page of claims, then their JSON: built by PostgreSQL in one query, or elsewhere by
# ClaimSerializer from the claims with their claimants, people, topics, citations with
# sources and publishers, provenance links (one recursive query), upstream sources, the
# rating histories, the relations and the open changes at the source (claims.watch).
DOCUMENT_QUERIES = 2 if connection.vendor == "postgresql" else 10
# A claim: on PostgreSQL one query finds it, checks it may be shown and builds its JSON.
DETAIL_QUERIES = 1 if connection.vendor == "postgresql" else 10


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [claim["id"] for claim in response.json()["results"]]


def test_a_claim_is_read_with_its_citations_sources_and_provenance(api_client: APIClient) -> None:
    leak = SourceFactory(
        title="Leaked documents", kind=SourceKind.LEAKED_DOCUMENT, is_primary=True, publisher=None
    )
    times = OrganizationFactory(
        name="The New York Times", reliability=Reliability.GENERALLY_RELIABLE
    )
    report = SourceFactory(title="Times report", publisher=times)
    article = SourceFactory(title="Article", publisher=None, reliability=Reliability.UNRATED)
    Provenance.objects.create(source=article, based_on=report)
    Provenance.objects.create(source=report, based_on=leak)
    claimant = PersonFactory(name="Xi Jinping", description="CCP leader")
    claim = ClaimFactory(text="Show absolutely no mercy.", claimant=claimant)
    claim.made_text = "2014"
    claim.full_clean()
    claim.save()
    claim.topics.add(TopicFactory(slug="xinjiang", name="Xinjiang"))
    citation = CitationFactory(
        claim=claim,
        source=article,
        role=Role.APPEARANCE,
        quote="“And show absolutely no mercy.”",
        locator="para. 5",
        reliability_note="Quoted from the leaked documents.",
    )
    write_paths({citation: resolve_path(article.pk, [report.pk, leak.pk])}, user=None)

    response = api_client.get(f"/api/v1/claims/{claim.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["text"] == "Show absolutely no mercy."
    assert body["claimant"] == {
        "type": "person",
        "id": claimant.pk,
        "name": "Xi Jinping",
        "kind": "person",
        "description": "CCP leader",
    }
    assert body["topics"] == [{"slug": "xinjiang", "name": "Xinjiang"}]
    assert body["made"] == {
        "text": "2014",
        "edtf": "2014",
        "earliest": "2014-01-01",
        "latest": "2014-12-31",
    }
    [citation] = body["citations"]
    assert citation["role"] == "appearance"
    assert citation["reliability_note"] == "Quoted from the leaked documents."
    source = citation["source"]
    assert (source["title"], source["based_on_count"]) == ("Article", 1)
    assert source["effective_reliability"] == "unrated"
    path = [
        (s["source"]["title"], s["source"]["is_primary"], s["source"]["based_on_count"])
        for s in citation["path"]
    ]
    assert path == [("Times report", False, 1), ("Leaked documents", True, 0)]
    assert citation["path"][0]["source"]["publisher"]["reliability"] == "generally_reliable"
    assert citation["origin"] == leak.pk
    assert body["evidence"]["supports"] == {"citations": 0, "origins": 0}


def test_anonymous_clients_never_see_drafts(api_client: APIClient) -> None:
    published = ClaimFactory(state=State.PUBLISHED)
    draft = ClaimFactory(state=State.DRAFT, text="Secret draft.")

    assert ids(api_client.get("/api/v1/claims/")) == [published.pk]
    assert api_client.get(f"/api/v1/claims/{draft.pk}/").status_code == 404
    assert api_client.get(f"/api/v1/claims/{draft.pk}/claimreview/").status_code == 404
    assert ids(api_client.get("/api/v1/claims/", {"state": "draft"})) == []
    assert ids(api_client.get("/api/v1/claims/", {"q": "Secret"})) == []


@pytest.mark.parametrize("pk", ["abc", "0", "99999999999999999999999", "-1"])
def test_odd_claim_ids_are_a_404(api_client: APIClient, pk: str) -> None:
    response = api_client.get(f"/api/v1/claims/{pk}/")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_editors_see_drafts(editor_api: APIClient) -> None:
    draft = ClaimFactory(state=State.DRAFT)

    assert ids(editor_api.get("/api/v1/claims/", {"state": "draft"})) == [draft.pk]
    assert editor_api.get(f"/api/v1/claims/{draft.pk}/").status_code == 200


def test_claims_filter_by_claimant_person_topic_rating_and_language(api_client: APIClient) -> None:
    cruz = PersonFactory(name="Ted Cruz")
    ccp = OrganizationFactory(name="CCP")
    topic = TopicFactory(slug="organs")
    one = ClaimFactory(claimant=cruz, rating=Rating.FALSE, rating_rationale="No evidence.")
    one.people.add(ccp)
    one.topics.add(topic)
    two = ClaimFactory(language="zh")

    assert ids(api_client.get("/api/v1/claims/", {"claimant": cruz.pk})) == [one.pk]
    assert ids(api_client.get("/api/v1/claims/", {"person": ccp.pk})) == [one.pk]
    assert ids(api_client.get("/api/v1/claims/", {"topic": "organs"})) == [one.pk]
    assert ids(api_client.get("/api/v1/claims/", {"rating": "false"})) == [one.pk]
    assert ids(api_client.get("/api/v1/claims/", {"language": "zh"})) == [two.pk]


def test_claims_filter_by_cited_source_publisher_role_and_reliability(
    api_client: APIClient,
) -> None:
    fox = OrganizationFactory(reliability=Reliability.NO_CONSENSUS)
    times = OrganizationFactory(reliability=Reliability.GENERALLY_RELIABLE)
    disputed = CitationFactory(role=Role.DISPUTES, source=SourceFactory(publisher=times)).claim
    supported = CitationFactory(role=Role.SUPPORTS, source=SourceFactory(publisher=fox)).claim
    CitationFactory(claim=supported, role=Role.CONTEXT, source=SourceFactory(publisher=times))
    source = disputed.citations.get().source

    def get(**params: Any) -> list[int]:
        return sorted(ids(api_client.get("/api/v1/claims/", params)))

    assert get(source=source.pk) == [disputed.pk]
    assert get(publisher=fox.pk) == [supported.pk]
    assert get(role="disputes") == [disputed.pk]
    assert get(publisher_reliability="no_consensus") == [supported.pk]
    assert get(publisher=times.pk) == sorted([disputed.pk, supported.pk])
    # Conditions apply to one and the same citation.
    assert get(publisher=times.pk, role="disputes") == [disputed.pk]
    assert get(publisher=fox.pk, role="disputes") == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"made_after": "2018-01-01", "made_before": "2018-12-31"}, ["end of 2018"]),
        ({"made_after": "2018-12-01"}, ["end of 2018", "2019"]),
        ({"made_before": "2018-10-15"}, ["2014", "end of 2018"]),
        ({"made_after": "2015-01-01", "made_before": "2017-12-31"}, []),
    ],
)
def test_date_filters_match_overlapping_fuzzy_ranges(
    api_client: APIClient, params: dict[str, str], expected: list[str]
) -> None:
    for wording in ("2014", "end of 2018", "2019"):
        claim = ClaimFactory(made_text=wording)
        claim.full_clean()
        claim.save()

    response = api_client.get("/api/v1/claims/", {**params, "ordering": "made"})

    assert [c["made"]["text"] for c in response.json()["results"]] == expected


def test_event_date_filters(api_client: APIClient) -> None:
    claim = ClaimFactory(event_text="May and September 2019")
    claim.full_clean()
    claim.save()

    assert ids(api_client.get("/api/v1/claims/", {"event_after": "2019-09-15"})) == [claim.pk]
    assert ids(api_client.get("/api/v1/claims/", {"event_before": "2019-04-30"})) == []


def test_empty_filter_values_mean_any(api_client: APIClient) -> None:
    claim = ClaimFactory()
    response = api_client.get("/api/v1/claims/?rating=&topic=&made_after=&person=")
    assert ids(response) == [claim.pk]


def test_bad_filter_values_are_a_400_naming_the_parameter(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/claims/", {"made_after": "end of 2018", "rating": "meh"})

    assert response.status_code == 400
    errors = {e["attr"]: e["detail"] for e in response.json()["errors"]}
    assert set(errors) == {"made_after", "rating"}


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("made", ["undated", "2014", "2019"]),
        ("-made", ["2019", "2014", "undated"]),
        ("event", ["2019", "undated", "2014"]),
        ("rating", ["2019", "2014", "undated"]),
        ("created_at", ["2014", "2019", "undated"]),
        ("-updated_at", ["undated", "2019", "2014"]),
    ],
)
def test_claims_can_be_ordered(api_client: APIClient, ordering: str, expected: list[str]) -> None:
    for text, made, event, rating in [
        ("2014", "2014", "2020", Rating.MIXED),
        ("2019", "2019", "", Rating.FALSE),
        ("undated", "", "2015", Rating.UNREVIEWED),
    ]:
        claim = ClaimFactory(
            text=text, made_text=made, event_text=event, rating=rating, rating_rationale="why"
        )
        claim.full_clean()
        claim.save()

    response = api_client.get("/api/v1/claims/", {"ordering": ordering})

    assert [c["text"] for c in response.json()["results"]] == expected


def test_pages_are_capped_and_linked_by_cursor(api_client: APIClient) -> None:
    ClaimFactory.create_batch(7)

    first = api_client.get("/api/v1/claims/", {"page_size": 5}).json()
    second = api_client.get(first["next"]).json()
    capped = api_client.get("/api/v1/claims/", {"page_size": 100_000})

    assert len(first["results"]) == 5
    assert len(second["results"]) == 2
    assert second["next"] is None
    assert not {c["id"] for c in first["results"]} & {c["id"] for c in second["results"]}
    assert capped.status_code == 200


def test_search_finds_claims_by_text_summary_and_quote(api_client: APIClient) -> None:
    by_text = ClaimFactory(text="Organs are removed on a massive scale.")
    by_summary = ClaimFactory(text="Untitled.", summary="Forced organ harvesting alleged.")
    by_quote = CitationFactory(quote="Reports of organ removal from detainees.").claim
    ClaimFactory(text="Unrelated claim about wages.")

    found = ids(api_client.get("/api/v1/claims/", {"q": "organ"}))

    assert sorted(found) == sorted([by_text.pk, by_summary.pk, by_quote.pk])


def test_claimreview_is_schema_org_json_ld(api_client: APIClient) -> None:
    claimant = PersonFactory(name="Ted Cruz", wikidata_id="Q2036942")
    claim = ClaimFactory(
        text="It also removes their organs on a massive scale.",
        claimant=claimant,
        rating=Rating.UNSUPPORTED,
        rating_rationale="No evidence given.",
        made_text="September 26, 2019",
    )
    claim.full_clean()
    claim.save()
    CitationFactory(claim=claim, role=Role.APPEARANCE, source=SourceFactory(title="The speech"))

    response = api_client.get(f"/api/v1/claims/{claim.pk}/claimreview/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/ld+json"
    body = response.json()
    assert body["@context"] == "https://schema.org"
    assert body["@type"] == "ClaimReview"
    assert body["claimReviewed"] == "It also removes their organs on a massive scale."
    assert body["url"] == f"http://testserver/claims/{claim.pk}/"  # the public page
    assert body["reviewRating"] == {
        "@type": "Rating",
        "alternateName": "Unsupported: no evidence given",
        "bestRating": 5,
        "worstRating": 1,
        "ratingValue": 2,
    }
    assert body["itemReviewed"]["author"] == {
        "@type": "Person",
        "name": "Ted Cruz",
        "sameAs": "https://www.wikidata.org/wiki/Q2036942",
    }
    assert body["itemReviewed"]["datePublished"] == "2019-09-26"
    assert body["itemReviewed"]["appearance"][0]["headline"] == "The speech"
    assert body["reviewBody"] == "No evidence given."


def test_claimreview_gives_the_claim_s_day_only_when_it_is_certain(api_client: APIClient) -> None:
    days = {}
    for edtf in ("2019-09-26", "2019?-09-26", "2019-09-~26"):
        claim = ClaimFactory(rating=Rating.MIXED, rating_rationale="x", made_edtf=edtf)
        claim.full_clean()
        claim.save()
        item = api_client.get(f"/api/v1/claims/{claim.pk}/claimreview/").json()["itemReviewed"]
        days[edtf] = item.get("datePublished")

    assert days == {"2019-09-26": "2019-09-26", "2019?-09-26": None, "2019-09-~26": None}


def make_claims(count: int, *, citations: int, people: int) -> None:
    """Claims with people, citations, and a two-step provenance chain behind each source."""
    for claim in ClaimFactory.create_batch(count):
        claim.people.add(*PersonFactory.create_batch(people))
        for citation in CitationFactory.create_batch(citations, claim=claim):
            upstream, primary = SourceFactory(), SourceFactory(is_primary=True)
            Provenance.objects.create(source=citation.source, based_on=upstream)
            Provenance.objects.create(source=upstream, based_on=primary)
            write_paths(
                {citation: resolve_path(citation.source_id, [upstream.pk, primary.pk])}, user=None
            )


def test_claim_list_queries_do_not_grow_with_page_size_or_citations(
    api_client: APIClient, django_assert_num_queries: Any
) -> None:
    make_claims(3, citations=1, people=1)
    with django_assert_num_queries(DOCUMENT_QUERIES):
        small = api_client.get("/api/v1/claims/", {"page_size": 2})

    make_claims(20, citations=4, people=2)
    with django_assert_num_queries(DOCUMENT_QUERIES):
        large = api_client.get("/api/v1/claims/", {"page_size": 100})

    assert len(small.json()["results"]) == 2
    assert len(large.json()["results"]) == 23
    assert max(len(c["citations"]) for c in large.json()["results"]) == 4
    assert all(len(c["citations"][0]["path"]) == 2 for c in large.json()["results"])


def test_claimreview_query_count_is_fixed(
    api_client: APIClient, django_assert_num_queries: Any
) -> None:
    claim = ClaimFactory(rating=Rating.MIXED, rating_rationale="Some for, some against.")
    CitationFactory.create_batch(5, claim=claim, role=Role.APPEARANCE)

    # The claim with its claimant, its rating history, its appearances.
    with django_assert_num_queries(3):
        response = api_client.get(f"/api/v1/claims/{claim.pk}/claimreview/")

    assert len(response.json()["itemReviewed"]["appearance"]) == 5


def test_claim_detail_query_count_is_fixed(
    api_client: APIClient, django_assert_num_queries: Any
) -> None:
    claim = ClaimFactory()
    for citation in CitationFactory.create_batch(6, claim=claim):
        Provenance.objects.create(source=citation.source, based_on=SourceFactory())

    with django_assert_num_queries(DETAIL_QUERIES):
        response = api_client.get(f"/api/v1/claims/{claim.pk}/")

    assert len(response.json()["citations"]) == 6


def test_the_browsable_api_shows_the_documents_postgresql_wrote(api_client: APIClient) -> None:
    claim = ClaimFactory(text="Browsable <claim>")
    CitationFactory(claim=claim)

    for url in ("/api/v1/claims/", f"/api/v1/claims/{claim.pk}/"):
        response = api_client.get(url, HTTP_ACCEPT="text/html")

        assert response.status_code == 200, url
        assert "Browsable &lt;claim&gt;" in response.content.decode(), url


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/claims/?q=%00",
        "/api/v1/claims/?q=camps%00",
        "/api/v1/claims/?topic=%00",
        "/api/v1/claims/?language=en%00",
        "/api/v1/claims.csv?q=%00",
        "/api/v1/citations.csv?q=%00",
        "/api/v1/citations.csv?topic=a%00",
        "/api/v1/sources/?search=a%00",
        "/api/v1/people/?search=%00",
        "/api/v1/sources.csv?search=a%00",
        "/api/v1/people/?ordering=name%00",
    ],
)
def test_a_null_character_in_a_search_or_filter_is_a_400_naming_it(
    api_client: APIClient, url: str
) -> None:
    ClaimFactory(text="Camps were built.")

    response = api_client.get(url)

    assert response.status_code == 400, url
    [error] = response.json()["errors"]
    assert error["attr"] == url.split("?")[1].split("=")[0]
    assert (error["code"], error["detail"]) == (
        "null_characters_not_allowed",
        "Null characters are not allowed.",
    )


def test_a_null_character_in_the_reading_pages_search_is_a_form_error(client: Any) -> None:
    for query in ({"q": "\x00"}, {"q": "camps\x00"}, {"topic": "\x00"}):
        response = client.get("/", query)

        assert response.status_code == 400, query
        assert "Some filters could not be used" in response.content.decode()


@pytest.mark.parametrize("value", ["\u00b2", "\u0661", "1.5", "1e5", "-1", "9" * 19])
@pytest.mark.parametrize("name", ["claimant", "person", "source", "publisher"])
def test_an_id_filter_takes_ascii_digits_only(api_client: APIClient, name: str, value: str) -> None:
    response = api_client.get("/api/v1/claims/", {name: value})

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["attr"], error["detail"]) == (
        name,
        "Enter an id: a whole number in the digits 0 to 9.",
    )


@pytest.mark.parametrize("kind", ["claims", "sources", "people"])
def test_a_record_url_takes_ascii_digits_only(api_client: APIClient, kind: str) -> None:
    claim = ClaimFactory(state="published")
    CitationFactory(claim=claim)
    assert api_client.get(f"/api/v1/{kind}/1/").status_code in (200, 404)

    for odd in ("\u0661", "\u00b2", "1.0"):
        response = api_client.get(f"/api/v1/{kind}/{odd}/")
        assert response.status_code == 404, odd
        assert response.json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "\u00b2", "1e3"])
def test_a_page_size_that_is_not_one_is_a_400(api_client: APIClient, value: str) -> None:
    response = api_client.get("/api/v1/claims/", {"page_size": value})

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["attr"], error["detail"]) == (
        "page_size",
        "Enter a whole number from 1 up (pages hold 100 at most).",
    )


@pytest.mark.parametrize("value", ["100", "101", "0101", "99999999999999999999999"])
def test_a_page_size_past_the_cap_gets_a_full_page(api_client: APIClient, value: str) -> None:
    ClaimFactory.create_batch(101, state="published")

    response = api_client.get("/api/v1/claims/", {"page_size": value})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 100


@pytest.mark.parametrize(
    ("method", "url", "detail"),
    [
        (
            "get",
            "/api/v1/claims/4.7e-248/",
            "There is no API endpoint at this address: see /api/docs/.",
        ),
        (
            "patch",
            "/api/v1/people/.exe/",
            "There is no API endpoint at this address: see /api/docs/.",
        ),
        ("post", "/api/v1/nothing/", "There is no API endpoint at this address: see /api/docs/."),
        ("get", "/api/", "There is no API endpoint at this address: see /api/docs/."),
        (
            "get",
            "/api/v1/claims",
            "There is no API endpoint at this address: did you mean /api/v1/claims/ ?",
        ),
    ],
)
def test_an_address_under_api_that_names_no_endpoint_is_a_json_404(
    api_client: APIClient, method: str, url: str, detail: str
) -> None:
    response = getattr(api_client, method)(url)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "not_found", "detail": detail, "attr": None}],
    }


def test_the_schema_documents_anonymous_reads_and_the_json_ld_of_claimreview(
    api_client: APIClient,
) -> None:
    schema = api_client.get("/api/schema/?format=json").json()
    claims = schema["paths"]["/api/v1/claims/"]

    assert {} in claims["get"]["security"]
    assert {} not in claims["post"]["security"]
    review = schema["paths"]["/api/v1/claims/{id}/claimreview/"]["get"]["responses"]["200"]
    assert list(review["content"]) == ["application/ld+json"]
    patch = schema["paths"]["/api/v1/claims/{id}/"]["patch"]["responses"]
    assert {"412", "428"} <= set(patch)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/people/?cursor=cD0lMDA=",  # p=%00: a NUL where a name goes
        "/api/v1/claims/?ordering=rating&cursor=cD0lMDA=",
        "/api/v1/sources/?ordering=title&cursor=cD0lMDA=",
        "/api/v1/claims/?q=camps&cursor=cD1hYmM=",  # p=abc: a word where a rank goes
        "/api/v1/claims/?cursor=cD1hYmM=",  # where a date goes
    ],
)
def test_a_forged_page_link_is_a_404_in_words(api_client: APIClient, url: str) -> None:
    ClaimFactory(text="The camps are vocational training centers.")

    response = api_client.get(url)

    assert response.status_code == 404, response.content
    assert response.json()["errors"][0]["detail"] == (
        "This page link is no longer valid: start again from the first page."
    )
