import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from claims.documents import stale_documents
from tests.factories import EditorFactory

BLNS_PATH = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "blns.json"


@pytest.fixture
def editor(db: None) -> User:
    return EditorFactory()


@pytest.fixture
def editor_client(client: Client, editor: User) -> Client:
    client.force_login(editor)
    return client


@pytest.fixture(scope="session")
def naughty_strings() -> list[str]:
    """The Big List of Naughty Strings, from the shared folder beside the project."""
    if not BLNS_PATH.exists():
        pytest.skip(f"{BLNS_PATH} is absent (CI always has it)")
    return [s for s in json.loads(BLNS_PATH.read_text(encoding="utf-8")) if s.strip()]


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Rate-limit counters live in the cache; each test starts with none."""
    cache.clear()


@pytest.fixture(autouse=True)
def _stored_documents_stay_current(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test that touches the database ends by checking, on PostgreSQL, that each
    claim's stored document equals what claims.documents.CLAIM_JSON builds from the tables
    now: whatever the test wrote (admin, API, import, demo data), the triggers kept up."""
    uses_db = request.node.get_closest_marker("django_db") or "_django_db_helper" in (
        request.fixturenames
    )
    if not uses_db:
        yield
        return
    # Set the database up before this fixture, so that it is torn down after the check.
    request.getfixturevalue("_django_db_helper")
    yield
    # Not after a test that ended inside a failed transaction (it expected a database error).
    if connection.vendor == "postgresql" and not connection.needs_rollback:
        assert stale_documents() == [], "stored claim documents out of date"


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def editor_api(editor: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(editor)
    return client
