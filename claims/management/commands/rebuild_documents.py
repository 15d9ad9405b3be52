import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from claims.documents import REBUILD_DOCUMENTS, stale_documents


class Command(BaseCommand):
    help = (
        "Rewrite every claim's stored API document (PostgreSQL), or with --check list the "
        "ones out of date. Triggers keep them current; run this after restoring a backup "
        "made without them, or when --check finds any (see README, Performance)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Only report stale documents; exit 1 if any."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("Documents are stored on PostgreSQL only.")
        if options["check"]:
            stale = stale_documents()
            if stale:
                shown = ", ".join(map(str, stale[:20])) + (", …" if len(stale) > 20 else "")
                self.stderr.write(f"{len(stale)} stale: {shown}")
                sys.exit(1)
            self.stdout.write("Stored documents: all current.")
            return
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM claims_storeddocument")
            cursor.execute(REBUILD_DOCUMENTS)
        self.stdout.write(self.style.SUCCESS("Stored documents rebuilt."))
