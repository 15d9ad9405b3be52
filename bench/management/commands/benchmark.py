import json
import platform
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from bench.benchmark import GROUPS, WRITES, run
from bench.synthetic import SEARCH_WORD

TARGETS = {
    "api_list_ratio": ("<=", 1.5),
    "api_detail_ratio": ("<=", 1.5),
    "build_prebuilt_ratio": ("<=", 3),
    "search_list_ratio": ("<=", 1.5),
    "deep_page_ratio": ("<=", 1.5),
    "csv_ratio": (">=", 0.9),
    "csv_limit_ratio": (">=", 0.3),
    "citations_csv_limit_ratio": (">=", 0.3),
    **{f"write_{name}_ratio": ("<=", 2) for name in WRITES},
    "enqueue_overhead_ratio": ("<=", 3),
}


class Command(BaseCommand):
    help = (
        "Measure the API and CSV exports against PostgreSQL doing the same work alone, on the "
        "current database (fill it with generate_data). Prints a table; --json writes it too."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
        parser.add_argument("--repeat", type=int, default=21, help="Runs per median.")
        parser.add_argument(
            "--only",
            nargs="+",
            choices=GROUPS,
            default=[group for group in GROUPS if group != "capture"],
            help="Measure only these groups (capture, which starts worker processes, only "
            "when named).",
        )
        parser.add_argument(
            "--quotes", type=int, default=100_000, help="Citations the quotes group checks."
        )
        parser.add_argument(
            "--captures", type=int, default=40, help="Pages the capture group captures."
        )
        parser.add_argument(
            "--search-word",
            default=SEARCH_WORD,
            help="What search_ms searches for (default: a generate_data word in ~0.3%% of claims).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark compares with PostgreSQL: set DATABASE_URL.")
        try:
            results = run(
                repeat=options["repeat"],
                report=lambda step: self.stderr.write(step),
                only=tuple(options["only"]),
                search_word=options["search_word"],
                quotes=options["quotes"],
                captures=options["captures"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        results["machine"] = (
            f"{platform.machine()}, {_cores()} cores, Python {platform.python_version()}"
        )
        width = max(map(len, results))
        for key, value in results.items():
            shown = f"{value:,.2f}" if isinstance(value, float) else str(value)
            target = TARGETS.get(key)
            verdict = ""
            if target:
                op, limit = target
                ok = value <= limit if op == "<=" else value >= limit
                verdict = f"   target {op} {limit}: {'met' if ok else 'NOT met'}"
            self.stdout.write(f"{key.ljust(width)}  {shown}{verdict}")
        if options["json"]:
            options["json"].write_text(json.dumps(results, indent=2) + "\n")


def _cores() -> int:
    import os

    return os.cpu_count() or 1
