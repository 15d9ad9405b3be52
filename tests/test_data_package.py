"""The exports as tools read them: their data package, frictionless, pandas, NDJSON."""

import csv
import io
import json
from pathlib import Path
from typing import Any

import frictionless
import orjson
import pandas
import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from api import documents
from claims.exports import EXPORTS
from claims.models import Citation, Claim, ClaimRelation, Rating, State
from sources.models import Person, Source
from tests.factories import CitationFactory, ClaimFactory, PersonFactory

pytestmark = pytest.mark.django_db

MODELS = {
    "claims": Claim,
    "citations": Citation,
    "sources": Source,
    "people": Person,
    "claim_relations": ClaimRelation,
}


def body(response: Any) -> bytes:
    assert response.status_code == 200, getattr(response, "content", b"")[:500]
    return b"".join(response.streaming_content)


def test_the_data_package_describes_every_export_column_by_column(
    api_client: APIClient,
) -> None:
    response = api_client.get("/api/v1/datapackage.json")

    assert response.status_code == 200
    package = response.json()
    assert package["profile"] == "tabular-data-package"
    resources = {resource["name"]: resource for resource in package["resources"]}
    assert list(resources) == list(EXPORTS)
    for name, export in EXPORTS.items():
        schema = resources[name]["schema"]
        assert resources[name]["path"] == f"{name}.csv"
        assert [field["name"] for field in schema["fields"]] == export.header
        assert all(field["description"] for field in schema["fields"])
    rating = next(f for f in resources["claims"]["schema"]["fields"] if f["name"] == "rating")
    assert rating["constraints"]["enum"] == list(Rating.values)
    roles = next(f for f in resources["citations"]["schema"]["fields"] if f["name"] == "role")
    assert roles["constraints"]["enum"] == ["appearance", "supports", "disputes", "context"]
    assert resources["citations"]["schema"]["primaryKey"] == ["citation_id"]
    assert {"fields": ["claim_id"], "reference": {"resource": "claims", "fields": ["id"]}} in (
        resources["citations"]["schema"]["foreignKeys"]
    )
    report = frictionless.Package.validate_descriptor(package)  # against the standard
    assert report.valid, report.flatten(["type", "note"])


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_every_csv_response_links_to_its_description(api_client: APIClient, name: str) -> None:
    response = api_client.get(f"/api/v1/{name}.csv")

    body(response)
    assert response["Link"] == '<http://testserver/api/v1/datapackage.json>; rel="describedby"'


def download_package(client: APIClient, folder: Path) -> Path:
    """The package and every export, saved side by side as an analyst would."""
    package = folder / "datapackage.json"
    package.write_bytes(client.get("/api/v1/datapackage.json").content)
    for name in EXPORTS:
        (folder / f"{name}.csv").write_bytes(body(client.get(f"/api/v1/{name}.csv")))
    return package


def validate(package: Path) -> frictionless.Report:
    # basepath: the package's folder, where its relative paths point.
    return frictionless.Package(str(package), basepath=str(package.parent)).validate()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_frictionless_validates_every_export_over_http(live_server: Any) -> None:
    call_command("load_demo", verbosity=0)

    report = frictionless.Package(f"{live_server.url}/api/v1/datapackage.json").validate()

    assert report.valid, report.flatten(["title", "type", "note"])
    assert [task.name for task in report.tasks] == list(EXPORTS)
    rows = {task.name: task.stats["rows"] for task in report.tasks}
    published = Claim.objects.filter(state=State.PUBLISHED)
    assert rows["claims"] == published.count() > 20
    assert rows["citations"] == Citation.objects.filter(claim__in=published).count()
    assert rows["sources"] == Source.objects.count()


def test_frictionless_catches_a_file_that_breaks_its_description(
    api_client: APIClient, tmp_path: Path
) -> None:
    call_command("load_demo", verbosity=0)
    package = download_package(api_client, tmp_path)
    assert validate(package).valid

    claims = tmp_path / "claims.csv"
    rows = list(csv.DictReader(claims.open(encoding="utf-8", newline="")))
    rows[0]["rating"] = "probably"  # not a rating
    rows[1]["id"] = rows[2]["id"]  # a duplicate key
    rows[3]["made_earliest"] = "end of 2018"  # not a date
    with claims.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    errors = validate(package).flatten(["type", "fieldName"])
    assert ["constraint-error", "rating"] in errors
    assert ["primary-key", None] in errors
    assert ["type-error", "made_earliest"] in errors


def test_pandas_reads_every_export_with_the_packages_types(api_client: APIClient) -> None:
    call_command("load_demo", verbosity=0)
    package = api_client.get("/api/v1/datapackage.json").json()
    for resource in package["resources"]:
        fields = resource["schema"]["fields"]
        dates = [f["name"] for f in fields if f["type"] == "date"]
        text = {f["name"]: "string" for f in fields if f["type"] == "string"}
        frame = pandas.read_csv(
            io.BytesIO(body(api_client.get(f"/api/v1/{resource['name']}.csv"))),
            dtype={**text, **{f["name"]: "Int64" for f in fields if f["type"] == "integer"}},
            parse_dates=dates,
            keep_default_na=False,
            na_values={name: [""] for name in dates},
        )

        model = MODELS[resource["name"]]
        visible = model.objects.all()
        if model is Claim:
            visible = visible.filter(state=State.PUBLISHED)
        elif model is Citation:
            visible = visible.filter(claim__state=State.PUBLISHED)
        assert list(frame.columns) == [f["name"] for f in fields]
        assert len(frame) == visible.count() > 0, resource["name"]
        key = resource["schema"]["primaryKey"][0]
        assert frame[key].is_unique
        assert not frame[key].isna().any()
    claims = pandas.read_csv(io.BytesIO(body(api_client.get("/api/v1/claims.csv"))), dtype=str)
    texts = dict(Claim.objects.filter(state=State.PUBLISHED).values_list("id", "text"))
    assert {int(i): text for i, text in zip(claims["id"], claims["text"], strict=True)} == texts


def ndjson(response: Any) -> list[dict[str, Any]]:
    assert response["Content-Type"] == "application/x-ndjson"
    lines = body(response).split(b"\n")
    assert lines[-1] == b""  # every document ends its line
    return [orjson.loads(line) for line in lines[:-1]]


def test_claims_ndjson_is_every_document_the_api_returns(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    call_command("load_demo", verbosity=0)
    monkeypatch.setattr(documents, "NDJSON_CHUNK", 5)  # several chunks of the demo

    streamed = ndjson(api_client.get("/api/v1/claims.ndjson"))
    listed = api_client.get("/api/v1/claims/", {"page_size": 100}).json()["results"]

    assert [d["id"] for d in streamed] == sorted(d["id"] for d in listed)
    assert streamed == sorted(listed, key=lambda d: d["id"])
    assert all(d["state"] == "published" for d in streamed)


def test_claims_ndjson_takes_the_lists_filters_and_permissions(
    api_client: APIClient, editor_api: APIClient
) -> None:
    cruz = PersonFactory(name="Ted Cruz")
    wanted = CitationFactory(claim=ClaimFactory(claimant=cruz, text="Organs, massive scale"))
    CitationFactory()
    draft = ClaimFactory(state=State.DRAFT, text="Secret draft")

    by_claimant = ndjson(api_client.get("/api/v1/claims.ndjson", {"claimant": cruz.pk}))
    anonymous = ndjson(api_client.get("/api/v1/claims.ndjson"))
    editors = ndjson(editor_api.get("/api/v1/claims.ndjson"))
    bad = api_client.get("/api/v1/claims.ndjson", {"made_after": "last year"})

    assert [d["id"] for d in by_claimant] == [wanted.claim_id]
    assert draft.pk not in [d["id"] for d in anonymous]
    assert len(anonymous) == 2
    assert draft.pk in [d["id"] for d in editors]
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "made_after"
    if connection.vendor == "postgresql":
        searched = ndjson(api_client.get("/api/v1/claims.ndjson", {"q": "massive"}))
        assert [d["id"] for d in searched] == [wanted.claim_id]


def test_claims_ndjson_carries_naughty_strings_intact(
    api_client: APIClient, naughty_strings: list[str]
) -> None:
    for text in naughty_strings[:200]:
        CitationFactory(claim=ClaimFactory(text=text, summary=text), quote=text)

    streamed = ndjson(api_client.get("/api/v1/claims.ndjson"))

    assert [d["text"] for d in streamed] == naughty_strings[:200]
    assert [d["citations"][0]["quote"] for d in streamed] == naughty_strings[:200]


# Per chunk of claims: on PostgreSQL one statement (the next ids and their documents); on
# SQLite their ids, then the serializer's nine. Then one more finds none left.
NDJSON_QUERIES = 2 if connection.vendor == "postgresql" else 11


def test_claims_ndjson_queries_grow_with_chunks_not_claims(
    api_client: APIClient, django_assert_num_queries: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "NDJSON_CHUNK", 30)
    CitationFactory.create_batch(2)
    with django_assert_num_queries(NDJSON_QUERIES):
        small = ndjson(api_client.get("/api/v1/claims.ndjson"))
    CitationFactory.create_batch(25)
    with django_assert_num_queries(NDJSON_QUERIES):
        large = ndjson(api_client.get("/api/v1/claims.ndjson"))
    assert (len(small), len(large)) == (2, 27)


def test_the_data_package_is_in_the_openapi_schema(api_client: APIClient) -> None:
    schema = json.loads(api_client.get("/api/schema/", {"format": "json"}).content)
    assert "/api/v1/datapackage.json" in schema["paths"]
    ndjson_get = schema["paths"]["/api/v1/claims.ndjson"]["get"]
    assert "application/x-ndjson" in ndjson_get["responses"]["200"]["content"]
