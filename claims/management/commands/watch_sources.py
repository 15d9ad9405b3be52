"""manage.py watch_sources: the watch once, now, in this process (claims.watch): each cited
page fetched, its link's health recorded, and quotes changed at the source flagged."""

from typing import Any

from django.core.management.base import BaseCommand

from claims.watch import watch


class Command(BaseCommand):
    help = (
        "Fetch every cited source's live page once: record its link's health and flag "
        "quotes no longer on it as they were read (a new snapshot keeps what it says now)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        done = watch()
        self.stdout.write(done.words)
        for citation_id in done.changed:
            self.stdout.write(f"Changed at the source: citation {citation_id}.")
