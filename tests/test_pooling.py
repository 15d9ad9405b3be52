"""Reading and writing over real HTTP with every statement committed as it goes, as in
production: under `.ci/with-pgbouncer` every transaction may run on another of PgBouncer's
server connections (transaction pooling), so anything held between transactions (a
cursor, a setting, a prepared statement) would break here. CI runs it both ways."""

import csv
import io
import json
import urllib.request
from typing import Any

import pytest

from api.models import ApiToken
from tests.factories import CitationFactory, EditorFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - the live server
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return response.status, dict(response.headers), response.read()


def send(url: str, method: str, body: dict[str, Any], **headers: str) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - the live server
        url,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", **headers},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return response.status, json.loads(response.read())


def test_pages_api_and_exports_read_and_write_in_committed_transactions(live_server: Any) -> None:
    citations = CitationFactory.create_batch(5)
    claim_ids = sorted(citation.claim_id for citation in citations)
    base = live_server.url

    # The API's pages, one cursor after another.
    seen, url = [], f"{base}/api/v1/claims/?page_size=2"
    while url:
        status, _, body = get(url)
        assert status == 200
        page = json.loads(body)
        seen += [claim["id"] for claim in page["results"]]
        url = page["next"]
    assert sorted(seen) == claim_ids

    # The exports, streamed (COPY on PostgreSQL) and by pages of ids (NDJSON).
    _, headers, body = get(f"{base}/api/v1/citations.csv")
    assert headers["Content-Type"].startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(body.decode())))) == 5
    _, _, body = get(f"{base}/api/v1/claims.ndjson")
    assert sorted(json.loads(line)["id"] for line in body.splitlines()) == claim_ids
    assert get(f"{base}/claims/{claim_ids[0]}/")[0] == 200
    assert get(f"{base}/?q=the")[0] == 200

    # A write, and an edit of it that names the version it saw.
    _, key = ApiToken.issue(name="Desk", user=EditorFactory(), created_by=None)
    auth = {"Authorization": f"Bearer {key}"}
    status, created = send(f"{base}/api/v1/claims/", "POST", {"text": "Pooled."}, **auth)
    assert status == 201
    detail = f"{base}/api/v1/claims/{created['id']}/"
    _, headers, _ = get(detail, **auth)
    status, edited = send(
        detail, "PATCH", {"text": "Pooled, edited."}, **auth, **{"If-Match": headers["ETag"]}
    )
    assert status == 200
    assert edited["text"] == "Pooled, edited."
