import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count
from tqdm import tqdm

from claims.models import Citation, QuoteCheck
from sources.quotes import QuoteOutcome


class Command(BaseCommand):
    help = (
        "Check every citation's quote against its source's latest snapshot again (each "
        "write already does; this catches up after a change of QUOTE_CLOSE_SCORE or of "
        "the matching rules). Batches are short transactions: editors can work meanwhile."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source",
            type=int,
            action="append",
            help="Only this source's citations (repeatable).",
        )
        parser.add_argument("--batch", type=int, default=500, help="Citations per transaction.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        citations = Citation.objects.all()
        if options["source"]:
            citations = citations.filter(source_id__in=options["source"])
        total = citations.count()
        started = time.perf_counter()
        with tqdm(
            total=total,
            unit=" citations",
            file=self.stderr,
            disable=options["no_progress"] or options["verbosity"] == 0,
        ) as progress:
            for done in QuoteCheck.objects.recheck_all(citations, batch=options["batch"]):
                progress.update(done)
        seconds = time.perf_counter() - started
        counts = dict(
            QuoteCheck.objects.filter(citation__in=citations)
            .values_list("outcome")
            .annotate(n=Count("pk"))
            .values_list("outcome", "n")
        )
        outcomes = ", ".join(
            f"{counts.get(outcome, 0):,} {label.lower()}"
            for outcome, label in QuoteOutcome.choices
            if outcome != QuoteOutcome.CHECKING or counts.get(outcome)
        )
        unchecked = total - sum(counts.values())
        self.stdout.write(
            f"Checked {total:,} citations in {seconds:.1f} s ({total / max(seconds, 1e-9):,.0f} a "
            f"second): {outcomes}; {unchecked:,} not checked (a blank quote, or a source "
            "without a snapshot)."
        )
