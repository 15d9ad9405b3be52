import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from claims.exports import EXPORTS, data_dictionary
from claims.models import Citation, Claim, ClaimRelation
from sources.export_engine import stream_csv
from sources.models import Person, Source

QUERYSETS = {
    "claims": Claim.objects.all,
    "citations": Citation.objects.all,
    "sources": Source.objects.all,
    "people": Person.objects.all,
    "claim_relations": ClaimRelation.objects.all,
}


class Command(BaseCommand):
    help = (
        "Write a CSV export of the whole database (drafts included) to a file or stdout. "
        "See docs/data-dictionary.md for the columns."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("export", nargs="?", choices=sorted(EXPORTS))
        parser.add_argument("--output", "-o", type=Path, help="File to write; default stdout.")
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Site address used in the api_url and admin_url columns.",
        )
        parser.add_argument(
            "--dictionary", action="store_true", help="Print the data dictionary instead."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dictionary"]:
            self.stdout.write(data_dictionary(), ending="")
            return
        if not options["export"]:
            self.stderr.write("Name an export: " + ", ".join(sorted(EXPORTS)))
            sys.exit(2)
        name = options["export"]
        chunks = stream_csv(
            EXPORTS[name], QUERYSETS[name](), base_url=options["base_url"].rstrip("/")
        )
        output = options["output"]
        with output.open("wb") if output else sys.stdout.buffer as out:
            for chunk in chunks:
                out.write(chunk)
