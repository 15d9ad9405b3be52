"""How fast the editors' import previews and confirms: rows a second, for claims.csv and
citations.csv.

    python manage.py bench_import --rows 500

Each is an import of new rows on the current database, as the admin's import page runs it
(the preview a dry run), all rolled back; the claims and sources the citations cite are
made first and removed after.
"""

import csv
import io
import time
from typing import Any

import tablib
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from claims.imports import CitationResource, ClaimResource
from claims.models import Claim
from sources.models import Source


class Rollback(Exception):
    pass


def claims_file(rows: int) -> tablib.Dataset:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "text", "claimant", "people", "topics", "made_text", "state"])
    for n in range(rows):
        writer.writerow(
            [
                "",
                f"Claim {n}: the report counted {n * 7} people held in region {n % 13}.",
                f"Claimant {n % 50}",
                f"Person {n % 30}; Person {(n + 1) % 30}",
                "policy; detention",
                "end of 2018",
                "draft",
            ]
        )
    return tablib.Dataset().load(out.getvalue(), format="csv")


def citations_file(claim_ids: list[int], source_ids: list[int]) -> tablib.Dataset:
    """New citations of stored claims and sources, as an edited export names them."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["citation_id", "claim_id", "role", "quote", "locator", "source_id"])
    for n, claim_id in enumerate(claim_ids):
        source_id = source_ids[n % len(source_ids)]
        writer.writerow(["", claim_id, "context", f"Quote {n}", f"p. {n}", source_id])
    return tablib.Dataset().load(out.getvalue(), format="csv")


def rate(resource: Any, dataset: tablib.Dataset, *, dry_run: bool) -> float:
    """Rows a second of a preview (`dry_run`) or of a confirm, which writes every row with
    its history (the caller rolls it back)."""
    started = time.perf_counter()
    result = resource.import_data(
        dataset, dry_run=dry_run, use_transactions=True, rollback_on_validation_errors=True
    )
    seconds = time.perf_counter() - started
    if result.has_errors() or result.has_validation_errors():
        problems = [row.error_dict for row in result.invalid_rows[:3]]
        raise CommandError(f"The benchmark's own file has errors: {problems}")
    return len(dataset) / seconds


class Command(BaseCommand):
    help = (
        "Print how many rows a second an import previews and confirms, for claims.csv and "
        "citations.csv."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=500, help="Rows in each file.")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = options["rows"]
        figures = {}
        try:
            with transaction.atomic():
                made = Claim.objects.bulk_create(
                    Claim(text=f"Cited claim {n}.", language="en") for n in range(rows)
                )
                sources = Source.objects.bulk_create(
                    Source(title=f"Report {n}", kind="report") for n in range(100)
                )
                citations = citations_file([c.pk for c in made], [s.pk for s in sources])
                for dry_run, step in ((True, "preview"), (False, "confirm")):
                    with transaction.atomic():
                        figures["claims.csv", step] = rate(
                            ClaimResource(), claims_file(rows), dry_run=dry_run
                        )
                        figures["citations.csv", step] = rate(
                            CitationResource(), citations, dry_run=dry_run
                        )
                        transaction.set_rollback(True)
                raise Rollback
        except Rollback:
            pass
        for (name, step), figure in figures.items():
            self.stdout.write(f"{name} {step}: {figure:,.0f} rows/s ({rows} rows)")
