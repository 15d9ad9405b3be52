"""Archive requests (sources.archive_requests) against a fake Save Page Now server on
loopback: the save is asked once, its job followed to the end, the copy recorded; rate
limits and a job under way are retried later, never fatal to the capture."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from sources.models import ArchiveRequest, Snapshot
from sources.tasks import capture_source
from tests.factories import SourceFactory
from tests.pages import ARTICLE, Page, Site, serve_site
from tests.sources.test_capture import DATABASE_TASKS, drain

pytestmark = pytest.mark.django_db


class FakeArchive:
    """A Save Page Now endpoint: the save answers 429 `busy` times, then a job; the job's
    status is pending `pending` times, then success."""

    def __init__(self, site: Site, *, busy: int = 0, pending: int = 0) -> None:
        self.busy, self.pending, self.saved = busy, pending, []
        self.auth: list[str] = []
        site.pages["/save"] = Page(self.save, content_type="application/json")
        site.pages["/save/status/spn2-1"] = Page(self.status, content_type="application/json")

    def save(self, handler: Any) -> bytes | tuple[int, bytes]:
        self.auth.append(handler.headers.get("Authorization", ""))
        if self.busy:
            self.busy -= 1
            return 429, b'{"message": "slow down"}'
        self.saved.append(handler.path)
        return json.dumps({"url": "x", "job_id": "spn2-1"}).encode()

    def status(self, handler: Any) -> bytes:
        if self.pending:
            self.pending -= 1
            return b'{"status": "pending"}'
        return json.dumps(
            {"status": "success", "timestamp": "20261207153000", "original_url": ORIGINAL}
        ).encode()


ORIGINAL = "http://127.0.0.1/story"


@pytest.fixture
def site(settings: Any) -> Iterator[Site]:
    settings.LINK_CHECK_ALLOW_PRIVATE = True
    for site in serve_site():
        site.pages["/story"] = Page(ARTICLE)
        settings.ARCHIVE_SAVE_URL = site.url("/save")
        settings.ARCHIVE_ACCESS_KEY, settings.ARCHIVE_SECRET_KEY = "key", "secret"
        settings.ARCHIVE_HOSTS = ["127.0.0.1"]
        yield site


def test_a_capture_asks_the_archive_and_records_its_copy(site: Site, editor_client: Client) -> None:
    archive = FakeArchive(site)
    source = SourceFactory(url=site.url("/story"), archive_url="")

    capture_source.enqueue(source.pk)

    request = ArchiveRequest.objects.get()
    assert request.status == "done", request.error
    assert request.archive_url == f"{site.base}/web/20261207153000/{ORIGINAL}"
    assert request.archived_at.isoformat() == "2026-12-07T15:30:00+00:00"
    assert archive.auth == ["LOW key:secret"]
    source.refresh_from_db()
    assert source.archive_url == request.archive_url  # blank before: filled
    assert source.history.first().history_change_reason.startswith("Archive URL")
    page = editor_client.get(f"/admin/sources/source/{source.pk}/change/").content.decode()
    assert "Requests to the web archive" in page
    assert request.archive_url in page


def test_an_archive_url_the_editor_typed_is_kept(site: Site) -> None:
    FakeArchive(site)
    typed = "https://web.archive.org/web/20191126000000/https://example.org/story"
    source = SourceFactory(url=site.url("/story"), archive_url=typed)

    capture_source.enqueue(source.pk)

    assert ArchiveRequest.objects.get().status == "done"
    source.refresh_from_db()
    assert source.archive_url == typed


def test_rate_limits_and_a_job_under_way_are_retried_later_never_lost(
    site: Site, settings: Any
) -> None:
    settings.TASKS = DATABASE_TASKS
    archive = FakeArchive(site, busy=1, pending=1)
    source = SourceFactory(url=site.url("/story"), archive_url="")
    capture_source.enqueue(source.pk)

    for _ in range(4):  # the capture; the 429; the pending job; done
        drain()
        # As if each retry's backoff had passed.
        for result in DBTaskResult.objects.filter(status="READY"):
            DBTaskResult.objects.filter(pk=result.pk).update(run_after=result.enqueued_at)

    assert Snapshot.objects.filter(source=source).count() == 1  # never held back
    request = ArchiveRequest.objects.get()
    assert request.status == "done"
    assert len(archive.saved) == 1  # asked once, followed after
    assert not DBTaskResult.objects.filter(status="FAILED").exists()


def test_a_failed_save_is_recorded_in_words_and_the_capture_stands(site: Site) -> None:
    site.pages["/save"] = Page(b'{"message": "nope"}', status=403, content_type="application/json")
    source = SourceFactory(url=site.url("/story"))

    capture_source.enqueue(source.pk)

    assert Snapshot.objects.filter(source=source).count() == 1
    request = ArchiveRequest.objects.get()
    assert request.status == "failed"
    assert request.error == "The archive refused the save request (403)."


def test_an_archive_that_stays_busy_leaves_the_request_failed_in_words(
    site: Site, settings: Any
) -> None:
    settings.TASKS = DATABASE_TASKS
    settings.TASK_MAX_ATTEMPTS = 2
    FakeArchive(site, busy=10)
    source = SourceFactory(url=site.url("/story"))
    capture_source.enqueue(source.pk)

    for _ in range(3):
        drain()
        for result in DBTaskResult.objects.filter(status="READY"):
            DBTaskResult.objects.filter(pk=result.pk).update(run_after=result.enqueued_at)

    request = ArchiveRequest.objects.get()
    assert request.status == "failed"
    assert request.error == (
        "The archive answered 429 to the save request; asked again later. "
        "(tried 2 times; run the task again to go on)"
    )
    assert Snapshot.objects.filter(source=source).count() == 1


def test_an_editor_with_the_page_open_while_the_archive_url_is_filled_loses_nothing(
    site: Site, editor_client: Client
) -> None:
    from tests.forms import form_data

    FakeArchive(site)
    source = SourceFactory(url=site.url("/story"), archive_url="", title="As it was")
    url = f"/admin/sources/source/{source.pk}/change/"
    opened = form_data(editor_client.get(url), "source_form")

    capture_source.enqueue(source.pk)  # the task fills the blank archive URL meanwhile
    opened["title"] = "The editor's title"
    refused = editor_client.post(url, opened)

    assert refused.status_code == 200  # refused in words, the input kept
    assert "while you were editing it" in refused.content.decode()
    assert "The editor&#x27;s title" in refused.content.decode()
    source.refresh_from_db()
    assert source.title == "As it was"
    archive_url = ArchiveRequest.objects.get().archive_url
    assert source.archive_url == archive_url
    again = editor_client.post(url, form_data(refused, "source_form"))
    assert again.status_code == 302
    source.refresh_from_db()
    assert (source.title, source.archive_url) == ("The editor's title", archive_url)
