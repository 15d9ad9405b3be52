import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.http.request import validate_host
from rest_framework.test import APIClient

from bench.benchmark import _host
from bench.synthetic import VOCABULARY, fuzzy_date
from claims.exports import EXPORTS
from claims.management.commands.export_csv import QUERYSETS
from claims.models import Citation, Claim, QuoteCheck
from claims.paths import resolve_path
from claims.search import search_index_method
from sources.dates import parse_fuzzy_date
from sources.export_engine import stream_csv
from sources.models import Person, Source

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="generate_data uses PostgreSQL's COPY"
)


def test_synthetic_dates_agree_with_the_date_parser() -> None:
    rng = random.Random(7)  # noqa: S311 - test data
    for _ in range(300):
        wording, edtf, earliest, latest = fuzzy_date(rng)
        if not wording:
            continue
        parsed = parse_fuzzy_date(wording)
        assert (parsed.edtf, parsed.earliest, parsed.latest) == (edtf, earliest, latest), wording


@needs_postgres
@pytest.mark.django_db
def test_generate_data_fills_every_table_in_proportion() -> None:
    call_command("generate_data", "--claims", "300", "--people", "500")

    assert Claim.objects.count() == 300
    assert Person.objects.count() == 500
    assert Source.objects.count() == 150
    assert 3 <= Citation.objects.count() / 300 <= 5
    for claim in Claim.objects.order_by("?")[:20]:
        claim.full_clean()
    # A third of the citations have a recorded path of two or three steps, each a path the
    # rule takes; a tenth of the claims are made by a source.
    with_path = Citation.objects.filter(steps__isnull=False).distinct()
    assert 0.2 <= with_path.count() / Citation.objects.count() <= 0.45
    for citation in with_path.order_by("?")[:30]:
        ids = [step.link.based_on_id for step in citation.steps.select_related("link")]
        assert 2 <= len(ids) <= 3
        assert len(resolve_path(citation.source_id, ids)) == len(ids)
    assert 10 <= Claim.objects.filter(claimant_source__isnull=False).count() <= 50
    Claim.objects.create(text="A new claim gets the next id.")
    with connection.cursor() as cursor:
        # Every search document is written, quotes included, as the triggers would write it;
        # and the triggers are back on: the claim created above has its document too.
        cursor.execute(
            "SELECT count(*) FROM claims_claim"
            " WHERE search_document IS DISTINCT FROM claimtrail_claim_document(id, text, summary)"
        )
        assert cursor.fetchone() == (0,)


@needs_postgres
@pytest.mark.django_db
def test_the_api_and_exports_work_on_synthetic_data(editor_api: APIClient) -> None:
    call_command("generate_data", "--claims", "200", "--people", "300")

    page = editor_api.get("/api/v1/claims/", {"page_size": 100, "q": VOCABULARY[0]})
    assert page.status_code == 200
    assert page.json()["results"]
    for name in EXPORTS:
        copied = b"".join(stream_csv(EXPORTS[name], QUERYSETS[name](), base_url="x", use_copy=True))
        written = b"".join(
            stream_csv(EXPORTS[name], QUERYSETS[name](), base_url="x", use_copy=False)
        )
        assert copied == written, name


@pytest.mark.django_db
def test_generate_data_refuses_a_database_with_claims() -> None:
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="point DATABASE_URL at PostgreSQL"):
            call_command("generate_data", "--claims", "10")
        return
    Claim.objects.create(text="Existing.")
    with pytest.raises(CommandError, match="has claims already"):
        call_command("generate_data", "--claims", "10")


@needs_postgres
@pytest.mark.django_db
def test_benchmark_runs_on_a_small_tier_and_writes_every_figure(tmp_path: Path) -> None:
    call_command("generate_data", "--claims", "200", "--people", "300")
    target = tmp_path / "bench.json"

    citations = Citation.objects.count()

    call_command(
        "benchmark", "--repeat", "1", "--quotes", "400", "--json", str(target), stdout=io.StringIO()
    )

    figures = json.loads(target.read_text())
    writes = ("claim_edit", "citation_add", "publisher_rerate", "upstream_retitle")
    assert set(figures) >= {
        "api_list_ms",
        "api_list_sql_ms",
        "api_list_ratio",
        "api_list_prebuilt_sql_ms",
        "build_prebuilt_ratio",
        "api_detail_ms",
        "api_detail_sql_ms",
        "api_detail_ratio",
        "api_list_prepared_ms",
        "api_list_plan_ratio",
        "api_detail_prepared_ms",
        "api_detail_plan_ratio",
        "search_top50_overlap",
        "search_top50_overlap_min",
        "queries_page_10",
        "queries_page_100",
        "deep_page_ratio",
        "search_ms",
        "search_list_ratio",
        "search_uses_index",
        "csv_rows_per_s",
        "copy_rows_per_s",
        "csv_ratio",
        "csv_peak_mb_small",
        "csv_peak_mb_large",
        "csv_table_copy_rows_per_s",
        "csv_limit_ratio",
        "citations_csv_rows_per_s",
        "citations_csv_limit_ratio",
        "ndjson_rows_per_s",
        "ndjson_list_ratio",
        "ndjson_peak_mb_small",
        "ndjson_peak_mb_large",
        "quotes_checked",
        "quotes_per_s",
        "claims",
        "citations",
        *(f"write_{name}_{figure}" for name in writes for figure in ("ms", "bare_ms", "ratio")),
    }
    assert len(figures["search_top50_overlaps"]) == 20
    if search_index_method() == "gin":  # .ci/run runs this test on GIN too
        # 200 claims: every search is ranked whole, its first page the full ranking's.
        assert figures["search_top50_overlap"] == 1.0
    else:  # RUM ranks as ts_rank does, but orders ties its own way
        assert 0.9 <= figures["search_top50_overlap"] <= 1.0
    assert Citation.objects.count() == citations  # the writes were rolled back
    assert not QuoteCheck.objects.exists()  # and so were the quote benchmark's rows
    # Of 400 quotes: 70% found as they are, 10% normalised, 20% close or not found.
    assert 230 <= figures["quotes_exact"] <= 330
    assert 20 <= figures["quotes_normalised"] <= 70
    assert (
        figures["quotes_exact"]
        + figures["quotes_normalised"]
        + figures.get("quotes_close", 0)
        + figures.get("quotes_not_found", 0)
        == 400
    )
    assert figures["claims"] == 200
    assert figures["queries_page_10"] == figures["queries_page_100"]
    assert all(figures[key] > 0 for key in figures if key.endswith(("_ms", "_ratio")))


@pytest.mark.parametrize(
    ("allowed", "host"),
    [
        (["*"], "localhost"),
        ([".example.org"], "bench.example.org"),
        (["claims.example.org", "*"], "claims.example.org"),
        ([], "localhost"),
    ],
)
def test_the_benchmark_sends_a_host_that_allowed_hosts_accepts(
    settings: Any, allowed: list[str], host: str
) -> None:
    settings.ALLOWED_HOSTS = allowed
    assert _host() == host
    assert validate_host(host, allowed or ["localhost"])
