"""The watch: is each quoted passage still on the live page it was read from?

Once per WATCH_INTERVAL_SECONDS (a scheduled task, claims.tasks.watch_sources; or
`manage.py watch_sources`) each cited source's URL is fetched, at most one request per
host every LINK_CHECK_HOST_INTERVAL seconds. The same request records the link's health
(sources.LinkCheck, as check_links does). Each quote that its latest check found
(exactly, normalised or close) is looked for in the live text; when it is no longer
found, or is found changed, the live page is stored as a new snapshot (the quote checks
follow it) and the citation is flagged with the passage before and after (QuoteChange),
for the editor, the claim's page and the API. The flag stays until the quote is found
again (an editor changes it to what the page now says, or the page is put back).
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from claims.models import FOUND_OUTCOMES as FOUND
from claims.models import Citation, QuoteChange, QuoteCheck
from jobs.engine import Failed, Transient
from sources.capture import fetch
from sources.models import LinkCheck, LinkKind, Source
from sources.quotes import find_quote
from sources.services import add_snapshot
from sources.snapshots import read_snapshot


@dataclass
class Watched:
    sources: int = 0
    dead: int = 0
    changed: list[int] = field(default_factory=list)  # citations flagged

    @property
    def words(self) -> str:
        return (
            f"Watched {self.sources:,} sources: {self.dead:,} dead links, "
            f"{len(self.changed):,} quotes changed at the source."
        )


def watched_sources() -> "Iterable[Source]":
    """Sources some citation quotes, with a URL, by host then id."""
    quoted = Citation.objects.exclude(quote="").values("source_id")
    return Source.objects.filter(pk__in=quoted).exclude(url="").order_by("url", "pk")


def watch(sources: "Iterable[Source] | None" = None) -> Watched:
    done = Watched()
    last_by_host: dict[str, float] = {}
    for source in sources if sources is not None else watched_sources():
        host = urlsplit(source.url).hostname or ""
        wait = last_by_host.get(host, float("-inf")) + settings.LINK_CHECK_HOST_INTERVAL
        if (delay := wait - time.monotonic()) > 0:
            time.sleep(delay)
        last_by_host[host] = time.monotonic()
        done.sources += 1
        changed = watch_one(source)
        if changed is None:
            done.dead += 1
        else:
            done.changed += changed
    return done


def watch_one(source: Source) -> list[int] | None:
    """Fetch one source's page, record its link's health and flag its changed quotes;
    the ids of the citations flagged, or None when the page did not answer."""
    now = timezone.now()
    try:
        page = fetch(source.url, refuse_errors=False)
        error = ""
    except (Failed, Transient) as problem:
        page, error = None, str(problem)
    LinkCheck.objects.update_or_create(
        source=source,
        link=LinkKind.URL,
        defaults={
            "url": source.url,
            "status": page.status if page else None,
            "final_url": page.url if page else "",
            "error": error[:300],
            "dead": page is None or page.status >= 400,
            "checked_at": now,
        },
    )
    if page is None or page.status >= 400:
        return None
    try:
        reading = read_snapshot(page.body)
    except ValidationError:
        return []  # not a page we can read: nothing to compare
    checks = QuoteCheck.objects.filter(citation__source=source, outcome__in=FOUND).select_related(
        "citation"
    )
    changes = []
    for check in checks:
        live = find_quote(check.citation.quote, reading.text)
        if live is None:
            continue
        if live.outcome in FOUND and live.exact == check.exact:
            continue  # as it was read
        changes.append((check, live))
    if not changes:
        return []
    with transaction.atomic():
        try:
            snapshot = add_snapshot(
                source=source,
                upload=ContentFile(page.body, name=reading.file_name),
                captured_at=now,
                user=None,
                reading=reading,
                fetched_from=page.url,
            )
        except ValidationError:  # the page went back to a snapshot it has: that one
            snapshot = source.snapshots.filter(sha256=reading.sha256).get()
        QuoteChange.objects.bulk_create(
            QuoteChange(
                citation=check.citation,
                before_snapshot_id=check.snapshot_id,
                after_snapshot=snapshot,
                before=check.exact,
                after=live.exact,
                after_found=live.outcome in FOUND,
                detected_at=now,
            )
            for check, live in changes
        )
    return [check.citation_id for check, _ in changes]
