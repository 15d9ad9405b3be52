"""Benchmarks against PostgreSQL itself: what the API and exports cost next to the database
doing the same work alone. Run by `manage.py benchmark`; numbers, never assertions.
"""

import io
import random
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import orjson
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, transaction
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from api.documents import PAGE_SQL, page_sql, stream_documents, unbound_page_sql
from bench.capture import measure_capture
from bench.synthetic import SEARCH_WORD, VOCABULARY
from bench.synthetic import text as synthetic_text
from claims.exports import EXPORTS
from claims.models import SEARCH_INDEX_NAME, Citation, Claim, QuoteCheck, Role, Topic
from claims.search import search_claims
from sources.export_engine import copy_statement, run_copy, stream_csv
from sources.models import Snapshot, Source

# PostgreSQL alone doing what the API does for a page of 50: select the page, build its
# JSON (with the very SQL the API runs, api.documents.page_sql).
PAGE_IDS = (
    "ARRAY(SELECT id FROM claims_claim WHERE state = 'published'"
    " ORDER BY updated_at DESC, id DESC LIMIT 50)"
)
LIST_SQL = page_sql(PAGE_IDS)
DETAIL_SQL = PAGE_SQL
# The same statements prepared, with a generic plan made once: PostgreSQL executing them
# with their plan already made (the yardstick of planning once).
PREPARED = {
    "bench_list": "PREPARE bench_list(boolean) AS " + unbound_page_sql(PAGE_IDS, "$1"),
    "bench_detail": "PREPARE bench_detail(bigint[], boolean) AS " + unbound_page_sql("$1", "$2"),
}

# PostgreSQL alone serving the same page's documents pre-built: how far building on read
# is from reading stored JSON. The documents are put in a temporary table first.
PREBUILT_TABLE = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS bench_prebuilt (claim_id bigint PRIMARY KEY,"
    " body text NOT NULL)"
)
LIST_PREBUILT_SQL = (
    "SELECT p.id, d.body FROM (SELECT id, updated_at FROM claims_claim"
    " WHERE state = 'published' ORDER BY updated_at DESC, id DESC LIMIT 50) p"
    " JOIN bench_prebuilt d ON d.claim_id = p.id ORDER BY p.updated_at DESC, p.id DESC"
)


GROUPS = (
    "api",
    "queries",
    "deep",
    "search",
    "csv",
    "ndjson",
    "memory",
    "writes",
    "quotes",
    "capture",
)


class Client:
    """GET requests through Django's WSGI handler, as a WSGI server such as gunicorn makes
    them: the whole stack, from the environ to the last byte of the body, and nothing of
    the test client (its signal handlers and response bookkeeping cost as much as a query).
    """

    def __init__(self, host: str) -> None:
        self.handler = WSGIHandler()
        self.host = host

    def get(self, url: str, *, stream: bool = False) -> tuple[int, bytes]:
        """The status and body; with `stream`, the body is read chunk by chunk and only
        its length kept (as b"x" * length would say), so a large export is not held."""
        path, _, query = url.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": self.host,
            "SERVER_PORT": "80",
            "HTTP_HOST": self.host,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
        }
        status: list[str] = []

        def start_response(code: str, headers: Any, exc_info: Any = None) -> Callable[..., Any]:
            status.append(code)
            return lambda data: None

        # Inside a transaction (the smoke test) the connection must outlive the request,
        # so leave it alone, as the test client does; otherwise recycle it as in production.
        recycle = not connection.in_atomic_block
        if not recycle:
            request_started.disconnect(close_old_connections)
            request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, start_response)
            try:
                if stream:
                    length = sum(len(chunk) for chunk in response)
                    body = length.to_bytes(8, "big")
                else:
                    body = b"".join(response)
            finally:
                response.close()
        finally:
            if not recycle:
                request_started.connect(close_old_connections)
                request_finished.connect(close_old_connections)
        return int(status[0].split()[0]), body


def run(
    *,
    repeat: int,
    report: Callable[[str], None],
    only: tuple[str, ...] = GROUPS,
    search_word: str = SEARCH_WORD,
    quotes: int = 100_000,
    captures: int = 40,
) -> dict[str, Any]:
    """The measurements of the chosen groups, keyed as the README names them."""
    _unthrottle()
    # As in production: DEBUG on would record every SQL statement, in memory, as it runs.
    settings.DEBUG = False
    client = Client(host=_host())
    results: dict[str, Any] = {
        "claims": Claim.objects.count(),
        "citations": Citation.objects.count(),
    }
    if "capture" in only:  # needs no claims: a local server's pages
        report("captures (bench.capture)")
        measure_capture(results, captures=captures, repeat=repeat, report=report)
        if only == ("capture",):
            return results
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
        first, deep = _medians(
            lambda: _get(client, "/api/v1/claims/?page_size=50"),
            lambda: _get(client, deep_url),
            repeat=repeat,
        )
        results["deep_page_ratio"] = deep / first
    if "search" in only:
        report("search")
        word = search_word
        results["search_ms"], list_ms = _medians(
            lambda: _get(client, f"/api/v1/claims/?q={word}"),
            lambda: _get(client, "/api/v1/claims/?page_size=50"),
            repeat=repeat,
        )
        results["search_list_ratio"] = results["search_ms"] / list_ms
        results["search_uses_index"] = _search_uses_index(client, word)
        results["search_word"] = word
        results["search_matches"] = search_claims(Claim.objects.published(), word).count()
        report("search: first pages against a full ranking")
        overlaps = _search_overlaps(client)
        results["search_top50_overlap"] = statistics.mean(overlaps.values())
        results["search_top50_overlap_min"] = min(overlaps.values())
        results["search_top50_overlaps"] = overlaps
    if "csv" in only:
        report("CSV export")
        # Each export and its yardsticks timed in turn after a warm-up, as everything else
        # here (a first, cold run of a 15 s export would tilt the ratio by a tenth).
        rows = published.count()
        statement, params = copy_statement(EXPORTS["claims"], published, "http://testserver")
        # The physical limit on this machine: COPY of each table's own columns, no joins
        # (the claims' search document, derived and never exported, left out).
        own = ", ".join(
            str(f.column) for f in Claim._meta.concrete_fields if f.column != "search_document"
        )
        table = f"COPY (SELECT {own} FROM claims_claim) TO STDOUT WITH (FORMAT csv, HEADER)"
        csv_ms, copy_ms, table_ms = _medians(
            lambda: _get(client, "/api/v1/claims.csv", stream=True),
            lambda: _copy(statement, params),
            lambda: _copy(table, []),
            repeat=repeat,
        )
        results["csv_rows_per_s"] = rows / csv_ms * 1000
        results["copy_rows_per_s"] = rows / copy_ms * 1000
        results["csv_ratio"] = results["csv_rows_per_s"] / results["copy_rows_per_s"]
        results["csv_table_copy_rows_per_s"] = Claim.objects.count() / table_ms * 1000
        results["csv_limit_ratio"] = (
            results["csv_rows_per_s"] / results["csv_table_copy_rows_per_s"]
        )
        cited = Citation.objects.filter(claim__in=published).count()
        table = "COPY (SELECT * FROM claims_citation) TO STDOUT WITH (FORMAT csv, HEADER)"
        citations_ms, table_ms = _medians(
            lambda: _get(client, "/api/v1/citations.csv", stream=True),
            lambda: _copy(table, []),
            repeat=repeat,
        )
        results["citations_csv_rows_per_s"] = cited / citations_ms * 1000
        results["citations_table_copy_rows_per_s"] = Citation.objects.count() / table_ms * 1000
        results["citations_csv_limit_ratio"] = (
            results["citations_csv_rows_per_s"] / results["citations_table_copy_rows_per_s"]
        )
    if "ndjson" in only:
        # NDJSON writes the API's whole documents (about 7 KB a claim): timed on one
        # topic's published claims (a fiftieth of them), through HTTP, against the list
        # pages' claims a second (pages of 50, timed in turn with it).
        report("NDJSON export")
        topic = Topic.objects.order_by("id").first()
        if topic is not None:
            in_topic = published.filter(topics=topic).count()
            ndjson_ms, page_ms = _medians(
                lambda: _get(client, f"/api/v1/claims.ndjson?topic={topic.slug}", stream=True),
                lambda: _get(client, "/api/v1/claims/?page_size=50"),
                repeat=repeat,
            )
            results["ndjson_rows"] = in_topic
            results["ndjson_rows_per_s"] = in_topic / ndjson_ms * 1000
            results["list_pages_rows_per_s"] = 50 / page_ms * 1000
            results["ndjson_list_ratio"] = (
                results["ndjson_rows_per_s"] / results["list_pages_rows_per_s"]
            )
    if "writes" in only:
        report("writes (rolled back)")
        _measure_writes(results, repeat)
    if "quotes" in only:
        report(f"quote checks of {quotes:,} citations (rolled back)")
        _measure_quotes(results, quotes)
    if "memory" in only:
        report("CSV export memory")
        tenth = Claim.objects.filter(pk__lte=_nth_id(results["claims"] // 10))
        for name, claims in (("small", tenth), ("large", Claim.objects.all())):
            results[f"csv_peak_mb_{name}"] = _peak_mb(_exporter(claims))
        # NDJSON, streamed a chunk of documents at a time: 1,000 claims against 20,000.
        for name, count in (("small", 1_000), ("large", 20_000)):
            published_ids = Claim.objects.published().order_by("id").values_list("id", flat=True)
            last = published_ids[: min(count, results["claims"])].aggregate(last=Max("id"))
            opening = Claim.objects.published().filter(pk__lte=last["last"] or 0)
            results[f"ndjson_peak_mb_{name}"] = _peak_mb(_ndjson_exporter(opening))
    return results


def _measure_api(
    results: dict[str, Any], client: Client, sample: int, repeat: int, report: Callable[[str], None]
) -> None:
    report("API list page of 50")
    with connection.cursor() as cursor:
        cursor.execute(PREBUILT_TABLE)
        cursor.execute("TRUNCATE bench_prebuilt")
        cursor.execute("INSERT INTO bench_prebuilt " + LIST_SQL, [True])
        cursor.execute("ANALYZE bench_prebuilt")
        cursor.execute("DEALLOCATE ALL")
        for statement in PREPARED.values():
            cursor.execute(statement, None)
        cursor.execute("SET plan_cache_mode = force_generic_plan")
    (
        results["api_list_ms"],
        results["api_list_sql_ms"],
        results["api_list_prepared_ms"],
        results["api_list_prebuilt_sql_ms"],
    ) = _medians(
        lambda: _get(client, "/api/v1/claims/?page_size=50"),
        lambda: _sql(LIST_SQL, [True]),
        lambda: _sql("EXECUTE bench_list(true)", []),
        lambda: _sql(LIST_PREBUILT_SQL, []),
        repeat=repeat,
    )
    results["api_list_ratio"] = results["api_list_ms"] / results["api_list_sql_ms"]
    results["api_list_plan_ratio"] = results["api_list_ms"] / results["api_list_prepared_ms"]
    results["build_prebuilt_ratio"] = (
        results["api_list_sql_ms"] / results["api_list_prebuilt_sql_ms"]
    )

    report("API detail")
    (
        results["api_detail_ms"],
        results["api_detail_sql_ms"],
        results["api_detail_prepared_ms"],
    ) = _medians(
        lambda: _get(client, f"/api/v1/claims/{sample}/"),
        lambda: _sql(DETAIL_SQL, [[sample], True]),
        lambda: _sql("EXECUTE bench_detail(%s::bigint[], true)", [[sample]]),
        repeat=repeat,
    )
    results["api_detail_ratio"] = results["api_detail_ms"] / results["api_detail_sql_ms"]
    # Against PostgreSQL executing the statement with its plan made (issue 31's yardstick).
    results["api_detail_plan_ratio"] = results["api_detail_ms"] / results["api_detail_prepared_ms"]
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
        cursor.execute("RESET plan_cache_mode")


# Writes since the stored documents are gone: only the search document's triggers (claims
# migration 0001_squashed_0023) run on a claim edit or a new citation. Each write is timed next
# to the same statement with the table's own triggers off ("bare"), in transactions
# rolled back after.
WRITES = {
    "claim_edit": (
        "claims_claim",
        "UPDATE claims_claim SET text = text || ' ' WHERE id = %(claim)s",
    ),
    "citation_add": (
        "claims_citation",
        "INSERT INTO claims_citation (claim_id, source_id, role, quote, locator,"
        " reliability_note, created_at, updated_at)"
        " VALUES (%(claim)s, %(source)s, 'context', 'q', '', '', now(), now())",
    ),
    # The publisher of the most citations, and the source most often built upon.
    "publisher_rerate": (
        "sources_person",
        "UPDATE sources_person SET reliability = 'deprecated' WHERE id = %(publisher)s",
    ),
    "upstream_retitle": (
        "sources_source",
        "UPDATE sources_source SET title = title || ' ' WHERE id = %(upstream)s",
    ),
}
WRITE_SUBJECTS = (
    "SELECT (SELECT max(id) FROM claims_claim),"
    " (SELECT min(id) FROM sources_source),"
    " (SELECT s.publisher_id FROM claims_citation ci JOIN sources_source s ON s.id = ci.source_id"
    "  WHERE s.publisher_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1),"
    " (SELECT based_on_id FROM sources_provenance GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1)"
)


def _measure_writes(results: dict[str, Any], repeat: int) -> None:
    """Median time of each write in WRITES, with its triggers and bare, and their ratio."""
    with connection.cursor() as cursor:
        cursor.execute(WRITE_SUBJECTS)
        claim, source, publisher, upstream = cursor.fetchone()
    if None in (claim, source, publisher, upstream):
        raise ValueError("The writes need claims, publishers and provenance: run generate_data.")
    subjects = {"claim": claim, "source": source, "publisher": publisher, "upstream": upstream}
    for name, (table, statement) in WRITES.items():

        def write(table: str = table, statement: str = statement, *, bare: bool) -> float:
            with transaction.atomic(), connection.cursor() as cursor:
                if bare:
                    cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
                started = time.perf_counter()
                cursor.execute(statement, subjects)
                elapsed = time.perf_counter() - started
                transaction.set_rollback(True)
            return elapsed * 1000

        write(bare=False)  # warm caches
        write(bare=True)
        timed = [(write(bare=False), write(bare=True)) for _ in range(repeat)]
        results[f"write_{name}_ms"] = statistics.median(t for t, _ in timed)
        results[f"write_{name}_bare_ms"] = statistics.median(b for _, b in timed)
        results[f"write_{name}_ratio"] = (
            results[f"write_{name}_ms"] / results[f"write_{name}_bare_ms"]
        )


# The quote benchmark's snapshots: each about 30,000 characters, cited 100 times.
SNAPSHOT_WORDS = 5_000
CITATIONS_PER_SOURCE = 100


def _measure_quotes(results: dict[str, Any], count: int) -> None:
    """Check `count` quotes against their sources' snapshots, as verify_quotes does, in a
    transaction that is rolled back. Of the quotes, 70% are in the snapshot as they are,
    10% differ in spaces or quote marks, 10% are misquoted (three words changed) and 10%
    are not there at all."""
    rng = random.Random(16)  # noqa: S311 - synthetic data
    with transaction.atomic():
        sources = Source.objects.bulk_create(
            Source(title=f"Quote benchmark {i}") for i in range(-(-count // CITATIONS_PER_SOURCE))
        )
        texts = {
            source.pk: synthetic_text(rng, SNAPSHOT_WORDS, SNAPSHOT_WORDS) for source in sources
        }
        Snapshot.objects.bulk_create(
            Snapshot(
                source=source,
                file=f"snapshots/bench/{source.pk}.txt",  # a name only: nothing is written
                media_type="text/plain",
                sha256=f"{source.pk:064d}",
                size=len(texts[source.pk]),
                captured_at=timezone.now(),
                text=texts[source.pk],
            )
            for source in sources
        )
        claims = Claim.objects.bulk_create(
            Claim(text=f"Quote benchmark claim {i}.") for i in range(-(-count // 4))
        )
        roles = (Role.APPEARANCE, Role.SUPPORTS, Role.DISPUTES, Role.CONTEXT)
        Citation.objects.bulk_create(
            Citation(
                claim=claims[i // 4],
                source=sources[i % len(sources)],
                role=roles[i % 4],
                quote=_quote(rng, texts[sources[i % len(sources)].pk]),
            )
            for i in range(count)
        )
        # The benchmark's own sources are the newest ones: a range, not a list of ids.
        chosen = Citation.objects.filter(source_id__gte=min(source.pk for source in sources))
        started = time.perf_counter()
        for _ in QuoteCheck.objects.recheck_all(chosen):
            pass
        seconds = time.perf_counter() - started
        results["quotes_checked"] = count
        results["quotes_per_s"] = count / seconds
        outcomes = QuoteCheck.objects.filter(citation__in=chosen).values_list("outcome", flat=True)
        for outcome, n in sorted(Counter(outcomes).items()):
            results[f"quotes_{outcome}"] = n
        transaction.set_rollback(True)


def _quote(rng: random.Random, text: str) -> str:
    """A passage of 10 to 40 words of `text`: as it is, bent, misquoted or made up."""
    words = text.split(" ")
    start = rng.randrange(len(words) - 40)
    passage = words[start : start + rng.randint(10, 40)]
    kind = rng.random()
    if kind < 0.7:
        return " ".join(passage)
    if kind < 0.8:
        return "  ".join(passage)
    if kind < 0.9:
        for i in rng.sample(range(len(passage)), 3):
            passage[i] = "misquoted"
        return " ".join(passage)
    return synthetic_text(rng, 10, 40)


def _exporter(claims: Any) -> Callable[[], None]:
    return lambda: _drain(stream_csv(EXPORTS["claims"], claims, base_url="x"))


def _ndjson_exporter(claims: Any) -> Callable[[], None]:
    return lambda: _drain(stream_documents(claims, published_only=True))


def _host() -> str:
    """A host name ALLOWED_HOSTS accepts: its first plain entry ("*" and ".example.org"
    are patterns, not names)."""
    for pattern in settings.ALLOWED_HOSTS:
        if pattern == "*":
            return "localhost"
        if pattern.startswith("."):
            return "bench" + pattern
        return pattern
    return "localhost"


def _unthrottle() -> None:
    # Rate limits would answer 429 to a benchmark; the throttles still run, as for anyone.
    rates: dict[str, str | None] = {"anon": "1000000000/day", "user": "1000000000/day"}
    AnonRateThrottle.THROTTLE_RATES = UserRateThrottle.THROTTLE_RATES = rates


def _get(client: Client, url: str, *, stream: bool = False) -> int:
    status, body = client.get(url, stream=stream)
    if status != 200:
        raise RuntimeError(f"{url} answered {status}")
    return len(body)


def _sql(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.fetchall()


def _copy(statement: str, params: list[Any]) -> None:
    # As an export runs it: its own transaction and settings (sources.export_engine.run_copy).
    _drain(run_copy(statement, params))


def _medians(*actions: Callable[[], Any], repeat: int) -> list[float]:
    """Median milliseconds of actions timed in turn, so that a shared machine's drift
    between batches cannot tilt their ratios."""
    for action in actions:
        action()  # warm caches: the figures are for a steady state
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(repeat):
        for runs, action in zip(times, actions, strict=True):
            runs.append(_timed(action) * 1000)
    return [statistics.median(runs) for runs in times]


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

    published = Claim.objects.published().order_by("-updated_at", "-id")
    total = published.count()
    anchor = published.values_list("updated_at", flat=True)[max(total - 51, 0)]
    # The cursor as DRF's CursorPagination writes it: base64 of "p=<position>".
    token = base64.b64encode(urlencode({"p": str(anchor)}).encode()).decode()
    return "/api/v1/claims/?" + urlencode({"page_size": 50, "cursor": token})


# Searches of different frequencies: single words from the synthetic vocabulary's most
# common (in most claims) to rare ones, and pairs of words (websearch's AND).
OVERLAP_RANKS = (10, 20, 50, 100, 200, 300, 500, 1000, 2000, 4000, 8000, 12000)
OVERLAP_PAIRS = (
    (10, 100),
    (20, 1000),
    (50, 300),
    (100, 2000),
    (200, 500),
    (300, 4000),
    (1000, 8000),
    (500, 12000),
)
FULL_RANKING = (
    "SELECT id FROM claims_claim WHERE state = 'published' AND search_document @@ {q}"
    " ORDER BY ts_rank(search_document, {q}) DESC, id DESC LIMIT 50"
)


def _search_overlaps(client: Client) -> dict[str, float]:
    """For each search, the share of its first page (50 claims, as the API serves it)
    that is in the top 50 of every match ranked by ts_rank (ties newest first)."""
    queries = [VOCABULARY[rank] for rank in OVERLAP_RANKS] + [
        f"{VOCABULARY[a]} {VOCABULARY[b]}" for a, b in OVERLAP_PAIRS
    ]
    overlaps = {}
    for query in queries:
        status, body = client.get(f"/api/v1/claims/?{urlencode({'q': query, 'page_size': 50})}")
        served = (
            {claim["id"] for claim in orjson.loads(body)["results"]} if status == 200 else set()
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute(
                FULL_RANKING.format(q="websearch_to_tsquery('english'::regconfig, %(q)s)"),
                {"q": query},
            )
            best = {pk for (pk,) in cursor.fetchall()}
        overlaps[query] = len(served & best) / len(best) if best else 1.0
    return overlaps


def _search_uses_index(client: Client, word: str) -> bool:
    """EXPLAIN the SQL the search page ran: true when it reads the full-text index."""
    with CaptureQueriesContext(connection) as queries:
        _get(client, f"/api/v1/claims/?q={word}")
    with connection.cursor() as cursor:
        [sql] = [q["sql"] for q in queries.captured_queries if "search_document @@" in q["sql"]]
        cursor.execute(f"EXPLAIN {sql}")  # our own SQL
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return SEARCH_INDEX_NAME in plan
