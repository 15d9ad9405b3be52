"""The reading pages as a reader meets them: the verdict first, dates in words, one chain
per citation, empty and error states that explain themselves, people as a record."""

import re

import pytest
from django.core.management import call_command
from django.test import Client

from claims.models import Citation, Claim, Rating
from sources.dates import readable_date
from sources.models import Source
from tests.factories import ClaimFactory, PersonFactory

pytestmark = pytest.mark.django_db


def body_text(html: str) -> str:
    """The page as read: no tags, no attributes, no date details."""
    html = re.sub(r'<details class="date-details">.*?</details>', "", html, flags=re.S)
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize(
    ("wording", "edtf", "shown"),
    [
        ("July 31", "2019?-07-31", "31 July (year uncertain, probably 2019)"),
        ("Sept. 26", "2019?-09-26", "26 Sept. (year uncertain, probably 2019)"),
        ("2019-09-26", "2019-09-26", "26 Sept. 2019"),
        ("end of 2018", "2018-36", "end of 2018"),
        ("", "2018-36", "last quarter of 2018"),
        (
            "May and September",
            "{2019?-05,2019?-09}",
            "May and September (year uncertain, probably 2019)",
        ),
        ("", "{2019-05,2020-09}", "May 2019 and September 2020"),
        ("", "2014/..", "2014 or later"),
        ("", "2014/2015-06", "from 2014 to June 2015"),
        ("", "2017~", "about 2017"),
        ("", "199X", "the 1990s"),
        ("", "2019-XX", "between 1 Jan. 2019 and 31 Dec. 2019"),
    ],
)
def test_dates_read_as_people_write_them(wording: str, edtf: str, shown: str) -> None:
    assert readable_date(wording, edtf) == shown


def test_a_claim_page_opens_with_the_claim_who_when_then_the_verdict(client: Client) -> None:
    claim = ClaimFactory(
        text="Organs are removed on a massive scale.",
        claimant=PersonFactory(name="Sen. Example"),
        made_text="Sept. 26",
        made_edtf="2019?-09-26",
        rating=Rating.UNSUPPORTED,
        rating_rationale="The speech gives no evidence.",
    )
    claim.full_clean()
    claim.save()

    html = client.get(f"/claims/{claim.pk}/").content.decode()
    html = html[html.index("<blockquote") :]

    order = [
        "Organs are removed on a massive scale.",
        "Sen. Example",
        "26 Sept. (year uncertain, probably 2019)",
        'class="verdict verdict--unsupported"',
        ">Unsupported</a></h2>",
        "No evidence is given for it.",
        "The speech gives no evidence.",
        "Reviewed",
        'id="evidence-heading"',
        'id="corrections-heading"',
    ]
    assert [html.index(part) for part in order] == sorted(html.index(part) for part in order)
    assert 'href="/ratings/#rating-unsupported"' in html
    assert "2019?-09-26" not in body_text(html)


def test_the_ratings_page_explains_every_rating_and_reliability(client: Client) -> None:
    html = client.get("/ratings/").content.decode()

    for value in Rating.values:
        assert f'id="rating-{value}"' in html
    for value in ("generally_reliable", "no_consensus", "unrated"):
        assert f'id="reliability-{value}"' in html
    assert "neither reliable nor unreliable" in html


def test_demo_pages_show_no_edtf_and_no_day_without_its_year(client: Client) -> None:
    call_command("load_demo", verbosity=0)
    values = set(Claim.objects.values_list("made_edtf", flat=True))
    values |= set(Claim.objects.values_list("event_edtf", flat=True))
    values |= set(Source.objects.values_list("published_edtf", flat=True))
    values -= {""}
    pages = [
        "/",
        *(f"/claims/{pk}/" for pk in Claim.objects.published().values_list("pk", flat=True)),
    ]
    pages += [f"/sources/{pk}/" for pk in Source.objects.values_list("pk", flat=True)]
    pages += [f"/people/{pk}/" for pk in Claim.objects.values_list("claimant", flat=True) if pk]

    for page in pages:
        text = body_text(client.get(page).content.decode())
        assert not [v for v in values if v in text and not v.isdigit()], page
        # A day and month ("26 Sept.") always say the year, or that it is uncertain.
        for day in re.findall(
            r"\b\d{1,2} (?:Jan|Feb|March|April|May|June|July|Aug|Sept|Oct|Nov|Dec)\.?[^<]{0,40}",
            text,
        ):
            assert re.search(r"\d{4}", day), (page, day)
    assert "31 July (year uncertain, probably 2019)" in body_text(client.get("/").content.decode())


def test_a_citation_without_a_path_never_shows_its_source_s_upstream_tree(
    client: Client,
) -> None:
    call_command("load_demo", verbosity=0)
    leak = Source.objects.get(kind="leaked_document")
    speeches = leak.based_on.get()
    article = Source.objects.filter(provenance_links__isnull=False, derived_links__isnull=True)[0]
    unsourced = Citation.objects.filter(source=article, steps__isnull=True).first()
    assert unsourced is not None

    html = client.get(f"/claims/{unsourced.claim_id}/").content.decode()

    evidence = html[html.index('id="evidence-heading"') :]
    based_on = article.provenance_links.count()
    assert f"This source is based on {based_on} other sources; which of them this came " in evidence
    for upstream in (leak, speeches):
        if (
            not Citation.objects.filter(claim=unsourced.claim, source=upstream).exists()
            and not (
                Citation.objects.filter(claim=unsourced.claim, steps__link__based_on=upstream)
            ).exists()
        ):
            assert f'href="/sources/{upstream.pk}/"' not in evidence


def test_a_search_with_no_match_says_so_and_what_to_try(client: Client) -> None:
    ClaimFactory(text="The camp paid no money.")

    html = client.get("/?q=zebras&rating=false").content.decode()

    assert "No published claims match “zebras” with these filters." in html
    assert "try fewer or other words" in html
    assert 'href="/?q=zebras">Search again without the filters</a>' in html


def test_filter_errors_name_the_field_as_the_form_labels_it(client: Client) -> None:
    response = client.get("/?made_after=31-12-2018&rating=nope")

    html = response.content.decode()
    assert response.status_code == 400
    assert '<a href="#made_after">Made from</a>: enter a date like 2018-12-31.' in html
    assert '<a href="#rating">Rating</a>: choose one of the ratings listed.' in html


def test_a_source_page_lists_claims_under_each_role(client: Client) -> None:
    call_command("load_demo", verbosity=0)
    article = Source.objects.filter(provenance_links__isnull=False, derived_links__isnull=True)[0]

    html = client.get(f"/sources/{article.pk}/").content.decode()

    assert "<h3>Where the claim appears</h3>" in html
    assert html.index("<h3>Where the claim appears</h3>") < html.index("<h3>Context</h3>")
    assert "</span>:" not in html
    assert "(summarizes)" in html  # each link's note


def test_a_person_page_is_a_record_of_claims_with_ratings_and_dates(client: Client) -> None:
    call_command("load_demo", verbosity=0)
    cruz = Claim.objects.filter(claimant__name="Ted Cruz")[0].claimant

    html = client.get(f"/people/{cruz.pk}/").content.decode()

    assert "2 published claims:" in html
    assert f'href="/?claimant={cruz.pk}&amp;rating=unsupported"' in html
    record = html[html.index('<table class="record">') : html.index("</table>")]
    assert record.count("<tr>") == 3  # a header and two claims
    assert record.count("26 Sept. (year uncertain, probably 2019)") == 2
    assert record.count("Unsupported: no evidence given") == 2
