"""The watch (claims.watch, manage.py watch_sources): quotes edited or removed at the source
after they were read are flagged, with the passage before and after, on every door; the
same request records the link's health. Pages from a server on loopback (tests.pages)."""

import io
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from claims.models import QuoteChange, QuoteCheck
from claims.services import save_citation
from jobs.engine import schedule_due
from sources.models import LinkCheck, Snapshot
from sources.tasks import capture_source
from tests.factories import CitationFactory, SourceFactory
from tests.pages import ARTICLE, Page, Site, serve_site

pytestmark = pytest.mark.django_db

EDITED = ARTICLE.replace(
    b'"Never allow escapes," one of them says.', b'"Allow no escape," it says.'
)


@pytest.fixture
def site(settings: Any) -> Iterator[Site]:
    settings.LINK_CHECK_ALLOW_PRIVATE = True
    settings.LINK_CHECK_HOST_INTERVAL = 0
    for site in serve_site():
        site.pages["/story"] = Page(ARTICLE)
        yield site


def watch() -> str:
    out = io.StringIO()
    call_command("watch_sources", stdout=out)
    return out.getvalue()


def test_a_quote_edited_at_the_source_is_flagged_with_its_diff_at_every_door(
    site: Site, editor_client: Client, api_client: APIClient
) -> None:
    source = SourceFactory(url=site.url("/story"))
    citation = CitationFactory(source=source, quote="Never allow escapes,")
    kept = CitationFactory(source=source, quote="The documents describe the camps' rules")
    capture_source.enqueue(source.pk)
    assert QuoteCheck.objects.get(citation=citation).outcome == "exact"

    assert watch().startswith("Watched 1 sources: 0 dead links, 0 quotes changed")
    assert Snapshot.objects.count() == 1  # unchanged: nothing stored

    site.pages["/story"] = Page(EDITED)
    out = watch()

    assert "1 quotes changed at the source" in out
    assert f"Changed at the source: citation {citation.pk}." in out
    change = QuoteChange.objects.get()
    assert (change.citation, change.before, change.resolved_at) == (
        citation,
        "Never allow escapes,",
        None,
    )
    assert "Allow no escape" in change.after
    assert change.after_snapshot.fetched_from == site.url("/story")
    assert Snapshot.objects.count() == 2
    assert QuoteCheck.objects.get(citation=citation).outcome != "exact"  # against the new one
    assert not kept.quote_changes.exists()
    link = LinkCheck.objects.get(source=source)
    assert (link.status, link.dead) == (200, False)

    # The claim's page, the API (list, detail, filter), the admin (page, filter).
    page = Client().get(f"/claims/{citation.claim_id}/").content.decode()
    assert "Changed at the source since" in page
    assert "<del>Never allow escapes,</del>" in page
    detail = api_client.get(f"/api/v1/claims/{citation.claim_id}/").json()
    [flagged] = [c for c in detail["citations"] if c["id"] == citation.pk]
    assert flagged["source_changed"]["before"] == "Never allow escapes,"
    assert flagged["source_changed"]["snapshot"] == change.after_snapshot_id
    listed = api_client.get("/api/v1/claims/", {"source_changed": "true"}).json()
    assert [c["id"] for c in listed["results"]] == [citation.claim_id]
    others = api_client.get("/api/v1/claims/", {"source_changed": "false"}).json()
    assert citation.claim_id not in [c["id"] for c in others["results"]]
    changelist = editor_client.get("/admin/claims/citation/", {"source_changed": "yes"})
    assert f"/admin/claims/citation/{citation.pk}/change/" in changelist.content.decode()
    assert f"/admin/claims/citation/{kept.pk}/change/" not in changelist.content.decode()
    admin_page = editor_client.get(f"/admin/claims/citation/{citation.pk}/change/").content
    assert b"<del>Never allow escapes,</del>" in admin_page

    # The editor quotes what the page now says: found again, the flag is closed.
    citation.quote = "Allow no escape,"
    save_citation(citation)
    assert QuoteChange.objects.get().resolved_at is not None
    detail = api_client.get(f"/api/v1/claims/{citation.claim_id}/").json()
    assert all(c["source_changed"] is None for c in detail["citations"])
    assert (
        "Changed at the source"
        not in Client().get(f"/claims/{citation.claim_id}/").content.decode()
    )


def test_a_page_gone_is_a_dead_link_not_a_changed_quote(site: Site) -> None:
    source = SourceFactory(url=site.url("/story"))
    CitationFactory(source=source, quote="Never allow escapes,")
    capture_source.enqueue(source.pk)
    site.pages["/story"] = Page(b"Gone.", status=410)

    assert "1 dead links, 0 quotes changed" in watch()

    link = LinkCheck.objects.get(source=source)
    assert (link.status, link.dead) == (410, True)
    assert not QuoteChange.objects.exists()


def test_one_request_per_host_per_interval(site: Site, settings: Any) -> None:
    settings.LINK_CHECK_HOST_INTERVAL = 1
    for path in ("/a", "/b", "/c"):
        site.pages[path] = Page(ARTICLE)
        CitationFactory(source=SourceFactory(url=site.url(path)), quote="Never allow escapes,")

    started = time.monotonic()
    watch()

    assert time.monotonic() - started >= 2  # three requests to one host, a second apart
    assert [site.hits(path) for path in ("/a", "/b", "/c")] == [1, 1, 1]


def test_the_watch_is_enqueued_once_per_interval_by_the_schedule(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}
    settings.TASK_SCHEDULE = {"claims.tasks.watch_sources": 3600}
    now = timezone.now()

    assert schedule_due(now) == []  # first seen: its first run is an interval later
    assert schedule_due(now + timedelta(minutes=59)) == []
    assert schedule_due(now + timedelta(minutes=61)) == ["claims.tasks.watch_sources"]
    assert schedule_due(now + timedelta(minutes=62)) == []  # another worker, a minute on
    assert schedule_due(now + timedelta(minutes=122)) == ["claims.tasks.watch_sources"]
    assert DBTaskResult.objects.filter(task_path="claims.tasks.watch_sources").count() == 2
