"""Two writers at the same moment, each on its own database connection, through the doors
editors use: whatever the timing, one write lands and the other is refused in words (or
both land when they do not overlap); never a 5xx, never a lost edit, never a deadlock
answered as a database outage. The row locks' order is sources.locks."""

# ruff: noqa: B023 (each round's writes run, and finish, inside that round)
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from claims.models import Citation
from config.bounds import GRACE_SECONDS
from sources.models import Provenance, Source
from tests.factories import CitationFactory, ClaimFactory, EditorFactory, SourceFactory
from tests.forms import form_data

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite takes one writer at a time"
    ),
]

ROUNDS = 20


def at_once(*writes: Callable[[], Any]) -> list[Any]:
    """Run each write in its own thread (and database connection), started together."""
    results: list[Any] = [None] * len(writes)
    start = threading.Barrier(len(writes))

    def run(index: int, write: Callable[[], Any]) -> None:
        try:
            start.wait()
            results[index] = write()
        except Exception as error:  # reported as the result, so the test shows it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(writes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def admin(username: str) -> Client:
    client = Client()
    client.force_login(EditorFactory(username=username))
    return client


def api(username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(EditorFactory(username=username))
    return client


def test_two_editors_saving_one_citation_page_at_once_never_both_win() -> None:
    ann, bea = admin("ann"), admin("bea")
    outcomes = []
    for round_ in range(ROUNDS):
        citation = CitationFactory(quote="Start.", locator="p. 1")
        url = f"/admin/claims/citation/{citation.pk}/change/"
        ann_form, bea_form = form_data(ann.get(url)), form_data(bea.get(url))
        ann_form["quote"] = f"Ann {round_}."
        bea_form["locator"] = f"p. {round_ + 2}"

        responses = at_once(lambda: ann.post(url, ann_form), lambda: bea.post(url, bea_form))

        citation.refresh_from_db()
        landed = [citation.quote != "Start.", citation.locator != "p. 1"]
        statuses = sorted(r.status_code for r in responses)
        refused = [r for r in responses if r.status_code == 200]
        told = all("while you were editing it" in r.content.decode() for r in refused)
        outcomes.append((statuses, landed.count(True), told))
    assert outcomes == [([200, 302], 1, True)] * ROUNDS


def test_a_nested_api_patch_and_a_citation_page_save_at_once_neither_deadlock_nor_lose() -> None:
    ann, bea = api("ann"), admin("bea")
    seen = set()
    for round_ in range(ROUNDS):
        citation = CitationFactory(quote="Start.", locator="p. 1")
        claim_url = f"/api/v1/claims/{citation.claim_id}/"
        page_url = f"/admin/claims/citation/{citation.pk}/change/"
        read = ann.get(claim_url)
        cited = read.json()["citations"][0]
        body = {
            "citations": [
                {
                    "id": cited["id"],
                    "source": cited["source"]["id"],
                    "role": cited["role"],
                    "quote": f"API {round_}.",
                    "locator": "p. 1",
                }
            ]
        }
        page = form_data(bea.get(page_url))
        page["locator"] = f"p. {round_ + 2}"

        api_response, page_response = at_once(
            lambda: ann.patch(claim_url, body, format="json", HTTP_IF_MATCH=read["ETag"]),
            lambda: bea.post(page_url, page),
        )

        citation.refresh_from_db()
        statuses = (api_response.status_code, page_response.status_code)
        # Whichever came first landed; the other was refused (412, or the form again).
        assert statuses in {(200, 200), (412, 302)}, (round_, statuses)
        if statuses == (200, 200):
            assert (citation.quote, citation.locator) == (f"API {round_}.", "p. 1")
            assert "while you were editing it" in page_response.content.decode()
        else:
            assert (citation.quote, citation.locator) == ("Start.", f"p. {round_ + 2}")
        seen.add(statuses)
    assert seen  # every round ended in one of the two outcomes above


def test_the_same_citation_added_by_the_api_and_the_admin_at_once_is_added_once() -> None:
    ann, bea = api("ann"), admin("bea")
    for round_ in range(ROUNDS):
        citation = CitationFactory(role="appearance")
        source = SourceFactory()
        claim_url = f"/api/v1/claims/{citation.claim_id}/"
        read = ann.get(claim_url)
        kept = {"id": citation.pk, "source": citation.source_id, "role": "appearance"}
        added = {"source": source.pk, "role": "supports", "quote": "Same."}
        add_page = form_data(bea.get("/admin/claims/citation/add/"))
        add_page.update(
            claim=str(citation.claim_id), source=str(source.pk), role="supports", quote="Same."
        )

        api_response, page_response = at_once(
            lambda: ann.patch(
                claim_url,
                {"citations": [kept, added]},
                format="json",
                HTTP_IF_MATCH=read["ETag"],
            ),
            lambda: bea.post("/admin/claims/citation/add/", add_page),
        )

        statuses = (api_response.status_code, page_response.status_code)
        assert statuses in {(200, 200), (412, 302), (400, 302)}, (round_, statuses)
        if statuses[1] == 200:
            assert "already cited in this role" in page_response.content.decode()
        count = Citation.objects.filter(claim=citation.claim_id, source=source).count()
        assert count == 1, round_


def test_two_sources_linked_to_each_other_at_once_make_no_cycle() -> None:
    ann, bea = api("ann"), api("bea")
    outcomes = set()
    for round_ in range(ROUNDS):
        one, two = SourceFactory(), SourceFactory()
        urls = [f"/api/v1/sources/{s.pk}/" for s in (one, two)]
        etags = [ann.get(url)["ETag"] for url in urls]

        responses = at_once(
            lambda: ann.patch(
                urls[0], {"based_on": [two.pk]}, format="json", HTTP_IF_MATCH=etags[0]
            ),
            lambda: bea.patch(
                urls[1], {"based_on": [one.pk]}, format="json", HTTP_IF_MATCH=etags[1]
            ),
        )

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 400], (round_, statuses, [r.content for r in responses])
        refused = next(r for r in responses if r.status_code == 400)
        assert "is itself based on" in refused.content.decode()
        links = Provenance.objects.filter(source__in=[one, two]).count()
        outcomes.add(links)
    assert outcomes == {1}


def test_a_path_written_while_its_link_is_dropped_never_follows_a_missing_link() -> None:
    """One editor records a path through report -> leak while another removes that link:
    either the path lands and the link stays (its removal refused, naming the citation), or
    the link goes and the path is refused naming the step. Never a path over a link gone."""
    ann, bea = api("ann"), api("bea")
    outcomes = set()
    for round_ in range(ROUNDS):
        article, report, leak = SourceFactory.create_batch(3)
        Provenance.objects.create(source=article, based_on=report)
        Provenance.objects.create(source=report, based_on=leak)
        citation = CitationFactory(source=article)
        claim_url = f"/api/v1/claims/{citation.claim_id}/"
        source_url = f"/api/v1/sources/{report.pk}/"
        etags = [ann.get(claim_url)["ETag"], bea.get(source_url)["ETag"]]

        path, drop = at_once(
            lambda: ann.patch(
                claim_url,
                {"citations": [{"id": citation.pk, "path": [report.pk, leak.pk]}]},
                format="json",
                HTTP_IF_MATCH=etags[0],
            ),
            lambda: bea.patch(source_url, {"based_on": []}, format="json", HTTP_IF_MATCH=etags[1]),
        )

        statuses = (path.status_code, drop.status_code)
        assert statuses in {(200, 400), (400, 200)}, (round_, statuses, path.content, drop.content)
        steps = list(citation.steps.values_list("link__based_on_id", flat=True))
        if path.status_code == 200:
            assert steps == [report.pk, leak.pk]
            assert Provenance.objects.filter(source=report, based_on=leak).exists()
            assert f"of citation {citation.pk}" in drop.content.decode()
        else:
            assert steps == []
            assert "Step 2:" in path.content.decode()
        outcomes.add(statuses)
    assert outcomes  # which one wins is the scheduler's choice


def test_a_source_deleted_while_an_api_write_cites_it_is_never_a_500() -> None:
    ann = api("ann")
    bea = Client()  # may delete sources (editors may not)
    bea.force_login(EditorFactory(username="bea", is_superuser=True))
    outcomes = set()
    for _ in range(ROUNDS):
        citation = CitationFactory(role="appearance")
        doomed = SourceFactory()
        url = f"/api/v1/claims/{citation.claim_id}/"
        read = ann.get(url)
        body = {
            "citations": [
                {"id": citation.pk, "source": citation.source_id, "role": "appearance"},
                {"source": doomed.pk, "role": "supports", "quote": "Cited."},
            ]
        }

        def delete() -> str:  # Bea confirms the deletion on the source's admin page
            page = bea.post(f"/admin/sources/source/{doomed.pk}/delete/", {"post": "yes"})
            if page.status_code == 302 and not Source.objects.filter(pk=doomed.pk).exists():
                return "deleted"
            assert "would require deleting the following protected" in page.content.decode()
            return "kept: cited"

        response, deleted = at_once(
            lambda: ann.patch(url, body, format="json", HTTP_IF_MATCH=read["ETag"]), delete
        )

        cited = Citation.objects.filter(source_id=doomed.pk).exists()
        if deleted == "deleted":  # first: the write names a source that is gone, in words
            assert response.status_code == 400, response.content
            assert "citations.1.source" in response.content.decode()
            assert not cited
        else:  # the write first: the citation protects its source
            assert (deleted, response.status_code, cited) == ("kept: cited", 200, True)
        outcomes.add(deleted)
    assert outcomes <= {"deleted", "kept: cited"}


def other_session() -> psycopg.Connection[Any]:
    """A database session of its own, outside the app (another editor's, a migration's)."""
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
    )


@contextlib.contextmanager
def held(table: str, pk: int) -> Iterator[None]:
    """A row locked by another session (another editor's long save) meanwhile."""
    with other_session() as other:
        other.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [pk])  # noqa: S608
        yield
        other.rollback()


def test_a_save_kept_waiting_past_the_lock_bound_is_refused_in_words_input_kept(
    settings: Any,
) -> None:
    settings.DATABASE_LOCK_WAIT_SECONDS = 0.2
    ann = admin("ann")
    citation = CitationFactory(quote="Start.")
    url = f"/admin/claims/citation/{citation.pk}/change/"
    form = form_data(ann.get(url))
    form["quote"] = "Ann's quote."

    with held("claims_claim", citation.claim_id):
        refused = ann.post(url, form)

    html = refused.content.decode()
    assert refused.status_code == 200
    assert "Someone else was saving this at the same moment" in html
    assert "Ann&#x27;s quote." in html
    citation.refresh_from_db()
    assert citation.quote == "Start."
    assert ann.post(url, form_data(refused)).status_code == 302  # once the other is done
    citation.refresh_from_db()
    assert citation.quote == "Ann's quote."


def test_an_api_write_kept_waiting_past_the_lock_bound_is_a_409_not_a_503(
    settings: Any,
) -> None:
    settings.DATABASE_LOCK_WAIT_SECONDS = 0.2
    ann = api("ann")
    claim = CitationFactory().claim
    url = f"/api/v1/claims/{claim.pk}/"
    etag = ann.get(url)["ETag"]

    with held("claims_claim", claim.pk):
        response = ann.patch(url, {"summary": "Ann's."}, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "conflict"
    assert "Someone else was saving this" in response.json()["errors"][0]["detail"]
    claim.refresh_from_db()
    assert claim.summary == ""


def test_a_read_kept_waiting_past_its_bound_is_cancelled_and_says_so(settings: Any) -> None:
    settings.DATABASE_QUERY_WAIT_SECONDS = 1
    ClaimFactory()
    reader = APIClient(raise_request_exception=False)  # the app answers the error itself
    with other_session() as other:  # a migration, say, holding the table
        other.execute("LOCK TABLE claims_claim IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        response = reader.get("/api/v1/claims/")
        took = time.monotonic() - started
        other.rollback()

    assert response.status_code == 503
    assert "took too long" in response.json()["errors"][0]["detail"]
    assert took < GRACE_SECONDS + 1  # cancelled at its bound, not cut after the grace
    assert reader.get("/api/v1/claims/").status_code == 200  # its connection still works
