import asyncio
import json
import logging
from typing import Any

import httpx
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bench.loadtest import run, table
from bench.synthetic import SEARCH_WORD


class Command(BaseCommand):
    help = (
        "Load-test a running Claimtrail at URL: many clients GET a mix of reading pages and "
        "API endpoints at once, until --requests were sent or --seconds passed. Prints "
        "throughput and p50/p95/p99 latency per endpoint. The server's rate limits count "
        "these requests too: start it with high API_ANON_RATE and API_TOKEN_RATE."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="The site's address, such as http://127.0.0.1:8000")
        parser.add_argument("--requests", type=int, default=2000, help="At most this many.")
        parser.add_argument("--seconds", type=float, default=60, help="At most this long.")
        parser.add_argument("--concurrency", type=int, default=16, help="Clients at once.")
        parser.add_argument(
            "--path",
            action="append",
            dest="paths",
            metavar="NAME=PATH",
            help="An endpoint to request (repeatable); default: the list page, the API's "
            "list and detail, a claim page and the search.",
        )
        parser.add_argument("--token", help="An API token, sent as Authorization: Bearer.")
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["url"].rstrip("/")
        if options["requests"] < 1 or options["seconds"] <= 0 or options["concurrency"] < 1:
            raise CommandError("--requests, --seconds and --concurrency must be positive.")
        logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
        headers = {"Authorization": f"Bearer {options['token']}"} if options["token"] else {}
        paths = self._paths(url, options["paths"], headers)
        result = asyncio.run(
            run(
                url,
                paths,
                requests=options["requests"],
                seconds=options["seconds"],
                concurrency=options["concurrency"],
                headers=headers,
            )
        )
        if options["json"]:
            figures = {
                name: {
                    "requests": e.requests,
                    "errors": e.errors,
                    "statuses": dict(e.statuses),
                    "latencies_ms": [round(x * 1000, 2) for x in e.latencies],
                }
                for name, e in result.endpoints.items()
            }
            self.stdout.write(json.dumps({"seconds": result.seconds, "endpoints": figures}))
            return
        self.stdout.write(
            f"{result.requests} requests in {result.seconds:.1f} s, "
            f"{options['concurrency']} clients, against {url}"
        )
        for line in table(result):
            self.stdout.write(line)

    def _paths(
        self, url: str, given: list[str] | None, headers: dict[str, str]
    ) -> list[tuple[str, str]]:
        if given:
            paths = []
            for item in given:
                name, sep, path = item.partition("=")
                if not sep or not path.startswith("/"):
                    raise CommandError(f"--path must be NAME=/path, not {item!r}.")
                paths.append((name, path))
            return paths
        try:
            first = httpx.get(f"{url}/api/v1/claims/?page_size=1", headers=headers, timeout=30)
            first.raise_for_status()
            claim = first.json()["results"][0]["id"]
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as error:
            raise CommandError(
                f"Could not read a claim from {url}/api/v1/claims/: {error}"
            ) from None
        return [
            ("page: list", "/"),
            ("page: claim", f"/claims/{claim}/"),
            ("api: list", "/api/v1/claims/?page_size=20"),
            ("api: detail", f"/api/v1/claims/{claim}/"),
            ("api: search", f"/api/v1/claims/?q={SEARCH_WORD}&page_size=20"),
        ]
