"""The documentation's examples run: every `curl` of README.md and docs/ that reads the API
is sent, as written, to the demo data set as `make run` loads it (ids from 1), and must
answer 200 with something in it. An example that 404s, or lists nothing, has rotted."""

import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection
from rest_framework.test import APIClient

from api.models import ApiToken
from claims.models import Citation, CitationStep, Claim, ClaimRelation, Topic
from sources.models import Person, Provenance, Snapshot, Source
from tests.factories import EditorFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
CURL = re.compile(r"^curl\b(?P<flags>[^\n]*?)['\"]?http://127\.0\.0\.1:8000(?P<path>/[^'\"\s]*)")


def examples() -> list[tuple[str, str, str]]:
    """(where, flags, path) of each curl example that is a plain read ($ variables and
    pipelines of shell loops are left to their own lines' examples)."""
    found = []
    for document in DOCUMENTS:
        for number, line in enumerate(document.read_text(encoding="utf-8").splitlines(), 1):
            match = CURL.match(line.strip())
            if match and "$" not in match["path"] and "-X" not in match["flags"]:
                found.append((f"{document.name}:{number}", match["flags"], match["path"]))
    return found


EXAMPLES = examples()


@pytest.fixture
def demo() -> None:
    """The demo data set, its ids from 1 as on a new installation (`make run`)."""
    models = [CitationStep, Citation, ClaimRelation, Provenance, Snapshot, Claim, Source]
    for model in [*models, Topic, Person]:
        model.objects.all().delete()
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [*models, Topic, Person]):
            cursor.execute(statement)
    call_command("load_demo", verbosity=0)


def test_the_docs_have_examples_to_run() -> None:
    assert len(EXAMPLES) >= 12, EXAMPLES


def problem(client: APIClient, path: str) -> str | None:
    """What is wrong with reading `path` as an example: not 200, empty, or a list of
    nothing; None when it answers with something."""
    response = client.get(path)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if response.status_code != 200 or not body.strip():
        return f"{path} answers {response.status_code}"
    if response.get("Content-Type", "").startswith("application/json"):
        data = json.loads(body)
        if isinstance(data, dict) and data.get("results") == []:
            return f"{path} lists nothing on the demo"
    return None


def test_each_documented_read_answers_on_the_demo(demo: None) -> None:
    _, key = ApiToken.issue(name="docs example", created_by=None)
    rotted = []
    for where, flags, path in EXAMPLES:  # one demo for all: loading it is the slow part
        client = APIClient()
        if "Bearer" in flags:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        if (found := problem(client, path)) is not None:
            rotted.append(f"{where}: {found}")
    assert rotted == []
    # The check itself: a list of nothing and a missing claim are caught.
    assert problem(APIClient(), "/api/v1/claims/?claimant=999999") == (
        "/api/v1/claims/?claimant=999999 lists nothing on the demo"
    )
    assert problem(APIClient(), "/api/v1/claims/999999/") == "/api/v1/claims/999999/ answers 404"


WRITE = re.compile(
    r"^curl -X (?P<method>PATCH|PUT|POST)\b[^\n]*?\\\n\s*-d '(?P<body>[^']*)'\s+"
    r"['\"]?http://127\.0\.0\.1:8000(?P<path>/[^'\"\s]*)",
    re.M,
)


def writes() -> list[tuple[str, str, str, str]]:
    """(where, method, JSON body, path) of each curl example that writes."""
    found = []
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for match in WRITE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{document.name}:{line}", match["method"], match["body"], match["path"]))
    return found


def test_each_documented_write_is_taken_on_the_demo(demo: None) -> None:
    """Sent as the example sends it: with a token, and the ETag of a read just before."""
    examples = writes()
    assert [where for where, *_ in examples] == ["api.md:120"]
    _, key = ApiToken.issue(name="docs example", user=EditorFactory(), created_by=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    refused = []
    for where, method, body, path in examples:
        etag = client.head(path)["ETag"]
        response = getattr(client, method.lower())(
            path, json.loads(body), format="json", HTTP_IF_MATCH=etag
        )
        if response.status_code not in (200, 201):
            refused.append(f"{where}: {response.status_code} {response.content[:300]!r}")
    assert refused == []
