import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from tqdm import tqdm

from bench.synthetic import TABLES, generate
from claims.models import SEARCH_INDEX_NAME, Claim

# Tables whose triggers write search documents (claims migration 0001_squashed_0023): off while
# COPY fills them, then every document is written once, at the end.
TRIGGERED_TABLES = ("claims_claim", "claims_citation")


class Command(BaseCommand):
    help = (
        "Fill a PostgreSQL database with synthetic claims for benchmarks: about 4 citations "
        "per claim, a source per two claims, 50,000 people. For development databases only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--claims", type=int, required=True, help="How many claims.")
        parser.add_argument("--people", type=int, default=50_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete every claim, source and person first (TRUNCATE).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("generate_data uses COPY: point DATABASE_URL at PostgreSQL.")
        if options["claims"] < 1:
            raise CommandError("--claims must be at least 1.")
        if options["replace"]:
            if not settings.DEBUG:
                raise CommandError("--replace deletes everything: only with DEBUG=true.")
            with connection.cursor() as cursor:
                cursor.execute(
                    "TRUNCATE claims_citation, claims_claim_people, claims_claim_topics, "
                    "claims_claim, claims_topic, sources_provenance, "
                    "sources_source_authors, sources_source, sources_person"
                    " RESTART IDENTITY CASCADE"
                )
        elif Claim.objects.exists():
            raise CommandError("The database has claims already; pass --replace to start over.")
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            # The search index is rebuilt, and the search documents written, once at the
            # end: far faster than row by row (see claims migration 0001_squashed_0023).
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = %s", [SEARCH_INDEX_NAME]
            )
            definitions = [definition for (definition,) in cursor.fetchall()]
            cursor.execute(f'DROP INDEX IF EXISTS "{SEARCH_INDEX_NAME}"')
            for table in TRIGGERED_TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            counts = generate(
                claims=options["claims"],
                people=options["people"],
                seed=options["seed"],
                progress=lambda **kw: tqdm(file=self.stderr, mininterval=1, **kw),
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the COPYed keys now
            self.stderr.write("Writing the search documents and building their index…")
            cursor.execute(
                "UPDATE claims_claim SET search_document"
                " = claimtrail_claim_document(id, text, summary) WHERE search_document IS NULL"
            )
            for definition in definitions:
                cursor.execute(definition)
            for table in TRIGGERED_TABLES:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            # Fresh statistics, so the planner knows the new size (of these tables only:
            # a database-wide ANALYZE would lock the shared catalogs until the commit).
            cursor.execute(f"ANALYZE {', '.join(TABLES)}")
        elapsed = time.monotonic() - started
        summary = ", ".join(f"{n:,} {name}" for name, n in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Generated {summary} in {elapsed:.0f} s."))
