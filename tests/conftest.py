import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

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
