"""The API against its own OpenAPI schema: schemathesis generates requests from the schema
(valid and invalid ones) and checks every response with every check it has (status codes,
content types, headers and bodies as documented, no server error, invalid input refused,
valid input accepted, auth honoured...), over real HTTP to the live server, on the demo
data, as an anonymous client and as an editor with a token.

`schemathesis.toml` says which statuses each check expects; the same run from the shell:
`schemathesis run http://127.0.0.1:8000/api/schema/?format=json -c all` (see README.md).
"""

from typing import Any

import pytest
import requests
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks

from api.models import ApiToken
from api.throttling import AnonRateThrottle, BadTokenThrottle, UserRateThrottle
from tests.factories import EditorFactory

# The live server reads what the test writes (committed, not in a test transaction); the
# Editors group, made by a migration, comes back after each test.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

load_all_checks()
ALL_CHECKS = [check for check in CHECKS.get_all() if callable(check)]

schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def api_schema(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    call_command("load_demo", verbosity=0)
    # Thousands of requests in a minute: lift the rate limits (tests/test_throttling.py
    # tests them), so that no answer is a 429 standing in for the real one.
    for throttle in (AnonRateThrottle, UserRateThrottle):
        monkeypatch.setattr(
            throttle, "THROTTLE_RATES", {"anon": "100000/minute", "user": "100000/minute"}
        )
    # Its generated wrong tokens, too, count for one address (api.throttling).
    monkeypatch.setattr(BadTokenThrottle, "get_rate", lambda self: "100000/minute")
    return schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")


@pytest.fixture
def editor_token(api_schema: Any) -> str:
    return ApiToken.issue(name="schemathesis", user=EditorFactory(), created_by=None)[1]


def call_and_validate(case: Any, headers: dict[str, str]) -> None:
    """One generated request, sent as a client does it: a PUT or PATCH carries the ETag of
    a GET of the record just before (If-Match), unless the case is about that header."""
    if (
        case.method in ("PUT", "PATCH")
        and case.path_parameters
        and "If-Match" in (case.headers or {})
    ):
        url = case.operation.schema.get_base_url() + case.formatted_path
        current = requests.get(url, headers=headers, timeout=30)
        if current.status_code == 200:
            case.headers = {**case.headers, "If-Match": current.headers["ETag"]}
    case.call_and_validate(headers=headers, checks=ALL_CHECKS)


SETTINGS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


@schema.parametrize()
@SETTINGS
def test_the_api_keeps_its_schema_for_anonymous_clients(case: Any) -> None:
    call_and_validate(case, headers={})


@schema.parametrize()
@SETTINGS
def test_the_api_keeps_its_schema_for_editors(case: Any, editor_token: str) -> None:
    call_and_validate(case, headers={"Authorization": f"Bearer {editor_token}"})
