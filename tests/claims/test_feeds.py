"""Atom feeds (claims.feeds): published fact-checks, corrections, and per topic, person and
source, parsed as a reader would (feedparser), linked from the pages, drafts never in them,
each in a fixed number of queries."""

from typing import Any

import feedparser
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from claims.models import Claim, Rating, State
from tests.factories import (
    CitationFactory,
    ClaimFactory,
    EditorFactory,
    PersonFactory,
    SourceFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db


def rated(**fields: Any) -> Claim:
    fields.setdefault("rating_rationale", "Two documents disagree.")
    return ClaimFactory(rating=Rating.DISPUTED, **fields)


def read(client: Client, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")  # well-formed, as Atom
    return feed


def test_the_fact_checks_feed_has_published_rated_claims_only(client: Client) -> None:
    topic = TopicFactory(name="Leaks")
    reviewer = EditorFactory(first_name="Ada", last_name="Editor")
    shown = rated(reviewed_by=reviewer, summary="Camps have rules against escapes")
    shown.topics.add(topic)
    rated(state=State.DRAFT, text="A draft, rated.")
    ClaimFactory(text="Published but unreviewed.")

    feed = read(client, "/feeds/fact-checks/")

    assert feed.feed.title == "Claimtrail: fact-checks"
    [entry] = feed.entries
    assert entry.title == "Disputed: Camps have rules against escapes"
    assert entry.link == f"http://testserver/claims/{shown.pk}/"
    assert entry.author == "Ada Editor"
    assert [tag.term for tag in entry.tags] == ["Leaks"]
    assert "Two documents disagree." in entry.summary
    assert entry.published.startswith(shown.reviewed_on.isoformat())


def test_the_corrections_feed_shows_a_later_rating_change(client: Client) -> None:
    claim = rated()
    draft = rated(state=State.DRAFT)
    assert read(client, "/feeds/corrections/").entries == []  # a first rating corrects nothing
    for changed in (claim, draft):
        changed.rating, changed.rating_rationale = Rating.FALSE, "The memo was fabricated."
        changed.save()

    [entry] = read(client, "/feeds/corrections/").entries

    assert entry.title.startswith("Disputed → False: ")
    assert entry.link == f"http://testserver/claims/{claim.pk}/#corrections-heading"
    assert "from Disputed to False. The memo was fabricated." in entry.summary
    assert entry.id.startswith(f"urn:claimtrail:claim:{claim.pk}:correction:")


def test_feeds_of_a_topic_a_person_and_a_source(client: Client) -> None:
    topic, person, source = TopicFactory(), PersonFactory(), SourceFactory()
    in_topic, by_person, about_person, citing = rated(), rated(claimant=person), rated(), rated()
    in_topic.topics.add(topic)
    about_person.people.add(person)
    CitationFactory(claim=citing, source=source)
    rated()  # in none of them

    def ids(url: str) -> set[str]:
        return {entry.link.rsplit("/", 2)[-2] for entry in read(client, url).entries}

    assert ids(f"/feeds/topics/{topic.slug}/") == {str(in_topic.pk)}
    assert ids(f"/feeds/people/{person.pk}/") == {str(by_person.pk), str(about_person.pk)}
    assert ids(f"/feeds/sources/{source.pk}/") == {str(citing.pk)}
    for missing in ("/feeds/topics/nothing/", "/feeds/people/999999/", "/feeds/sources/999999/"):
        assert client.get(missing).status_code == 404


def test_the_pages_link_their_feeds(client: Client) -> None:
    topic, person, source = TopicFactory(), PersonFactory(), SourceFactory()
    alternate = 'rel="alternate" type="application/atom+xml"'
    home = client.get("/").content.decode()
    assert f'{alternate} title="Fact-checks" href="/feeds/fact-checks/"' in home
    assert f'{alternate} title="Corrections" href="/feeds/corrections/"' in home
    for url, feed in (
        (f"/?topic={topic.slug}", f"/feeds/topics/{topic.slug}/"),
        (f"/people/{person.pk}/", f"/feeds/people/{person.pk}/"),
        (f"/sources/{source.pk}/", f"/feeds/sources/{source.pk}/"),
    ):
        assert f'href="{feed}"' in client.get(url).content.decode(), url


def test_naughty_strings_in_a_feed_stay_text(client: Client, naughty_strings: list[str]) -> None:
    for text in naughty_strings[:200]:
        rated(text=text, rating_rationale=text or "x")
    response = client.get("/feeds/fact-checks/")
    feed = feedparser.parse(response.content)
    assert not feed.bozo
    assert b"<script>alert(123)</script>" not in response.content


@pytest.mark.parametrize(
    "url", ["/feeds/fact-checks/", "/feeds/corrections/", "topic", "person", "source"]
)
def test_feeds_use_a_fixed_number_of_queries(
    client: Client, django_assert_num_queries: Any, url: str
) -> None:
    topic, person, source = TopicFactory(), PersonFactory(), SourceFactory()

    def make(count: int) -> None:
        for claim in (rated(claimant=person) for _ in range(count)):
            claim.topics.add(topic, TopicFactory())
            CitationFactory(claim=claim, source=source)
            claim.rating, claim.rating_rationale = Rating.FALSE, "Changed."
            claim.save()

    url = {
        "topic": f"/feeds/topics/{topic.slug}/",
        "person": f"/feeds/people/{person.pk}/",
        "source": f"/feeds/sources/{source.pk}/",
    }.get(url, url)
    make(2)
    client.get(url)  # warm: the site's settings and the like
    with CaptureQueriesContext(connection) as few:
        assert len(read(client, url).entries) == 2
    make(10)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(read(client, url).entries) == 12
    assert len(few.captured_queries) <= 4


def test_each_feed_names_its_own_address_and_its_page(client: Client) -> None:
    person = PersonFactory()
    for url, page in (
        ("/feeds/fact-checks/", "http://testserver/"),
        ("/feeds/corrections/", "http://testserver/"),
        (f"/feeds/people/{person.pk}/", f"http://testserver/people/{person.pk}/"),
    ):
        feed = read(client, url)
        links = {link.rel: link.href for link in feed.feed.links}
        assert links == {"self": f"http://testserver{url}", "alternate": page}
