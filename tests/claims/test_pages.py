import json
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from claims.models import Claim, Rating, Role, State
from claims.paths import resolve_path
from claims.services import write_paths
from sources.models import Provenance
from tests.factories import (
    CitationFactory,
    ClaimFactory,
    PersonFactory,
    SourceFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db


def test_the_home_page_lists_published_claims_newest_first(client: Client) -> None:
    older = ClaimFactory(text="Older claim.")
    newer = ClaimFactory(text="Newer claim.")
    ClaimFactory(text="Secret draft.", state=State.DRAFT)
    Claim.objects.filter(pk=older.pk).update(updated_at="2020-01-01T00:00:00Z")

    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Newer claim.") < html.index("Older claim.")
    assert "Secret draft." not in html
    assert f'href="/claims/{newer.pk}/"' in html


def test_search_and_filters_narrow_the_list(client: Client) -> None:
    topic = TopicFactory(slug="forced-labor", name="Forced labor")
    wages = ClaimFactory(text="The camp paid no wages.", rating="false", rating_rationale="x")
    wages.topics.add(topic)
    wages.made_text = "end of 2018"
    wages.full_clean()
    wages.save()
    ClaimFactory(text="Something else.")

    def listed(**params: str) -> list[str]:
        html = client.get("/", params).content.decode()
        return re.findall(r'class="claim-card__text">\s*<a href="/claims/(\d+)/"', html)

    assert listed(q="wages") == [str(wages.pk)]
    assert listed(rating="false") == [str(wages.pk)]
    assert listed(topic="forced-labor") == [str(wages.pk)]
    assert listed(made_after="2018-12-01", made_before="2018-12-31") == [str(wages.pk)]
    assert listed(made_after="2019-01-01") == []


def test_the_search_form_as_browsers_send_it_works(client: Client) -> None:
    claim = ClaimFactory(text="Harsh words.")
    response = client.get("/?q=harsh&rating=&topic=&made_after=&made_before=")
    assert response.status_code == 200
    assert f'href="/claims/{claim.pk}/"' in response.content.decode()


def test_a_bad_filter_is_a_400_with_a_readable_error(client: Client) -> None:
    response = client.get("/", {"made_after": "end of 2018"})
    assert response.status_code == 400
    assert "Some filters could not be used" in response.content.decode()


def test_filtering_by_person_names_them(client: Client) -> None:
    cruz = PersonFactory(name="Ted Cruz")
    ClaimFactory(claimant=cruz)

    html = client.get("/", {"claimant": cruz.pk}).content.decode()

    assert "Made by" in html
    assert "<strong>Ted Cruz</strong>" in html


def test_the_list_pages_through_claims(client: Client) -> None:
    ClaimFactory.create_batch(25)
    first = client.get("/").content.decode()
    second = client.get("/", {"page": 2}).content.decode()
    assert "Page 1 of 2" in first
    assert first.count('class="claim-card"') == 20
    assert second.count('class="claim-card"') == 5


def test_a_claim_page_shows_its_evidence_dates_and_provenance(client: Client) -> None:
    leak = SourceFactory(title="The leaked documents", is_primary=True, publisher=None)
    report = SourceFactory(title="The newspaper's report")
    Provenance.objects.create(source=report, based_on=leak)
    claim = ClaimFactory(text="Show absolutely no mercy.", made_text="end of 2018")
    claim.full_clean()
    claim.save()
    CitationFactory(
        claim=claim,
        source=report,
        role=Role.SUPPORTS,
        quote="“We must be as harsh as them.”",
        reliability_note="Based on documents the newspaper obtained.",
    )

    response = client.get(f"/claims/{claim.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Show absolutely no mercy." in html
    assert "end of 2018" in html
    # The EDTF value only in the date's details, never in the body text.
    assert "<code>2018-36</code>" in html
    assert "2018-36" not in re.sub(
        r'<details class="date-details">.*?</details>', "", html, flags=re.S
    )
    assert "“We must be as harsh as them.”" in html
    assert "Based on documents the newspaper obtained." in html
    citation = html[html.index('id="evidence-heading"') :]
    # No path recorded: the report alone, and how many sources it rests on, never which.
    assert (
        "This source is based on 1 other source; which of them this came through is not "
        "recorded" in citation
    )
    assert "The leaked documents" not in citation
    assert "1 supporting citation from 1 independent origin" in citation


def test_a_claim_page_shows_a_citation_s_recorded_path_step_by_step(client: Client) -> None:
    speeches = SourceFactory(title="The speeches", is_primary=True, publisher=None)
    leak = SourceFactory(title="The leaked documents", reliability_note="Not seen by us.")
    report = SourceFactory(title="The newspaper's report")
    Provenance.objects.create(source=report, based_on=leak, note="obtained the documents")
    Provenance.objects.create(source=leak, based_on=speeches, note="records the speeches")
    claim = ClaimFactory()
    citation = CitationFactory(claim=claim, source=report, role=Role.SUPPORTS)
    write_paths({citation: resolve_path(report.pk, [leak.pk])}, user=None)

    html = client.get(f"/claims/{claim.pk}/").content.decode()

    evidence = html[html.index('id="evidence-heading"') :]
    assert "The path it came by, as recorded:" in evidence
    assert evidence.index("The newspaper&#x27;s report") < evidence.index("obtained the documents")
    assert evidence.index("obtained the documents") < evidence.index("The leaked documents")
    assert "Not seen by us." in evidence
    # The documents rest on the speeches, but this path stops at the documents.
    assert "The speeches" not in evidence
    assert "records the speeches" not in evidence


def test_a_claim_page_embeds_its_claimreview(client: Client) -> None:
    claim = ClaimFactory(
        text="Organs </script><script>alert(1)</script> harvested.",
        rating=Rating.DISPUTED,
        rating_rationale="Disputed </script> by two reports.",
    )

    html = client.get(f"/claims/{claim.pk}/").content.decode()

    [raw] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    data = json.loads(raw)
    assert data["@type"] == "ClaimReview"
    assert data["claimReviewed"] == claim.text
    assert "<script>alert(1)</script>" not in html


def test_drafts_are_not_reachable(client: Client, editor_client: Client) -> None:
    draft = ClaimFactory(state=State.DRAFT, text="Draft only.")
    citation = CitationFactory(claim=draft)

    assert client.get(f"/claims/{draft.pk}/").status_code == 404
    assert editor_client.get(f"/claims/{draft.pk}/").status_code == 404
    assert "Draft only." not in client.get(f"/sources/{citation.source_id}/").content.decode()
    assert "Draft only." not in client.get(f"/people/{draft.claimant_id}/").content.decode()
    assert "Draft only." not in client.get("/", {"q": "Draft"}).content.decode()


def test_source_and_person_pages_show_what_they_are_and_their_claims(client: Client) -> None:
    call_command("load_demo")
    cruz = Claim.objects.get(text__startswith="The Chinese Communist Party not only").claimant
    first = Claim.objects.get(text__startswith="CCP leader Xi Jinping first called")
    article = first.citations.get(role="appearance").source

    person = client.get(f"/people/{cruz.pk}/").content.decode()
    source = client.get(f"/sources/{article.pk}/").content.decode()

    assert "U.S. Senator (R-Texas)" in person
    assert "removes their organs on a massive scale" in person
    assert "Our copy names no publisher" in source
    assert "Where the claim appears" in source
    assert "The New York Times report on the leaked Xinjiang documents" in source


def test_everything_entered_is_escaped(client: Client, naughty_strings: list[str]) -> None:
    source = SourceFactory(title="<script>alert('title')</script>")
    person = PersonFactory(name="<img src=x onerror=alert(1)>")
    for text in naughty_strings[:150]:
        CitationFactory(
            claim=ClaimFactory(text=text, summary=text, claimant=person),
            source=source,
            quote=text,
            reliability_note=text,
        )
    pages = ["/", "/?page=2", f"/sources/{source.pk}/", f"/people/{person.pk}/"]
    pages += [f"/claims/{pk}/" for pk in Claim.objects.values_list("pk", flat=True)[:150]]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "<script>alert(" not in html, url
        assert "<img src=x onerror" not in html, url


@pytest.mark.parametrize("kind", ["list", "claim", "source", "person"])
def test_pages_use_a_fixed_number_of_queries(
    client: Client, django_assert_num_queries: Any, kind: str
) -> None:
    def make(count: int) -> Claim:
        claim = None
        for claim in ClaimFactory.create_batch(count):
            claim.people.add(PersonFactory())
            for role in (Role.SUPPORTS, Role.DISPUTES, Role.CONTEXT):
                CitationFactory(claim=claim, source=source, role=role)
            Provenance.objects.get_or_create(source=source, based_on=upstream)
        assert claim is not None
        return claim

    source, upstream = SourceFactory(), SourceFactory(is_primary=True)
    claim = make(2)
    urls = {
        "list": "/",
        "claim": f"/claims/{claim.pk}/",
        "source": f"/sources/{source.pk}/",
        "person": f"/people/{claim.claimant_id}/",
    }
    # list: count, page (claimants and citation counts joined), topics for the form;
    # claim: the claim and its claimant and reviewer, people, topics, citations with their
    # sources, their paths' steps, their open changes at the source, how many sources each
    # cited one is based on, its rating
    # history, its related claims (these claims are unrated: no ClaimReview, so no query
    # for its appearances); source: the source, its links both ways, the claims citing it
    # and those attributed to it.
    expected = {"list": 3, "claim": 9, "source": 5, "person": 5}[kind]
    with django_assert_num_queries(expected):
        assert client.get(urls[kind]).status_code == 200
    make(15)
    with django_assert_num_queries(expected):
        assert client.get(urls[kind]).status_code == 200


@pytest.mark.parametrize("value", ["\u00b2", "\u0661", "12a", "9" * 19, "-1"])
def test_an_id_filter_that_is_not_ascii_digits_is_a_form_error(client: Client, value: str) -> None:
    for key in ("person", "claimant", "publisher"):
        response = client.get("/", {key: value})

        assert response.status_code == 400, (key, value)
        assert "Some filters could not be used" in response.content.decode()
