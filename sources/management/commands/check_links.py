import asyncio
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from sources.links import check_urls
from sources.models import LinkCheck, LinkKind, Source


class Command(BaseCommand):
    help = (
        "Fetch every source's URL and archive URL, record what answered (status, where "
        "redirects ended, when) and list the dead links. The admin's source list filters "
        "on the result (Link health)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", type=int, action="append", help="Only this source.")
        parser.add_argument(
            "--concurrency",
            type=float,
            default=settings.LINK_CHECK_CONCURRENCY,
            help="Requests at once.",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=settings.LINK_CHECK_TIMEOUT,
            help="Seconds for each link, redirects included.",
        )
        parser.add_argument(
            "--host-interval",
            type=float,
            default=settings.LINK_CHECK_HOST_INTERVAL,
            help="Seconds between requests to one host.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["concurrency"] < 1 or options["timeout"] <= 0 or options["host_interval"] < 0:
            raise CommandError(
                "--concurrency must be at least 1, --timeout above 0, --host-interval 0 or more."
            )
        sources = Source.objects.order_by("pk").only("pk", "title", "url", "archive_url")
        if options["source"]:
            sources = sources.filter(pk__in=options["source"])
        links = [
            (source, kind, url)
            for source in sources
            for kind, url in ((LinkKind.URL, source.url), (LinkKind.ARCHIVE, source.archive_url))
            if url
        ]
        started = time.perf_counter()
        results = asyncio.run(
            check_urls(
                (url for _, _, url in links),
                concurrency=int(options["concurrency"]),
                timeout=options["timeout"],
                host_interval=options["host_interval"],
                user_agent=settings.LINK_CHECK_USER_AGENT,
                allow_private=settings.LINK_CHECK_ALLOW_PRIVATE,
            )
        )
        seconds = time.perf_counter() - started
        now = timezone.now()
        checks = [
            LinkCheck(
                source=source,
                link=kind,
                url=url,
                status=results[url].status,
                final_url=results[url].final_url,
                error=results[url].error[:300],
                dead=results[url].dead,
                checked_at=now,
            )
            for source, kind, url in links
        ]
        with transaction.atomic():
            LinkCheck.objects.bulk_create(
                checks,
                update_conflicts=True,
                unique_fields=["source", "link"],
                update_fields=["url", "status", "final_url", "error", "dead", "checked_at"],
            )
        dead = [check for check in checks if check.dead]
        for check in dead:
            why = check.error or f"HTTP {check.status}"
            self.stdout.write(
                f"Dead: {check.source.title} ({check.get_link_display()}) {check.url}: {why}"
            )
        self.stdout.write(
            f"Checked {len(results):,} links of {len({c.source.pk for c in checks}):,} sources "
            f"in {seconds:.1f} s: {len(dead):,} dead."
        )
