import re
from io import StringIO

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

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
    assert {"Claim", "CitedSource", "ProvenanceSource", "FuzzyDate", "SourceDetail"} <= set(ours)
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
