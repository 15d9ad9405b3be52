"""manage.py loadtest against a live server over real HTTP."""

import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from bench.loadtest import percentile
from tests.factories import ClaimFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_percentiles_interpolate() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 95) == 0.0


def test_loadtest_sends_the_requests_asked_for_and_reports_each_endpoint(
    live_server: Any,
) -> None:
    ClaimFactory.create_batch(3)
    out = io.StringIO()

    call_command("loadtest", live_server.url, "--requests", "30", "--concurrency", "3", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("30 requests in ")
    rows = {line[:22].strip(): line[22:].split() for line in lines[2:]}
    assert set(rows) == {
        "page: list",
        "page: claim",
        "api: list",
        "api: detail",
        "api: search",
        "all",
    }
    assert sum(int(row[0]) for name, row in rows.items() if name != "all") == 30
    assert rows["all"][:2] == ["30", "0"]  # every request answered 200


def test_loadtest_counts_errors_and_stops_at_its_time_bound(live_server: Any) -> None:
    out = io.StringIO()
    call_command(
        "loadtest",
        live_server.url,
        "--path",
        "missing=/claims/999999/",
        "--requests",
        "100000",
        "--seconds",
        "1",
        "--json",
        stdout=out,
    )
    figures = json.loads(out.getvalue())
    missing = figures["endpoints"]["missing"]
    assert 0 < missing["requests"] < 100000
    assert missing["errors"] == missing["requests"]
    assert set(missing["statuses"]) == {"404"}
    assert figures["seconds"] < 30  # stopped by the clock, not by the 100,000 requests


def test_a_malformed_path_is_a_clear_error(live_server: Any) -> None:
    with pytest.raises(CommandError, match="--path must be NAME=/path"):
        call_command("loadtest", live_server.url, "--path", "claims")
