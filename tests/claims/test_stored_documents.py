"""Stored claim documents (claims migration 0008): every change a document shows rewrites
it, in the same statement; the API and pages read them. PostgreSQL only.

Every database test also ends with a check that no document is out of date (the autouse
fixture in tests/conftest.py); these tests name each kind of change and what it shows.
"""

import hashlib
import importlib
import pkgutil
from typing import Any

import orjson
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

import claims.migrations
from claims.documents import REFRESH_FUNCTION, stale_documents
from claims.models import Citation, Claim, StoredDocument
from sources.models import Person, Provenance
from tests.factories import (
    CitationFactory,
    ClaimFactory,
    OrganizationFactory,
    PersonFactory,
    ProvenanceFactory,
    SourceFactory,
    TopicFactory,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="documents are stored on PostgreSQL only"
    ),
]


def stored(claim: Claim) -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(StoredDocument.objects.get(claim_id=claim.pk).body)
    return document


def upstream_titles(claim: Claim) -> list[str]:
    [citation] = stored(claim)["citations"]
    return [source["title"] for source in citation["source"]["provenance"]]


def test_a_new_claim_has_its_document_and_an_edit_rewrites_it() -> None:
    claim = ClaimFactory(text="First words.")
    assert stored(claim)["text"] == "First words."

    claim.text = "Second words."
    claim.save()

    assert stored(claim)["text"] == "Second words."
    assert stale_documents() == []


def test_people_and_topics_added_removed_and_renamed() -> None:
    claim = ClaimFactory()
    person, topic = PersonFactory(name="Ann Example"), TopicFactory(name="Borders")

    claim.people.add(person)
    claim.topics.add(topic)
    assert [p["name"] for p in stored(claim)["people"]] == ["Ann Example"]
    assert [t["name"] for t in stored(claim)["topics"]] == ["Borders"]

    person.name = "Ann Renamed"
    person.save()
    assert [p["name"] for p in stored(claim)["people"]] == ["Ann Renamed"]
    topic.name = "Frontiers"
    topic.save()
    assert [t["name"] for t in stored(claim)["topics"]] == ["Frontiers"]

    claim.people.remove(person)
    claim.topics.clear()
    assert stored(claim)["people"] == stored(claim)["topics"] == []
    assert stale_documents() == []


def test_renaming_the_claimant_rewrites_the_claims_they_made() -> None:
    claim = ClaimFactory(claimant=PersonFactory(name="Old Name"))

    Person.objects.filter(pk=claim.claimant_id).update(name="New Name")

    assert stored(claim)["claimant"]["name"] == "New Name"


def test_citations_cited_edited_moved_and_deleted() -> None:
    first, second = ClaimFactory(), ClaimFactory()
    citation = CitationFactory(claim=first, quote="the words")
    assert [c["quote"] for c in stored(first)["citations"]] == ["the words"]

    citation.reliability_note = "Second-hand account."
    citation.save()
    assert stored(first)["citations"][0]["reliability_note"] == "Second-hand account."

    citation.claim = second
    citation.save()
    assert stored(first)["citations"] == []
    assert [c["id"] for c in stored(second)["citations"]] == [citation.pk]

    citation.delete()
    assert stored(second)["citations"] == []
    assert stale_documents() == []


def test_citations_written_in_one_statement_reach_every_claim() -> None:
    claims = ClaimFactory.create_batch(3)
    source = SourceFactory()

    Citation.objects.bulk_create(Citation(claim=c, source=source, quote="q") for c in claims)

    assert all(len(stored(claim)["citations"]) == 1 for claim in claims)


def test_sources_and_publishers_up_the_provenance_chain() -> None:
    # claim cites `report`, based on `memo`, based on `leak`: each edit shows on the claim.
    publisher = OrganizationFactory(name="Old Press")
    leak = SourceFactory(title="The leak", publisher=publisher)
    memo = SourceFactory(title="The memo")
    report = SourceFactory(title="The report")
    Provenance.objects.create(source=memo, based_on=leak)
    claim = CitationFactory(source=report).claim
    assert upstream_titles(claim) == []

    link = Provenance.objects.create(source=report, based_on=memo)
    assert upstream_titles(claim) == ["The memo", "The leak"]
    assert stored(claim)["citations"][0]["source"]["based_on"] == [memo.pk]

    leak.title = "The leaked files"
    leak.save()
    publisher.reliability = "deprecated"
    publisher.save()
    chain = stored(claim)["citations"][0]["source"]["provenance"]
    assert chain[1]["title"] == "The leaked files"
    assert chain[1]["publisher"]["reliability"] == "deprecated"
    assert chain[1]["effective_reliability"] == "deprecated"

    report.title = "The report, corrected"
    report.save()
    assert stored(claim)["citations"][0]["source"]["title"] == "The report, corrected"

    link.delete()
    assert upstream_titles(claim) == []
    assert stale_documents() == []


def test_a_deleted_claim_leaves_no_document() -> None:
    claim = CitationFactory().claim
    claim.people.add(PersonFactory())
    pk = claim.pk

    claim.delete()

    assert not StoredDocument.objects.filter(claim_id=pk).exists()
    assert stale_documents() == []


def test_the_api_serves_the_stored_document(api_client: APIClient) -> None:
    claim = ClaimFactory()
    marker = {"id": claim.pk, "stored": True}
    StoredDocument.objects.filter(claim_id=claim.pk).update(body=orjson.dumps(marker).decode())

    listed = api_client.get("/api/v1/claims/").json()["results"]
    detail = api_client.get(f"/api/v1/claims/{claim.pk}/").json()

    assert listed == [marker]
    assert detail == marker
    assert stale_documents() == [claim.pk]  # the check every test ends with sees it
    call_command("rebuild_documents")
    assert stale_documents() == []


def test_a_claim_without_a_stored_document_is_built_on_read(api_client: APIClient) -> None:
    claim = CitationFactory().claim
    expected = stored(claim)
    StoredDocument.objects.filter(claim_id=claim.pk).delete()

    with CaptureQueriesContext(connection) as queries:
        detail = api_client.get(f"/api/v1/claims/{claim.pk}/").json()

    assert detail == expected
    assert len(queries) == 2  # the stored documents, then the one missing built
    call_command("rebuild_documents")
    assert stored(claim) == expected


def test_rebuild_check_reports_stale_documents(capsys: pytest.CaptureFixture[str]) -> None:
    claim = ClaimFactory()
    StoredDocument.objects.filter(claim_id=claim.pk).update(body="{}")

    with pytest.raises(SystemExit) as failed:
        call_command("rebuild_documents", "--check")
    assert failed.value.code == 1
    assert f"1 stale: {claim.pk}" in capsys.readouterr().err

    call_command("rebuild_documents")
    call_command("rebuild_documents", "--check")
    assert "all current" in capsys.readouterr().out


def test_the_installed_document_sql_is_the_codes() -> None:
    # A change to claims.documents.CLAIM_JSON must come with a migration that installs the
    # new function and rebuilds every document (as 0008 does), recording its digest.
    digests = [
        module.DOCUMENT_SQL_SHA256
        for module in (
            importlib.import_module(f"claims.migrations.{info.name}")
            for info in sorted(pkgutil.iter_modules(claims.migrations.__path__))
        )
        if hasattr(module, "DOCUMENT_SQL_SHA256")
    ]
    assert digests[-1] == hashlib.sha256(REFRESH_FUNCTION.encode()).hexdigest(), (
        "CLAIM_JSON changed: add a migration that re-installs REFRESH_FUNCTION and rebuilds"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_functiondef('claimtrail_refresh_documents(bigint[])'::regprocedure)"
        )
        [(installed,)] = cursor.fetchall()
    assert "INSERT INTO claims_storeddocument" in installed
    assert "'citations'" in installed


def test_unrelated_provenance_leaves_documents_alone() -> None:
    claim = CitationFactory().claim

    def row_version() -> str:  # an UPDATE writes a new row version, at a new ctid
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT ctid::text FROM claims_storeddocument WHERE claim_id = %s", [claim.pk]
            )
            return str(cursor.fetchone()[0])

    before = row_version()
    ProvenanceFactory()
    assert row_version() == before

    claim.save()
    assert row_version() != before
