import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from pytest_django.plugin import blocking_manager_key
from rest_framework.test import APIClient

from api.throttling import reset_local_counts
from config.middleware import STREAM_SLOTS
from tests.factories import EditorFactory

BLNS_PATH = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "blns.json"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Each test starts from the database as the migrations left it: the Editors group and
    its permissions included. A transactional test ends by emptying every table (flush);
    in one process pytest-django runs those last, but pytest-xdist's workers run them
    among the others. So when the group is gone, the database is emptied and the
    migrations' rows restored (serialized when the test database was made), committed,
    before the test's own setup."""
    contents = getattr(connection, "_test_serialized_contents", None)
    if contents is None:  # the test database is not made yet, or was made without them
        return
    with item.config.stash[blocking_manager_key].unblock():
        if Group.objects.filter(name="Editors").exists():
            return
        call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
        connection.creation.deserialize_db_from_string(contents)


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
def _media_root(settings: Any, tmp_path: Path) -> None:
    """Uploaded files (snapshots) go to the test's own folder, never the project's."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Rate-limit counters live in the cache; each test starts with none, and with no
    streamed download counted as open (config.middleware.STREAM_SLOTS)."""
    cache.clear()
    reset_local_counts()
    STREAM_SLOTS.total = 0
    STREAM_SLOTS.by_client.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def editor_api(editor: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(editor)
    return client


def edit(client: APIClient, method: str, url: str, data: dict[str, Any]) -> Any:
    """A PUT or PATCH as a client makes it: with the ETag of a GET just before (If-Match)."""
    etag = client.get(url)["ETag"]
    return getattr(client, method)(url, data, format="json", HTTP_IF_MATCH=etag)


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings: Any) -> None:
    """Background tasks run as they are enqueued, in the test's own process and
    transaction (django-tasks' immediate backend); tests of the engine itself switch to
    the database backend and a real worker (tests/test_tasks.py). No page is captured on a
    save unless a test asks (tests/sources/test_capture.py serves the pages)."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": []}
    }
    settings.CAPTURE_ON_SAVE = False


@pytest.fixture(autouse=True)
def _one_editor_publishes(settings: Any) -> None:
    """Tests of other things publish a claim in one write, as a desk of one does; the
    workflow's own tests (tests/claims/test_workflow.py) turn the second editor's
    sign-off on, as it is by default (a test checks the default)."""
    settings.PUBLISH_REQUIRES_SECOND_EDITOR = False


@pytest.fixture(autouse=True)
def _superusers_sign_in_by_password(settings: Any) -> None:
    """Tests of other things sign superusers in without a second factor; the two-factor
    tests (tests/test_two_factor.py) require it, as production does by default."""
    settings.SUPERUSERS_REQUIRE_TWO_FACTOR = False
