"""A load test against a running Claimtrail: many clients at once over real HTTP, bounded
in requests and in time, with throughput and latency percentiles per endpoint
(`manage.py loadtest`; docs/performance.md has figures at 1, 2 and 4 gunicorn workers)."""

import asyncio
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field

import httpx


@dataclass
class Endpoint:
    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    failures: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.failures

    @property
    def errors(self) -> int:
        return self.failures + sum(n for status, n in self.statuses.items() if status >= 400)


@dataclass
class Result:
    endpoints: dict[str, Endpoint]
    seconds: float

    @property
    def requests(self) -> int:
        return sum(endpoint.requests for endpoint in self.endpoints.values())


def percentile(values: list[float], share: float) -> float:
    """The `share` percentile (0-100) of `values`, by linear interpolation; 0 when empty."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share) - 1]


async def _client(
    client: httpx.AsyncClient,
    paths: list[tuple[str, str]],
    endpoints: dict[str, Endpoint],
    budget: list[int],
    deadline: float,
    offset: int,
) -> None:
    turn = offset
    while budget[0] > 0 and time.monotonic() < deadline:
        budget[0] -= 1
        name, path = paths[turn % len(paths)]
        turn += 1
        endpoint = endpoints[name]
        started = time.perf_counter()
        try:
            response = await client.get(path)
            await response.aread()
        except httpx.HTTPError:
            endpoint.failures += 1
            continue
        endpoint.latencies.append(time.perf_counter() - started)
        endpoint.statuses[response.status_code] += 1


async def run(
    base_url: str,
    paths: list[tuple[str, str]],
    *,
    requests: int,
    seconds: float,
    concurrency: int,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Result:
    """GET the paths in turn from `concurrency` clients until `requests` were sent or
    `seconds` passed, whichever comes first."""
    endpoints = {name: Endpoint(name) for name, _ in paths}
    budget = [requests]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=timeout, limits=limits
    ) as client:
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(
            *(
                _client(client, paths, endpoints, budget, deadline, offset)
                for offset in range(concurrency)
            )
        )
        return Result(endpoints, time.monotonic() - started)


def table(result: Result) -> list[str]:
    lines = [
        f"{'endpoint':<22}{'requests':>9}{'errors':>8}{'req/s':>9}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
    ]
    for endpoint in result.endpoints.values():
        ms = sorted(latency * 1000 for latency in endpoint.latencies)
        lines.append(
            f"{endpoint.name:<22}{endpoint.requests:>9}{endpoint.errors:>8}"
            f"{endpoint.requests / result.seconds:>9.1f}{percentile(ms, 50):>9.1f}"
            f"{percentile(ms, 95):>9.1f}{percentile(ms, 99):>9.1f}"
        )
    every = sorted(latency * 1000 for e in result.endpoints.values() for latency in e.latencies)
    errors = sum(e.errors for e in result.endpoints.values())
    lines.append(
        f"{'all':<22}{result.requests:>9}{errors:>8}{result.requests / result.seconds:>9.1f}"
        f"{percentile(every, 50):>9.1f}{percentile(every, 95):>9.1f}{percentile(every, 99):>9.1f}"
    )
    return lines
