import json
import re
from io import StringIO
from typing import Any, cast

import jsonschema
import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_generates_without_warnings_and_validates() -> None:
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/claims/", "/api/v1/claims/{id}/claimreview/", "/api/v1/sources/{id}/"} <= set(
        schema["paths"]
    )
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_every_field_of_our_resources_is_described() -> None:
    out = StringIO()
    call_command("spectacular", stdout=out)
    components = yaml.safe_load(out.getvalue())["components"]["schemas"]
    # Error and page wrappers come from drf-standardized-errors and DRF, described there.
    ours = {
        name: schema
        for name, schema in components.items()
        if not name.startswith(("V1", "Error", "Paginated", "Parse"))
    }
    assert {
        "Claim",
        "PathSource",
        "PathStep",
        "Claimant",
        "Evidence",
        "FuzzyDate",
        "SourceDetail",
    } <= set(ours)
    undescribed = [
        f"{name}.{field}"
        for name, schema in ours.items()
        for field, spec in schema.get("properties", {}).items()
        if not spec.get("description")
    ]
    assert undescribed == []


def test_the_schema_endpoint_serves_json(client: Client) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Claimtrail API"


def test_interactive_docs_load_only_our_own_static_files(client: Client) -> None:
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not served by us"
        if asset.startswith("/static/"):
            assert finders.find(asset.removeprefix("/static/")), asset
    assert "cdn" not in html.lower()


def openapi_schema() -> dict[str, Any]:
    out = StringIO()
    call_command("spectacular", "--format", "openapi-json", stdout=out)
    return cast(dict[str, Any], json.loads(out.getvalue()))


def error_attr_schemas(schema: dict[str, Any], path: str, method: str) -> list[dict[str, Any]]:
    """The `attr` schemas of the errors an operation's documented validation 400 allows."""
    components = schema["components"]["schemas"]

    def resolve(ref: dict[str, Any]) -> dict[str, Any]:
        return cast(dict[str, Any], components[ref["$ref"].rsplit("/", 1)[1]])

    documented = schema["paths"][path][method]["responses"]["400"]["content"]
    response = resolve(documented["application/json"]["schema"])
    members = [resolve(m) for m in response.get("oneOf", response.get("anyOf", []))]
    [validation] = [m for m in members if "ValidationError" in str(m["properties"]["type"])]
    error = resolve(validation["properties"]["errors"]["items"])
    return [resolve(m)["properties"]["attr"] for m in error.get("oneOf", error.get("anyOf", []))]


def admits(attr_schema: dict[str, Any], attr: str) -> bool:
    if "enum" in attr_schema:
        return attr in attr_schema["enum"]
    return re.fullmatch(attr_schema["pattern"].strip("^$"), attr) is not None


def test_the_snapshot_upload_documents_its_validation_errors() -> None:
    schema = openapi_schema()
    attrs = error_attr_schemas(schema, "/api/v1/sources/{id}/snapshots/", "post")

    for attr in ("file", "captured_at", "non_field_errors"):
        assert any(admits(a, attr) for a in attrs), attr


def test_a_claims_errors_about_the_claim_as_a_whole_are_documented() -> None:
    schema = openapi_schema()

    for path, method in [("/api/v1/claims/", "post"), ("/api/v1/claims/{id}/", "patch")]:
        attrs = error_attr_schemas(schema, path, method)
        assert any(admits(a, "non_field_errors") for a in attrs)
        # Django's name for them: the API never sends it (api.exceptions.ExceptionHandler).
        assert not any(admits(a, "__all__") for a in attrs)


def test_a_claim_refused_as_a_whole_answers_the_documented_error_shape(
    editor_api: APIClient,
) -> None:
    # A date that cannot be placed stops the model's clean() before it asks for the
    # rating's rationale, so the database constraint's error (about the claim as a whole,
    # Django's "__all__") is the one reported for it.
    response = editor_api.post(
        "/api/v1/claims/",
        {"text": "A claim.", "rating": "false", "made": {"text": "July 31"}},
        format="json",
    )

    assert response.status_code == 400
    assert {"code": "invalid", "attr": "non_field_errors"} in [
        {"code": e["code"], "attr": e["attr"]} for e in response.json()["errors"]
    ]
    schema = openapi_schema()
    documented = schema["paths"]["/api/v1/claims/"]["post"]["responses"]["400"]
    validator = jsonschema.Draft7Validator(
        {**documented["content"]["application/json"]["schema"], "components": schema["components"]}
    )
    assert list(validator.iter_errors(response.json())) == []
