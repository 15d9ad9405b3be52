import re

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings

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
    from claims.rules import publishing_errors, stored_roles

    call_command("load_demo", verbosity=0)

    broken = {
        claim.pk: errors
        for claim in Claim.objects.published()
        if (errors := publishing_errors(claim, stored_roles(claim)))
    }
    assert broken == {}


def test_the_leaked_documents_caveat_and_link_notes_reach_the_claims_resting_on_them(
    client: Client,
) -> None:
    call_command("load_demo", verbosity=0)
    leak = Source.objects.get(kind="leaked_document")
    resting = Claim.objects.published().filter(citations__source__provenance_links__isnull=False)
    claim = next(c for c in resting.distinct() if leak.pk in _upstream_ids(client, c.pk))

    body = client.get(f"/api/v1/claims/{claim.pk}/").json()
    upstream = [s for c in body["citations"] for s in c["source"]["provenance"]]
    [shown] = {s["id"]: s for s in upstream if s["id"] == leak.pk}.values()
    assert shown["reliability_note"] == leak.reliability_note
    assert "has not seen the documents" in shown["reliability_note"]
    # The note of every link along each citation's own chain (its via path when given).
    notes = set()
    for citation in body["citations"]:
        chain = set(citation["chain"])
        sources = [citation["source"], *citation["source"]["provenance"]]
        for source in sources:
            if source["id"] == citation["source"]["id"] or source["id"] in chain:
                notes |= {link["note"] for link in source["links"] if link["based_on"] in chain}
    assert "records the speeches" in notes
    page = client.get(f"/claims/{claim.pk}/").content.decode()
    assert "has not seen the documents" in page
    assert all(note in page for note in notes)


def _upstream_ids(client: Client, pk: int) -> set[int]:
    body = client.get(f"/api/v1/claims/{pk}/").json()
    return {s["id"] for c in body["citations"] for s in c["source"]["provenance"]}


def test_a_citation_through_the_ap_report_shows_only_that_chain(client: Client) -> None:
    call_command("load_demo", verbosity=0)
    ap = Source.objects.get(title__startswith="Associated Press")
    claim = Claim.objects.get(text__startswith="In these forced labor camps")

    body = client.get(f"/api/v1/claims/{claim.pk}/").json()
    [through_article] = [c for c in body["citations"] if c["via"] is not None]

    assert (through_article["via"], through_article["chain"]) == (ap.pk, [ap.pk])
    assert len(through_article["source"]["provenance"]) > 1  # the article rests on more
    page = client.get(f"/claims/{claim.pk}/").content.decode()
    evidence = page.split('id="evidence-heading"')[1]
    # One chain on the page: the article has the claim through the AP report.
    [chain] = re.findall(r'<div class="chain">(.*?)</div>', evidence, re.S)
    assert "It has this through:" in chain
    assert ap.title in chain
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
