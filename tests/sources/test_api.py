from typing import Any

import pytest
from rest_framework.test import APIClient

from claims.models import Role, State
from sources.models import Person, Provenance, Source
from tests.conftest import edit
from tests.factories import (
    CitationFactory,
    ClaimFactory,
    OrganizationFactory,
    PersonFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


def test_source_list_shows_publisher_reliability_and_provenance_ids(api_client: APIClient) -> None:
    times = OrganizationFactory(name="The New York Times", reliability="generally_reliable")
    leak = SourceFactory(title="Leak", publisher=None, is_primary=True)
    report = SourceFactory(title="Report", publisher=times)
    Provenance.objects.create(source=report, based_on=leak)

    response = api_client.get("/api/v1/sources/", {"ordering": "title"})

    assert response.status_code == 200
    leak_row, report_row = response.json()["results"]
    assert (leak_row["title"], leak_row["based_on"], leak_row["publisher"]) == ("Leak", [], None)
    assert report_row["based_on"] == [leak.pk]
    assert report_row["publisher"]["name"] == "The New York Times"
    assert report_row["effective_reliability"] == "generally_reliable"
    assert report_row["published"]["edtf"] == "2019-11"


def test_source_detail_lists_the_claims_citing_it_by_role_without_drafts(
    api_client: APIClient,
) -> None:
    source = SourceFactory()
    supported = CitationFactory(source=source, role=Role.SUPPORTS).claim
    CitationFactory(source=source, role=Role.DISPUTES, claim=ClaimFactory(state=State.DRAFT))

    response = api_client.get(f"/api/v1/sources/{source.pk}/")

    assert response.status_code == 200
    assert response.json()["cited_by"] == [
        {
            "role": "supports",
            "claim": {
                "id": supported.pk,
                "text": supported.text,
                "rating": "unreviewed",
                "state": "published",
            },
        }
    ]


def test_person_detail_lists_claims_made_and_claims_about(api_client: APIClient) -> None:
    cruz = PersonFactory(name="Ted Cruz")
    made = ClaimFactory(claimant=cruz)
    about = ClaimFactory()
    about.people.add(cruz)
    ClaimFactory(claimant=cruz, state=State.DRAFT)

    body = api_client.get(f"/api/v1/people/{cruz.pk}/").json()

    assert [c["id"] for c in body["claims_made"]] == [made.pk]
    assert [c["id"] for c in body["claims_about"]] == [about.pk]


def test_people_are_searchable_by_alias(api_client: APIClient) -> None:
    PersonFactory(name="Chinese Communist Party", aliases="CCP\nCommunist Party of China")
    PersonFactory(name="Someone else")

    response = api_client.get("/api/v1/people/", {"search": "CCP"})

    assert [p["name"] for p in response.json()["results"]] == ["Chinese Communist Party"]
    assert response.json()["results"][0]["aliases"] == ["CCP", "Communist Party of China"]


def test_an_editor_creates_a_source_with_its_provenance(editor_api: APIClient) -> None:
    leak = SourceFactory(is_primary=True)
    publisher = OrganizationFactory()
    author = PersonFactory()

    response = editor_api.post(
        "/api/v1/sources/",
        {
            "kind": "news_article",
            "title": "Report on the leak",
            "publisher_id": publisher.pk,
            "author_ids": [author.pk],
            "published": {"text": "end of 2018"},
            "based_on": [leak.pk],
            "url": "https://news.example.org/leak",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["published"]["edtf"] == "2018-36"
    assert body["based_on"] == [leak.pk]
    assert body["authors"][0]["id"] == author.pk
    source = Source.objects.get(pk=body["id"])
    assert list(source.based_on.all()) == [leak]
    assert source.history.count() >= 1


def test_a_source_cannot_be_based_on_one_of_its_own_descendants(editor_api: APIClient) -> None:
    leak = SourceFactory()
    report = SourceFactory()
    Provenance.objects.create(source=report, based_on=leak)

    response = edit(editor_api, "patch", f"/api/v1/sources/{leak.pk}/", {"based_on": [report.pk]})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "based_on"
    assert not Provenance.objects.filter(source=leak).exists()


def test_a_refused_source_write_changes_nothing(editor_api: APIClient) -> None:
    leak, report, other = SourceFactory(), SourceFactory(title="Report"), SourceFactory()
    Provenance.objects.create(source=report, based_on=leak)
    sources, links = Source.objects.count(), Provenance.objects.count()

    for method, url, body in [
        ("patch", f"/api/v1/sources/{report.pk}/", {"title": "T", "based_on": [other.pk] * 2}),
        ("post", "/api/v1/sources/", {"title": "T", "based_on": [other.pk, other.pk]}),
        # Valid until its last link, which makes the leak its own ancestor.
        ("patch", f"/api/v1/sources/{leak.pk}/", {"title": "T", "based_on": [other.pk, report.pk]}),
    ]:
        if method == "post":
            response = editor_api.post(url, body, format="json")
        else:
            response = edit(editor_api, method, url, body)

        assert response.status_code == 400, (method, body)
        assert response.json()["errors"][0]["attr"] == "based_on"
    assert (Source.objects.count(), Provenance.objects.count()) == (sources, links)
    assert set(Source.objects.values_list("title", flat=True)) == {
        leak.title,
        "Report",
        other.title,
    }


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"title": ""}, "title"),
        ({"kind": "rumour"}, "kind"),
        ({"url": "not a url"}, "url"),
        ({"published": {"text": "someday"}}, "published.text"),
        ({"publisher_id": 999999}, "publisher_id"),
        ({"title": "x" * 501}, "title"),
        ({"archive_url": "javascript:alert(1)"}, "archive_url"),
        ({"language": "x" * 36}, "language"),
        ({"is_primary": "perhaps"}, "is_primary"),
        ({"reliability": "trusty"}, "reliability"),
        ({"author_ids": [999999]}, "author_ids"),
        ({"based_on": [999999]}, "based_on"),
        ({"published": {"text": "2019", "edtf": "2019-99"}}, "published.edtf"),
    ],
)
def test_bad_source_input_is_a_400_naming_the_field(
    editor_api: APIClient, payload: dict[str, Any], attr: str
) -> None:
    response = editor_api.post("/api/v1/sources/", {"title": "A source", **payload}, format="json")

    assert response.status_code == 400
    assert attr in {e["attr"] for e in response.json()["errors"]}
    assert Source.objects.count() == 0


def test_a_person_cannot_be_a_publisher_through_the_api(editor_api: APIClient) -> None:
    person = PersonFactory()
    response = editor_api.post(
        "/api/v1/sources/", {"title": "x", "publisher_id": person.pk}, format="json"
    )
    assert response.status_code == 400
    assert "A publisher must be an organization." in str(response.json())


@pytest.mark.parametrize(
    ("payload", "attr", "message"),
    [
        ({"wikidata_id": "42"}, "wikidata_id", "A Wikidata ID looks like Q42."),
        ({"kind": "person", "reliability": "deprecated"}, "reliability", "Only organizations"),
        ({"kind": "robot"}, "kind", "is not a valid choice"),
        ({"name": ""}, "name", "may not be blank"),
        ({"description": "x" * 301}, "description", "no more than 300 characters"),
        ({"aliases": "CCP"}, "aliases", "Expected a list"),
        ({"reliability_reviewed_on": "last week"}, "reliability_reviewed_on", "wrong format"),
    ],
)
def test_bad_person_input_is_a_400_naming_the_field(
    editor_api: APIClient, payload: dict[str, Any], attr: str, message: str
) -> None:
    response = editor_api.post("/api/v1/people/", {"name": "Someone", **payload}, format="json")

    assert response.status_code == 400
    errors = {e["attr"]: e["detail"] for e in response.json()["errors"]}
    assert message in errors[attr]
    assert Person.objects.count() == 0


def test_an_editor_creates_and_updates_a_person(editor_api: APIClient) -> None:
    created = editor_api.post(
        "/api/v1/people/",
        {"name": "Wang Yongzhi", "aliases": ["王勇智"], "wikidata_id": "Q123"},
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]

    updated = edit(editor_api, "patch", f"/api/v1/people/{pk}/", {"description": "Official"})

    assert updated.status_code == 200
    assert updated.json()["aliases"] == ["王勇智"]
    assert Person.objects.get(pk=pk).history.count() == 2


def test_anonymous_clients_cannot_write_sources_or_people(api_client: APIClient) -> None:
    assert api_client.post("/api/v1/sources/", {"title": "x"}).status_code == 401
    assert api_client.post("/api/v1/people/", {"name": "x"}).status_code == 401


@pytest.mark.parametrize("url", ["/api/v1/sources/", "/api/v1/people/"])
def test_source_and_people_lists_use_a_fixed_number_of_queries(
    api_client: APIClient, django_assert_num_queries: Any, url: str
) -> None:
    def make(count: int) -> None:
        for source in SourceFactory.create_batch(count):
            source.authors.add(PersonFactory())
            Provenance.objects.create(source=source, based_on=SourceFactory())

    make(2)
    with django_assert_num_queries(3 if "sources" in url else 1):
        api_client.get(url, {"page_size": 2})
    make(30)
    with django_assert_num_queries(3 if "sources" in url else 1):
        response = api_client.get(url, {"page_size": 100})
    assert len(response.json()["results"]) > 30


@pytest.mark.parametrize("kind", ["sources", "people"])
def test_detail_pages_use_a_fixed_number_of_queries(
    api_client: APIClient, django_assert_num_queries: Any, kind: str
) -> None:
    source = SourceFactory()
    for _ in range(5):
        claim = CitationFactory(source=source).claim
        claim.people.add(source.publisher)
    pk = source.pk if kind == "sources" else source.publisher_id

    with django_assert_num_queries(4 if kind == "sources" else 3):
        response = api_client.get(f"/api/v1/{kind}/{pk}/")

    assert response.status_code == 200
