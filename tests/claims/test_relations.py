"""Claims related to claims: edited inline in the admin, read both ways in the API and on
the page (drafts never shown to readers), exported as claim_relations.csv."""

import itertools

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from claims.models import ClaimRelation, RelationKind, State
from tests.claims.test_admin import claim_form, version_of
from tests.factories import ClaimFactory

pytestmark = pytest.mark.django_db


def test_a_relation_reads_both_ways_in_the_api_and_on_the_pages(api_client: APIClient) -> None:
    speech = ClaimFactory(state=State.PUBLISHED, text="They harvest organs.")
    rebuttal = ClaimFactory(state=State.PUBLISHED, text="The allegations are fabricated.")
    ClaimRelation.objects.create(claim=rebuttal, kind=RelationKind.RESPONDS_TO, other=speech)

    out = api_client.get(f"/api/v1/claims/{rebuttal.pk}/").json()["relations"]
    back = api_client.get(f"/api/v1/claims/{speech.pk}/").json()["relations"]

    assert out == [
        {
            "kind": "responds_to",
            "direction": "outgoing",
            "claim": {"id": speech.pk, "text": "They harvest organs."},
        }
    ]
    assert back == [
        {
            "kind": "responds_to",
            "direction": "incoming",
            "claim": {"id": rebuttal.pk, "text": "The allegations are fabricated."},
        }
    ]
    page = api_client.get(f"/claims/{speech.pk}/").content.decode()
    assert "Responded to by:" in page
    assert f'href="/claims/{rebuttal.pk}/"' in page


def test_a_relation_to_a_draft_is_shown_to_editors_only(
    api_client: APIClient, editor_api: APIClient
) -> None:
    published = ClaimFactory(state=State.PUBLISHED)
    draft = ClaimFactory(state=State.DRAFT, text="Secret draft wording.")
    ClaimRelation.objects.create(claim=draft, kind=RelationKind.REPEATS, other=published)

    assert api_client.get(f"/api/v1/claims/{published.pk}/").json()["relations"] == []
    listed = api_client.get("/api/v1/claims/").json()["results"]
    assert all(c["relations"] == [] for c in listed)
    assert (
        "Secret draft wording." not in api_client.get(f"/claims/{published.pk}/").content.decode()
    )
    [seen] = editor_api.get(f"/api/v1/claims/{published.pk}/").json()["relations"]
    assert seen["claim"]["id"] == draft.pk


def test_the_list_reads_relations_without_a_query_per_claim(api_client: APIClient) -> None:
    claims = ClaimFactory.create_batch(6, state=State.PUBLISHED)
    for a, b in itertools.pairwise(claims):
        ClaimRelation.objects.create(claim=a, kind=RelationKind.CONTRADICTS, other=b)

    with CaptureQueriesContext(connection) as few:
        api_client.get("/api/v1/claims/", {"page_size": 2})
    with CaptureQueriesContext(connection) as many:
        body = api_client.get("/api/v1/claims/", {"page_size": 6}).json()

    assert len(many) == len(few)
    assert sum(len(c["relations"]) for c in body["results"]) == 10


def test_an_editor_relates_claims_inline_in_the_admin(editor_client: Client) -> None:
    claim, other = ClaimFactory(text="Later claim."), ClaimFactory()
    url = f"/admin/claims/claim/{claim.pk}/change/"
    data = claim_form(text="Later claim.", version=version_of(editor_client.get(url)))
    data.update(
        {
            "relations-TOTAL_FORMS": "1",
            "relations-0-kind": "repeats",
            "relations-0-other": str(other.pk),
            "relations-0-note": "Same words, a year later.",
        }
    )

    response = editor_client.post(url, data)

    assert response.status_code == 302
    relation = ClaimRelation.objects.get()
    assert (relation.claim, relation.kind, relation.other) == (claim, "repeats", other)
    assert relation.history.get().history_type == "+"
