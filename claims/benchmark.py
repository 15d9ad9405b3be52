"""Benchmarks against PostgreSQL itself: what the API and exports cost next to the database
doing the same work alone. Run by `manage.py benchmark`; numbers, never assertions.
"""

import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from claims.exports import EXPORTS
from claims.filters import search_claims
from claims.models import Citation, Claim
from sources.exports import copy_statement, stream_csv

# A page of published claims as one JSON document built by PostgreSQL alone: the same
# fields, nesting and order as the API (timestamps keep PostgreSQL's own format).
_PERSON = (
    "json_build_object('id', {a}.id, 'name', {a}.name, 'kind', {a}.kind, "
    "'description', {a}.description)"
)
_DATE = (
    "json_build_object('text', {p}_text, 'edtf', {p}_edtf, 'earliest', {p}_earliest, "
    "'latest', {p}_latest)"
)
_PUBLISHER = (
    "CASE WHEN {a}.id IS NULL THEN NULL ELSE json_build_object('id', {a}.id, 'name', {a}.name, "
    "'reliability', {a}.reliability, 'reliability_note', {a}.reliability_note, "
    "'reliability_reviewed_on', {a}.reliability_reviewed_on) END"
)
_BASED_ON = (
    "COALESCE((SELECT json_agg(l.based_on_id ORDER BY l.based_on_id) FROM sources_provenance l "
    "WHERE l.source_id = {a}.id), '[]')"
)
_SOURCE_CORE = (
    "'id', {a}.id, 'kind', {a}.kind, 'title', {a}.title, 'url', {a}.url, "
    "'archive_url', {a}.archive_url, 'published', " + _DATE.format(p="{a}.published") + ", "
    "'is_primary', {a}.is_primary, 'publisher', " + _PUBLISHER.format(a="{pub}") + ", "
    "'effective_reliability', COALESCE(NULLIF({a}.reliability, ''), {pub}.reliability, "
    "'unrated'), 'based_on', " + _BASED_ON
)
_PROVENANCE = (
    "COALESCE((WITH RECURSIVE chain(id, depth) AS ("
    " SELECT based_on_id, 1 FROM sources_provenance WHERE source_id = s.id"
    " UNION SELECT l.based_on_id, chain.depth + 1 FROM sources_provenance l"
    " JOIN chain ON l.source_id = chain.id WHERE chain.depth < 50)"
    " SELECT json_agg(json_build_object(" + _SOURCE_CORE.format(a="u", pub="up") + ")"
    " ORDER BY nearest.depth, u.id)"
    " FROM (SELECT id, min(depth) AS depth FROM chain GROUP BY id) nearest"
    " JOIN sources_source u ON u.id = nearest.id"
    " LEFT JOIN sources_person up ON up.id = u.publisher_id), '[]')"
)
_CITATIONS = (
    "COALESCE((SELECT json_agg(json_build_object('id', ci.id, 'role', ci.role, "
    "'quote', ci.quote, 'locator', ci.locator, 'reliability_note', ci.reliability_note, "
    "'accessed_on', ci.accessed_on, 'source', json_build_object("
    + _SOURCE_CORE.format(a="s", pub="sp")
    + ", 'language', s.language, 'reliability', s.reliability, "
    "'reliability_note', s.reliability_note, 'provenance', " + _PROVENANCE + ")) ORDER BY ci.id)"
    " FROM claims_citation ci JOIN sources_source s ON s.id = ci.source_id"
    " LEFT JOIN sources_person sp ON sp.id = s.publisher_id WHERE ci.claim_id = c.id), '[]')"
)
CLAIM_JSON = (
    "json_build_object('id', c.id, 'text', c.text, 'summary', c.summary, "
    "'claimant', CASE WHEN cl.id IS NULL THEN NULL ELSE " + _PERSON.format(a="cl") + " END, "
    "'people', COALESCE((SELECT json_agg(" + _PERSON.format(a="pp") + " ORDER BY pp.name, pp.id)"
    " FROM claims_claim_people cp JOIN sources_person pp ON pp.id = cp.person_id"
    " WHERE cp.claim_id = c.id), '[]'), "
    "'topics', COALESCE((SELECT json_agg(json_build_object('slug', t.slug, 'name', t.name)"
    " ORDER BY t.name) FROM claims_claim_topics ct JOIN claims_topic t ON t.id = ct.topic_id"
    " WHERE ct.claim_id = c.id), '[]'), "
    "'made', " + _DATE.format(p="c.made") + ", 'event', " + _DATE.format(p="c.event") + ", "
    "'rating', c.rating, 'rating_rationale', c.rating_rationale, 'state', c.state, "
    "'language', c.language, 'created_at', c.created_at, 'updated_at', c.updated_at, "
    "'citations', " + _CITATIONS + ")"
)
LIST_SQL = (
    "SELECT json_agg(" + CLAIM_JSON + " ORDER BY c.updated_at DESC, c.id DESC)::text"
    " FROM (SELECT id FROM claims_claim WHERE state = 'published'"
    " ORDER BY updated_at DESC, id DESC LIMIT %s) page"
    " JOIN claims_claim c ON c.id = page.id LEFT JOIN sources_person cl ON cl.id = c.claimant_id"
)
DETAIL_SQL = (
    "SELECT " + CLAIM_JSON + "::text FROM claims_claim c"
    " LEFT JOIN sources_person cl ON cl.id = c.claimant_id WHERE c.id = %s"
)


GROUPS = ("api", "queries", "deep", "search", "csv", "memory")


def run(
    *, repeat: int, report: Callable[[str], None], only: tuple[str, ...] = GROUPS
) -> dict[str, Any]:
    """The measurements of the chosen groups, keyed as the README names them."""
    _unthrottle()
    # As in production: DEBUG on would record every SQL statement, in memory, as it runs.
    settings.DEBUG = False
    client = Client(HTTP_HOST=(settings.ALLOWED_HOSTS or ["localhost"])[0].lstrip("."))
    results: dict[str, Any] = {
        "claims": Claim.objects.count(),
        "citations": Citation.objects.count(),
    }
    published = Claim.objects.published()
    sample = published.order_by("-updated_at", "-id").values_list("id", flat=True).first()
    if sample is None:
        raise ValueError("No published claims: run generate_data first.")

    if "api" in only:
        _measure_api(results, client, sample, repeat, report)
    if "queries" in only:
        report("queries per page")
        for size in (10, 100):
            with CaptureQueriesContext(connection) as queries:
                _get(client, f"/api/v1/claims/?page_size={size}")
            results[f"queries_page_{size}"] = len(queries.captured_queries)
    if "deep" in only:
        report("deep page")
        deep_url = _deep_page_url(client)
        first = _median(lambda: _get(client, "/api/v1/claims/?page_size=50"), repeat)
        results["deep_page_ratio"] = _median(lambda: _get(client, deep_url), repeat) / first
    if "search" in only:
        report("search")
        word = "officials"
        results["search_ms"] = _median(lambda: _get(client, f"/api/v1/claims/?q={word}"), repeat)
        results["search_uses_index"] = _search_uses_index(word)
    if "csv" in only:
        report("CSV export")
        rows = published.count()
        seconds = _timed(lambda: _get(client, "/api/v1/claims.csv", stream=True))
        results["csv_rows_per_s"] = rows / seconds
        statement, params = copy_statement(EXPORTS["claims"], published, "http://testserver")
        results["copy_rows_per_s"] = rows / _timed(lambda: _copy(statement, params))
        results["csv_ratio"] = results["csv_rows_per_s"] / results["copy_rows_per_s"]
    if "memory" in only:
        report("CSV export memory")
        tenth = Claim.objects.filter(pk__lte=_nth_id(results["claims"] // 10))
        for name, claims in (("small", tenth), ("large", Claim.objects.all())):
            results[f"csv_peak_mb_{name}"] = _peak_mb(_exporter(claims))
    return results


def _measure_api(
    results: dict[str, Any], client: Client, sample: int, repeat: int, report: Callable[[str], None]
) -> None:
    report("API list page of 50")
    results["api_list_ms"] = _median(lambda: _get(client, "/api/v1/claims/?page_size=50"), repeat)
    results["api_list_sql_ms"] = _median(lambda: _sql(LIST_SQL, [50]), repeat)
    results["api_list_ratio"] = results["api_list_ms"] / results["api_list_sql_ms"]

    report("API detail")
    results["api_detail_ms"] = _median(lambda: _get(client, f"/api/v1/claims/{sample}/"), repeat)
    results["api_detail_sql_ms"] = _median(lambda: _sql(DETAIL_SQL, [sample]), repeat)
    results["api_detail_ratio"] = results["api_detail_ms"] / results["api_detail_sql_ms"]


def _exporter(claims: Any) -> Callable[[], None]:
    return lambda: _drain(stream_csv(EXPORTS["claims"], claims, base_url="x"))


def _unthrottle() -> None:
    # Rate limits would answer 429 to a benchmark; the throttles still run, as for anyone.
    rates: dict[str, str | None] = {"anon": "1000000000/day", "user": "1000000000/day"}
    AnonRateThrottle.THROTTLE_RATES = UserRateThrottle.THROTTLE_RATES = rates


def _get(client: Client, url: str, *, stream: bool = False) -> int:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    body = b"".join(response.streaming_content) if stream else response.content  # type: ignore[attr-defined]
    return len(body)


def _sql(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.fetchone()


def _copy(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
        for _ in copy:
            pass


def _median(action: Callable[[], Any], repeat: int) -> float:
    action()  # warm caches: the figure is for a steady state
    return statistics.median(_timed(action) * 1000 for _ in range(repeat))


def _timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _drain(chunks: Any) -> None:
    for _ in chunks:
        pass


def _peak_mb(action: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1] / 1_000_000
    finally:
        tracemalloc.stop()


def _nth_id(n: int) -> int:
    ids = Claim.objects.order_by("id").values_list("id", flat=True)
    return ids[max(n - 1, 0)]


def _deep_page_url(client: Client) -> str:
    """A cursor URL for the page 50 rows from the end of the newest-first list."""
    import base64
    from urllib.parse import urlencode

    published = Claim.objects.published().order_by("-updated_at", "-id")
    total = published.count()
    anchor = published.values_list("updated_at", flat=True)[max(total - 51, 0)]
    # The cursor as DRF's CursorPagination writes it: base64 of "p=<position>".
    token = base64.b64encode(urlencode({"p": str(anchor)}).encode()).decode()
    return "/api/v1/claims/?" + urlencode({"page_size": 50, "cursor": token})


def _search_uses_index(word: str) -> bool:
    query = search_claims(Claim.objects.published(), word).order_by("-rank", "-id")[:50]  # type: ignore[misc]
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return "claim_search_idx" in plan
