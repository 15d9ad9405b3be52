import json
import re
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings

from claims.demo import DEMO_FILE
from claims.models import Citation, Claim, QuoteCheck, Rating, Role, State
from sources.models import Person, Source

pytestmark = pytest.mark.django_db


def row_counts() -> dict[str, int]:
    """Rows in every table of our apps, history tables included."""
    return {
        model._meta.label: model._default_manager.count()
        for app in ("claims", "sources")
        for model in apps.get_app_config(app).get_models()
    }


def test_load_demo_twice_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("load_demo")
    first = row_counts()
    call_command("load_demo")

    assert row_counts() == first
    assert "nothing changed" in capsys.readouterr().out
    assert first["claims.Claim"] >= 15
    assert first["claims.HistoricalClaim"] >= first["claims.Claim"]


def test_load_demo_keeps_an_editors_later_correction() -> None:
    call_command("load_demo")
    claim = Claim.objects.get(text__startswith="The camp paid no money")
    claim.summary = "An editor's summary."
    claim.save()

    call_command("load_demo")

    claim.refresh_from_db()
    assert claim.summary == "An editor's summary."


def test_demo_claims_keep_their_dates_as_written() -> None:
    call_command("load_demo")
    dates = {(c.made_text, c.made_edtf) for c in Claim.objects.exclude(made_text="")}
    assert ("end of 2018", "2018-36") in dates
    assert ("July 31", "2019?-07-31") in dates
    assert ("Sept. 26", "2019?-09-26") in dates
    assert ("May and September", "{2019?-05,2019?-09}") in dates
    events = set(Claim.objects.values_list("event_text", "event_edtf"))
    assert ("2014", "2014") in events


def test_demo_sources_trace_the_article_back_to_the_leaked_documents() -> None:
    call_command("load_demo")
    article = Source.objects.get(title__startswith="China's mass detention of Uighurs")
    nyt = article.based_on.get(publisher__name="The New York Times")
    leak = nyt.based_on.get()
    assert (leak.kind, leak.is_primary) == ("leaked_document", True)
    assert leak.based_on.get().authors.get().name == "Xi Jinping"


def test_demo_claims_without_evidence_say_so() -> None:
    call_command("load_demo")
    unsupported = Claim.objects.filter(rating=Rating.UNSUPPORTED)
    assert unsupported.count() >= 2
    for claim in unsupported:
        assert claim.rating_rationale
        appearance = claim.citations.get(role=Role.APPEARANCE)
        assert appearance.quote
        assert appearance.reliability_note
    unattributed = Claim.objects.filter(claimant__isnull=True, rating=Rating.UNSUPPORTED)
    assert any(
        "no source" in c.citations.get(role=Role.APPEARANCE).reliability_note.lower()
        or "no evidence" in c.citations.get(role=Role.APPEARANCE).reliability_note.lower()
        for c in unattributed
    )


def test_demo_data_has_claimants_people_and_a_draft() -> None:
    call_command("load_demo")
    assert Person.objects.get(name="Ted Cruz").description == "U.S. Senator (R-Texas)"
    assert Claim.objects.filter(claimant__name="Ted Cruz").count() == 2
    assert Claim.objects.filter(state=State.DRAFT).count() == 1
    assert Person.objects.get(name="Fox News").reliability == "no_consensus"


def test_every_demo_record_passes_validation() -> None:
    call_command("load_demo")
    for model in (Claim, Source, Person):
        for obj in model.objects.all():
            obj.full_clean()


def test_demo_login_refuses_to_run_without_debug() -> None:
    with pytest.raises(CommandError, match="only runs with DEBUG=true"):
        call_command("demo_login")


@override_settings(DEBUG=True)
def test_demo_login_creates_an_editor_who_sees_the_demo_claims(client: Client) -> None:
    call_command("load_demo")
    call_command("demo_login")
    call_command("demo_login")

    signed_in = client.post(
        "/admin/login/", {"username": "editor", "password": "editor", "next": "/admin/"}
    )
    assert signed_in.status_code == 302
    response = client.get("/admin/claims/claim/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == Claim.objects.count()
    claim = Claim.objects.get(text__startswith="In these forced labor camps")
    page = client.get(f"/admin/claims/claim/{claim.pk}/change/").content.decode()
    assert "Cited by the article, not checked against the original report." in page


def test_every_published_demo_claim_keeps_the_publishing_rules() -> None:
    from claims.rules import publishing_errors, stored_evidence

    call_command("load_demo", verbosity=0)

    broken = {
        claim.pk: errors
        for claim in Claim.objects.published()
        if (errors := publishing_errors(claim, stored_evidence(claim)))
    }
    assert broken == {}


def test_the_leaked_documents_caveat_and_the_path_notes_reach_xis_quoted_words(
    client: Client,
) -> None:
    call_command("load_demo", verbosity=0)
    article = Source.objects.get(title__startswith="China's mass detention")
    leak = Source.objects.get(kind="leaked_document")
    speeches = Source.objects.get(kind="speech", authors__name="Xi Jinping")
    claim = Claim.objects.published().get(text__contains="We must be as harsh as them")

    body = client.get(f"/api/v1/claims/{claim.pk}/").json()
    [through_article] = [c for c in body["citations"] if c["source"]["id"] == article.pk]
    steps = through_article["path"]
    assert [step["note"] for step in steps] == [
        "summarizes",
        "obtained the documents",
        "records the speeches",
    ]
    assert [step["source"]["id"] for step in steps][1:] == [leak.pk, speeches.pk]
    assert through_article["origin"] == speeches.pk
    [shown] = [step["source"] for step in steps if step["source"]["id"] == leak.pk]
    assert shown["reliability_note"] == leak.reliability_note
    assert "has not seen the documents" in shown["reliability_note"]
    page = client.get(f"/claims/{claim.pk}/").content.decode()
    assert "has not seen the documents" in page
    assert all(step["note"] in page for step in steps)


def test_a_citation_through_the_ap_report_shows_only_that_path(client: Client) -> None:
    call_command("load_demo", verbosity=0)
    ap = Source.objects.get(title__startswith="Associated Press")
    claim = Claim.objects.get(text__startswith="In these forced labor camps")

    body = client.get(f"/api/v1/claims/{claim.pk}/").json()
    [through_article] = [c for c in body["citations"] if c["path"]]

    assert [step["source"]["id"] for step in through_article["path"]] == [ap.pk]
    assert through_article["origin"] == ap.pk
    assert through_article["source"]["based_on_count"] > 1  # the article rests on more
    page = client.get(f"/claims/{claim.pk}/").content.decode()
    evidence = page.split('id="evidence-heading"')[1]
    # One path on the page: the article has the claim through the AP report.
    [path] = re.findall(r'<div class="chain">(.*?)</div>', evidence, re.S)
    assert ap.title in path
    for other in ("The New York Times", "The Guardian", "Fox News", "Leaked internal"):
        assert other not in evidence, other


def test_the_demo_articles_quotes_show_as_checked_against_its_snapshot(client: Client) -> None:
    call_command("load_demo")
    article = Source.objects.get(title__startswith="China's mass detention")
    quoted = Citation.objects.filter(source=article).exclude(quote="")
    checks = QuoteCheck.objects.filter(citation__in=quoted)

    assert checks.count() == quoted.count() >= 15
    assert set(checks.values_list("outcome", flat=True)) <= {"exact", "normalised"}
    claim = quoted.filter(claim__state=State.PUBLISHED).first().claim
    page = client.get(claim.get_absolute_url()).content.decode()
    assert "Quote checked against the snapshot of 28 November 2026" in page


# Each citation's path (source ids, nearest first), by its cited source's id and its role.
Paths = dict[tuple[int, str], list[int]]


def recorded_in_the_demo_file() -> tuple[dict[int, set[int]], dict[int, Paths]]:
    """What the demo file records for each published claim, as ids in the database: the
    sources its citations cite, the sources on their paths and its claimant source; and
    each citation's path, by (cited source, role)."""
    data = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    ids = {row["key"]: Source.objects.get(title=row["title"]).pk for row in data["sources"]}
    sources: dict[int, set[int]] = {}
    paths: dict[int, Paths] = {}
    for row in data["claims"]:
        if row.get("state", State.PUBLISHED) != State.PUBLISHED:
            continue
        pk = Claim.objects.get(text=row["text"]).pk
        sources[pk] = {ids[row["claimant_source"]]} if "claimant_source" in row else set()
        paths[pk] = {}
        for citation in row["citations"]:
            path = [ids[key] for key in citation.get("path", [])]
            sources[pk] |= {ids[citation["source"]], *path}
            paths[pk][ids[citation["source"]], citation["role"]] = path
    return sources, paths


def sources_shown(document: dict[str, Any]) -> set[int]:
    """Every source a claim's API document shows: its citations' sources, the sources on
    their paths, each citation's origin, a source claimant, and anything else in it shaped
    like a source (should an upstream tree come back)."""
    shown = {citation["source"]["id"] for citation in document["citations"]}
    shown |= {step["source"]["id"] for c in document["citations"] for step in c["path"]}
    shown |= {citation["origin"] for citation in document["citations"]}
    if document["claimant"] and document["claimant"]["type"] == "source":
        shown.add(document["claimant"]["id"])

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "is_primary" in value:
                shown.add(value["id"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(document)
    return shown


def paths_shown(document: dict[str, Any]) -> Paths:
    return {
        (citation["source"]["id"], citation["role"]): [
            step["source"]["id"] for step in citation["path"]
        ]
        for citation in document["citations"]
    }


def source_links(page: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'href="/sources/(\d+)/"', page)}


def test_no_demo_claim_shows_a_source_off_its_recorded_paths(client: Client) -> None:
    """The API (list and detail) and the claim pages show each citation's source and the
    path recorded for it, and no other source: no upstream tree the article does not tie
    to the claim."""
    call_command("load_demo", verbosity=0)
    recorded, paths = recorded_in_the_demo_file()
    listed: dict[int, dict[str, Any]] = {}
    url: str | None = "/api/v1/claims/"
    while url:
        response = client.get(url).json()
        listed |= {document["id"]: document for document in response["results"]}
        url = response["next"]
    assert set(listed) == set(recorded)

    for pk, expected in recorded.items():
        detail = client.get(f"/api/v1/claims/{pk}/").json()
        for document in (detail, listed[pk]):
            assert sources_shown(document) == expected, pk
            assert paths_shown(document) == paths[pk], pk
        page = client.get(f"/claims/{pk}/").content.decode()
        assert source_links(page) == expected, pk


def test_the_claim_list_links_no_source_but_the_documents_claims_are_attributed_to(
    client: Client,
) -> None:
    call_command("load_demo", verbosity=0)
    linked: set[int] = set()
    number = 1
    while True:
        response = client.get("/", {"page": number})
        linked |= source_links(response.content.decode())
        if not response.context["page"].has_next():
            break
        number += 1

    attributed = Claim.objects.published().exclude(claimant_source=None)
    assert linked == set(attributed.values_list("claimant_source", flat=True))
    assert linked == {Source.objects.get(kind="leaked_document").pk}
