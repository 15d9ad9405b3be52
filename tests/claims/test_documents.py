"""The fast read path (claims.documents) gives exactly the JSON ClaimSerializer defines."""

from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from claims.documents import claim_documents, postgres_documents, value_documents
from claims.models import Claim, Role
from claims.serializers import ClaimSerializer
from sources.models import Provenance
from sources.serializers import ProvenanceIndex
from tests.factories import (
    CitationFactory,
    ClaimFactory,
    PersonFactory,
    SourceFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db


def serializer_json(claims: list[Claim]) -> list[dict]:
    """The plain path: DRF's nested serializers over prefetched model instances."""
    source_ids = [c.source_id for claim in claims for c in claim.citations.all()]
    context = {"provenance": ProvenanceIndex(source_ids)}
    return ClaimSerializer(claims, many=True, context=context).data


@pytest.fixture
def varied_claims() -> None:
    """The demo data set, plus the awkward cases: nulls, cycles of reuse, unicode, dates."""
    call_command("load_demo")
    unattributed = ClaimFactory(
        claimant=None, text="Ünïcödé “quotes” <b>and</b>\nnewlines", language="zh-Hans"
    )
    unattributed.topics.add(TopicFactory(name="Zeta"), TopicFactory(name="Alpha"))
    unattributed.people.add(PersonFactory(name="Zed"), PersonFactory(name="Abe"))
    primary = SourceFactory(publisher=None, is_primary=True, reliability="deprecated")
    middle = SourceFactory()
    Provenance.objects.create(source=middle, based_on=primary)
    for role in (Role.SUPPORTS, Role.DISPUTES):
        top = SourceFactory(published_text="")
        Provenance.objects.create(source=top, based_on=middle)
        CitationFactory(claim=unattributed, source=top, role=role, accessed_on=date(2019, 11, 17))
    ClaimFactory(made_text="July 31", made_edtf="2019?-07-31", event_text="2018/..")


def test_documents_equal_the_serializer_for_every_claim(varied_claims: None) -> None:
    fast = value_documents(list(Claim.objects.for_api().order_by("id")))
    plain = serializer_json(list(Claim.objects.for_serializer().order_by("id")))

    assert len(fast) == Claim.objects.count() > 20
    assert fast == plain
    # Same keys in the same order, so the bytes on the wire are the same too.
    renderer = JSONRenderer()
    assert renderer.render(fast) == renderer.render(plain)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL builds this JSON")
def test_postgresql_builds_the_same_documents(
    varied_claims: None, naughty_strings: list[str]
) -> None:
    for text in naughty_strings:
        ClaimFactory(text=text, summary=text)
    ids = list(Claim.objects.order_by("id").values_list("id", flat=True))
    built = postgres_documents(ids)
    plain = serializer_json(list(Claim.objects.for_serializer().order_by("id")))

    assert built == plain
    renderer = JSONRenderer()
    assert renderer.render(built) == renderer.render(plain)
    assert claim_documents(list(Claim.objects.order_by("id"))) == built


def test_the_list_endpoint_serves_the_serializers_json(
    varied_claims: None, editor_api: APIClient
) -> None:
    response = editor_api.get("/api/v1/claims/", {"page_size": 100})

    body = response.json()
    ids = [claim["id"] for claim in body["results"]]
    by_id = {c.pk: c for c in Claim.objects.for_serializer().filter(pk__in=ids)}
    assert body["results"] == serializer_json([by_id[i] for i in ids])


def test_the_detail_endpoint_serves_the_serializers_json(
    varied_claims: None, api_client: APIClient
) -> None:
    claim = Claim.objects.get(language="zh-Hans")

    response = api_client.get(f"/api/v1/claims/{claim.pk}/")

    assert response.json() == serializer_json([Claim.objects.for_serializer().get(pk=claim.pk)])[0]
    assert len(response.json()["citations"][0]["source"]["provenance"]) == 2
