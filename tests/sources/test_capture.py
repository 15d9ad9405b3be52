"""Capture on citing: a source saved with a URL gets a snapshot of its page, through every
door, from a web server on loopback (tests.pages), never the internet. Tasks run as they
are enqueued here (the immediate backend); tests/test_tasks.py runs them in a real worker."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from claims.imports import CitationResource
from claims.models import QuoteCheck
from sources.capture import fetch
from sources.models import Snapshot, Source
from sources.services import add_snapshot, save_source
from sources.tasks import capture_source
from tests.claims.test_import import import_file
from tests.factories import CitationFactory, ClaimFactory, SourceFactory
from tests.forms import form_data
from tests.pages import ARTICLE, Page, Site, serve_site

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}


@pytest.fixture
def site(settings: Any) -> Iterator[Site]:
    settings.LINK_CHECK_ALLOW_PRIVATE = True  # the test's pages are on loopback
    settings.CAPTURE_ON_SAVE = True
    for site in serve_site():
        site.pages["/story"] = Page(ARTICLE)
        yield site


def drain() -> int:
    """Run every task ready in the database, as a worker would; how many ran."""
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    ran = 0
    while (result := DBTaskResult.objects.ready().order_by("enqueued_at").first()) is not None:
        result.claim(worker.worker_id)
        worker.run_task(result)
        ran += 1
    return ran


def test_a_page_is_captured_stored_as_a_snapshot_and_its_quotes_checked(site: Site) -> None:
    source = SourceFactory(url=site.url("/story"))
    citation = CitationFactory(source=source, quote="Never allow escapes,")

    result = capture_source.enqueue(source.pk)

    assert result.status == "SUCCESSFUL", result.errors
    snapshot = Snapshot.objects.get(source=source)
    assert snapshot.fetched_from == site.url("/story")
    assert snapshot.created_by is None
    assert snapshot.media_type == "text/html"
    assert "Never allow escapes" in snapshot.text
    assert "Home" not in snapshot.text  # navigation is not the page's text
    assert QuoteCheck.objects.get(citation=citation).outcome == "exact"
    assert result.return_value["words"].startswith("Snapshot captured. 1 quote checked")
    # Again: the page is unchanged, so nothing new is kept.
    again = capture_source.enqueue(source.pk)
    assert again.return_value["outcome"] == "unchanged"
    assert Snapshot.objects.count() == 1


@pytest.mark.parametrize(
    ("page", "words"),
    [
        (Page(b"Gone.", status=404), "The page answered 404: nothing to capture."),
        (Page(b"x" * 2000), "The page is 2,000 bytes, over 1,000."),
        (Page(b"", status=200), "The page cannot be a snapshot: This file is empty."),
        (Page(b"%PDF-1.4 broken", content_type="application/pdf"), "The page cannot be a snapshot"),
        (Page(b"Busy.", status=503), "The page answered 503; asked again later. (tried 1 times)"),
    ],
)
def test_a_page_that_cannot_be_captured_fails_in_words_and_stores_nothing(
    site: Site, settings: Any, page: Page, words: str
) -> None:
    settings.SNAPSHOT_MAX_BYTES = 1000
    site.pages["/bad"] = page
    source = SourceFactory(url=site.url("/bad"))

    result = capture_source.enqueue(source.pk)

    assert result.status == "FAILED"
    assert words in result.errors[-1].traceback.strip().splitlines()[-1]
    assert not Snapshot.objects.exists()


def test_a_slow_page_is_given_up_on_in_time(site: Site, settings: Any) -> None:
    settings.CAPTURE_TIMEOUT = 1
    site.pages["/slow"] = Page(b"Too late.", delay=5)

    with pytest.raises(Exception, match="No answer in time"):
        fetch(site.url("/slow"))


def test_pages_on_this_machine_or_a_private_network_are_not_fetched(
    site: Site, settings: Any
) -> None:
    settings.LINK_CHECK_ALLOW_PRIVATE = False
    site.pages["/hop"] = Page(b"", status=302, headers={"Location": "http://10.0.0.1/admin"})
    for url in (site.url("/story"), "http://[::ffff:127.0.0.1]/", "http://169.254.169.254/"):
        with pytest.raises(Exception, match="private or local address"):
            fetch(url)
    assert site.hits("/story") == 0


def test_a_source_saved_in_the_admin_is_captured_once(editor_client: Client, site: Site) -> None:
    page = editor_client.get("/admin/sources/source/add/")
    data = form_data(page, "source_form")
    data.update(title="Leaked files", kind="news_article", url=site.url("/story"))

    response = editor_client.post("/admin/sources/source/add/", data, follow=True)

    assert response.status_code == 200
    source = Source.objects.get()
    assert Snapshot.objects.get(source=source).fetched_from == site.url("/story")
    assert "Its page is being captured as a snapshot." in response.content.decode()
    # Saved again: it has a snapshot, so no capture.
    change = f"/admin/sources/source/{source.pk}/change/"
    page = editor_client.get(change)
    editor_client.post(change, form_data(page, "source_form"))
    assert site.hits("/story") == 1


def test_capture_now_on_a_source_and_on_a_selection(
    editor_client: Client, site: Site, settings: Any
) -> None:
    site.pages["/other"] = Page(ARTICLE.replace(b"camp rules", b"other rules"))
    first = SourceFactory(url=site.url("/story"))
    second = SourceFactory(url=site.url("/other"))
    bare = SourceFactory(url="")
    settings.TASKS = DATABASE_TASKS  # queued, then run as a worker would
    change = f"/admin/sources/source/{first.pk}/change/"
    assert "Never run." in editor_client.get(change).content.decode()

    response = editor_client.post(f"/admin/sources/source/{first.pk}/capture/", follow=True)
    assert "Capture queued" in response.content.decode()
    assert "Queued." in editor_client.get(change).content.decode()
    drain()
    assert "Snapshot captured." in editor_client.get(change).content.decode()
    assert first.snapshots.count() == 1
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": []}
    }
    response = editor_client.post(
        "/admin/sources/source/",
        {"action": "capture_now", "_selected_action": [first.pk, second.pk, bare.pk]},
        follow=True,
    )
    assert "2 captures queued" in response.content.decode()
    assert "1 without a URL left out." in response.content.decode()
    assert (first.snapshots.count(), second.snapshots.count()) == (1, 1)
    assert editor_client.get(f"/admin/sources/source/{first.pk}/capture/").status_code == 302


def test_a_source_saved_through_the_api_is_captured(editor_api: APIClient, site: Site) -> None:
    response = editor_api.post(
        "/api/v1/sources/",
        {"title": "Leaked files", "kind": "news_article", "url": site.url("/story")},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert Snapshot.objects.get().source_id == response.json()["id"]


def test_the_api_captures_on_request_and_answers_a_task_to_poll(
    editor_api: APIClient, api_client: APIClient, site: Site, settings: Any
) -> None:
    settings.TASKS = DATABASE_TASKS
    source = SourceFactory(url=site.url("/story"))

    response = editor_api.post(f"/api/v1/sources/{source.pk}/capture/", format="json")

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "READY"
    assert response["Location"] == body["url"]
    assert editor_api.get(body["url"]).json()["status"] == "READY"
    assert drain() == 1
    polled = editor_api.get(body["url"]).json()
    assert polled["status"] == "SUCCESSFUL"
    assert polled["outcome"].startswith("Snapshot captured.")
    assert source.snapshots.count() == 1
    # Only editors capture and poll; a source without a URL is refused in words.
    assert api_client.post(f"/api/v1/sources/{source.pk}/capture/").status_code in (401, 403)
    assert api_client.get(body["url"]).status_code in (401, 403)
    bare = SourceFactory(url="")
    refused = editor_api.post(f"/api/v1/sources/{bare.pk}/capture/", format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["detail"] == "This source has no URL to capture."
    assert editor_api.get("/api/v1/tasks/not-a-task/").status_code == 404


def test_a_source_added_by_the_import_is_captured(site: Site) -> None:
    claim = ClaimFactory()
    data = (
        "claim_id,citation_id,role,source_id,source_title,source_kind,source_url\n"
        f"{claim.pk},,supports,,Leaked files,news_article,{site.url('/story')}\n"
    ).encode()

    result = import_file(CitationResource(), data)

    assert not result.has_errors()
    assert not result.invalid_rows
    assert Snapshot.objects.get().fetched_from == site.url("/story")


def test_a_save_rolled_back_enqueues_nothing(site: Site, settings: Any) -> None:
    settings.TASKS = DATABASE_TASKS
    data = {"title": "T", "kind": "report", "url": site.url("/story")}

    def edit_that_fails() -> None:
        with transaction.atomic():
            save_source(source=None, data=data)
            assert DBTaskResult.objects.count() == 1
            raise RuntimeError("the edit fails after the source was written")

    with pytest.raises(RuntimeError):
        edit_that_fails()
    assert not DBTaskResult.objects.exists()
    save_source(source=None, data={"title": "T", "kind": "report", "url": site.url("/story")})
    assert DBTaskResult.objects.get().task_path == "sources.tasks.capture_source"


def test_until_a_new_snapshot_is_checked_readers_are_told_it_is_being_checked(
    editor: Any, api_client: APIClient, settings: Any
) -> None:
    settings.TASKS = DATABASE_TASKS
    citation = CitationFactory(quote="Never allow escapes,")
    add_snapshot(
        source=citation.source,
        upload=SimpleUploadedFile("a.txt", b"They said: Never allow escapes, twice."),
        captured_at=citation.claim.created_at,
        user=editor,
    )
    assert QuoteCheck.objects.get(citation=citation).outcome == "checking"
    page = Client().get(f"/claims/{citation.claim_id}/").content.decode()
    assert "Being checked against the snapshot of" in page
    document = api_client.get(f"/api/v1/claims/{citation.claim_id}/").json()
    assert document["citations"][0]["quote_check"]["outcome"] == "checking"

    assert drain() == 1

    assert QuoteCheck.objects.get(citation=citation).outcome == "exact"
    page = Client().get(f"/claims/{citation.claim_id}/").content.decode()
    assert "found as quoted" in page


def test_a_captured_page_suggests_its_metadata_and_never_writes_it(
    editor_client: Client, site: Site
) -> None:
    from tests.factories import OrganizationFactory

    times = OrganizationFactory(name="The Example Times")
    source = SourceFactory(url=site.url("/story"), title="As the editor typed it", publisher=None)
    source.published_text = "November 2019"
    source.save()

    capture_source.enqueue(source.pk)

    snapshot = Snapshot.objects.get()
    assert snapshot.metadata == {
        "title": "Leaked files detail camp rules",
        "authors": "A Reporter",
        "published": "2019-11-16",
        "site_name": "The Example Times",
    }
    source.refresh_from_db()
    assert (source.title, source.published_text, source.publisher) == (
        "As the editor typed it",
        "November 2019",
        None,
    )
    page = editor_client.get(f"/admin/sources/source/{source.pk}/change/").content.decode()
    assert 'data-suggest-for="id_title" data-value="Leaked files detail camp rules"' in page
    assert 'data-suggest-for="id_published_text" data-value="2019-11-16"' in page
    publisher = 'data-suggest-for="id_publisher" data-value="The Example Times"'
    assert f'{publisher} data-option-id="{times.pk}"' in page
    assert "A Reporter (not yet here)" in page
    assert 'data-create-url="/admin/sources/source/suggested-person/" data-kind="person"' in page
    assert "admin/sources/suggestions.js" in page
    # What the editor took is shown as taken, with no button.
    source.title = "Leaked files detail camp rules"
    source.save()
    page = editor_client.get(f"/admin/sources/source/{source.pk}/change/").content.decode()
    assert "Title: Leaked files detail camp rules (as typed)" in page
    assert 'data-suggest-for="id_title"' not in page


def test_metadata_of_a_hostile_page_is_escaped(editor_client: Client, site: Site) -> None:
    site.pages["/evil"] = Page(
        b'<html><head><title>"><script>alert(1)</script></title></head>'
        b"<body><article><p>Some words of the page.</p></article></body></html>"
    )
    source = SourceFactory(url=site.url("/evil"))
    capture_source.enqueue(source.pk)

    page = editor_client.get(f"/admin/sources/source/{source.pk}/change/").content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_pdf_is_captured_with_its_text(site: Site) -> None:
    from tests.sources.test_snapshots import pdf_with_text

    site.pages["/report.pdf"] = Page(
        pdf_with_text("Never allow escapes, the report says."), content_type="application/pdf"
    )
    source = SourceFactory(url=site.url("/report.pdf"))

    result = capture_source.enqueue(source.pk)

    assert result.status == "SUCCESSFUL", result.errors
    snapshot = Snapshot.objects.get()
    assert snapshot.media_type == "application/pdf"
    assert "Never allow escapes" in snapshot.text
    assert snapshot.metadata == {}  # suggestions come from HTML pages


def test_naughty_strings_in_a_page_s_metadata_are_read_kept_and_shown_escaped(
    editor_client: Client, naughty_strings: list[str]
) -> None:
    from html import escape

    from sources.extraction import html_metadata

    titles = []
    for text in naughty_strings:
        page = f"<html><head><title>{escape(text)}</title></head><body><p>x</p></body></html>"
        found = html_metadata(page.encode("utf-8", "surrogatepass"))
        assert set(found) <= {"title", "authors", "published", "site_name"}, text
        assert all(isinstance(v, str) and "\x00" not in v for v in found.values()), text
        titles.append(found.get("title", ""))
    assert sum(1 for title in titles if title) > len(naughty_strings) // 2
    # Kept on a snapshot and offered beside the fields, escaped.
    source = SourceFactory()
    for n, title in enumerate(t for t in titles if t):
        Snapshot.objects.create(
            source=source,
            file=f"snapshots/naughty/{n}.html",
            media_type="text/html",
            sha256=f"{n:064x}",
            size=1,
            captured_at=source.created_at,
            text="x",
            metadata={"title": title, "authors": title, "site_name": title},
        )
        if n % 50:
            continue
        page = editor_client.get(f"/admin/sources/source/{source.pk}/change/")
        assert page.status_code == 200, title
        assert "<script>alert(123)</script>" not in page.content.decode()


def test_a_suggested_name_is_added_once_on_the_editor_s_click(editor_client: Client) -> None:
    from sources.models import Person

    url = "/admin/sources/source/suggested-person/"
    first = editor_client.post(url, {"name": "  A   Reporter ", "kind": "person"})
    again = editor_client.post(url, {"name": "A Reporter", "kind": "person"})

    assert first.status_code == 200
    assert first.json() == again.json()
    person = Person.objects.get(name="A Reporter")
    assert (first.json()["id"], person.kind) == (person.pk, "person")
    assert person.history.get().history_user is not None  # who added it
    site = editor_client.post(url, {"name": "The Example Times", "kind": "organization"})
    assert Person.objects.get(pk=site.json()["id"]).kind == "organization"
    # Bad input is refused in words and adds nothing; only POST, only editors.
    for data, words in (
        ({"name": "", "kind": "person"}, "This field cannot be blank."),
        ({"name": "x" * 201, "kind": "person"}, "at most 200 characters"),
        ({"name": "X", "kind": "group"}, "Not a kind of person this takes."),
    ):
        refused = editor_client.post(url, data)
        assert refused.status_code == 400
        assert words in refused.json()["error"]
    assert Person.objects.count() == 2
    assert editor_client.get(url).status_code == 405
    assert Client().post(url, {"name": "Y", "kind": "person"}).status_code == 302  # sign in
