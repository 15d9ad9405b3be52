"""The read path (api.documents) gives exactly the JSON ClaimSerializer defines."""

import re
from datetime import UTC, date, datetime
from typing import Any

import orjson
import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from api.documents import (
    DOCUMENTS_FUNCTION,
    documents_function_body,
    postgres_documents,
    serializer_context,
    serializer_documents,
)
from api.renderers import ORJSONRenderer
from api.serializers import ClaimSerializer
from claims.models import Citation, Claim, QuoteCheck, Role
from claims.paths import resolve_path
from claims.services import write_paths
from sources.models import Provenance, Snapshot
from tests.factories import (
    CitationFactory,
    ClaimFactory,
    OrganizationFactory,
    PersonFactory,
    SourceFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL builds this JSON"
)

# Strings that have broken JSON writers, SQL and templates: written here so that a clone
# without ../shared (no Big List of Naughty Strings) still proves both paths agree.
HOSTILE = [
    '"quoted" and \\backslashed\\ and \\u0041 not an escape',
    "".join(chr(c) for c in range(1, 32)) + "\x7f",
    "line\u2028separator\u2029paragraph",
    "</script><script>alert(1)</script><!--",
    "'; DROP TABLE claims_claim; -- %s %(name)s {} {0} $1 $$",
    "emoji 👩🏽‍🔬 and flags 🇺🇳, RTL \u202eevil\u202c, zero\u200bwidth",
    "e\u0301 combining, ﬁ ligature, İ dotted, ß sharp",
    "\ufeffbyte order mark, \ufffd replacement, \U0001d54f math",
    " leading and trailing spaces \t ",
    '=HYPERLINK("http://x")',
    "x" * 5000,
]


def serializer_json(claims: list[Claim]) -> list[dict]:
    """The plain path: DRF's nested serializers over prefetched model instances."""
    context = serializer_context(claims, published_only=False)
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
        Provenance.objects.create(source=top, based_on=middle, note=HOSTILE[0])
        citation = CitationFactory(
            claim=unattributed, source=top, role=role, accessed_on=date(2019, 11, 17)
        )
        # A two-step path for one, none for the other (based on one source, not shown).
        if role == Role.SUPPORTS:
            write_paths({citation: resolve_path(top.pk, [middle.pk, primary.pk])}, user=None)
    # A claim a document makes.
    ClaimFactory(claimant=None, claimant_source=primary, text="What the documents say")
    ClaimFactory(made_text="July 31", made_edtf="2019?-07-31", event_text="2018/..")


def hostile_claims(strings: list[str]) -> None:
    """A claim, citation, source, publisher, person and topic for each string, in every
    text field the documents show."""
    for index, text in enumerate(strings):
        publisher = OrganizationFactory(
            name=f"{index} {text}"[:200], reliability_note=text, description=text[:300]
        )
        upstream = SourceFactory(title=text[:500], publisher=publisher)
        source = SourceFactory(title=text[:500], reliability_note=text, published_text="")
        Provenance.objects.create(source=source, based_on=upstream)
        claim = ClaimFactory(
            text=text,
            summary=text,
            rating="mixed",
            rating_rationale=text,
            claimant=PersonFactory(name=text[:200], description=text[:300]),
        )
        claim.topics.add(TopicFactory(name=f"{index} {text}"[:100]))
        CitationFactory(
            claim=claim, source=source, quote=text, locator=text[:200], reliability_note=text
        )
        # A snapshot holding the string, so that its quote check shows it (exact, with a
        # prefix and suffix) and one where it is missing (its closest passage).
        for snapshot_text in (f"{text} said {index}", f"nothing like it {index}"):
            Snapshot.objects.create(
                source=upstream if "nothing" in snapshot_text else source,
                file=ContentFile(snapshot_text.encode(), name="page.txt"),
                media_type="text/plain",
                sha256=f"{index:064d}",
                size=len(snapshot_text),
                captured_at=datetime(2019, 9, 26, 14, 30, 0, index, tzinfo=UTC),
                text=snapshot_text,
            )
        CitationFactory(claim=claim, source=upstream, quote=text, role=Role.CONTEXT)
    checked = QuoteCheck.objects.recheck(Citation.objects.values_list("pk", flat=True))
    assert checked == 2 * len(strings)


def test_the_serializer_path_equals_the_serializer(varied_claims: None) -> None:
    ids = list(Claim.objects.order_by("-id").values_list("id", flat=True))
    built = serializer_documents(ids)
    plain = serializer_json(list(Claim.objects.for_serializer().order_by("-id")))

    assert len(built) == Claim.objects.count() > 20
    assert built == plain


def postgres_equals_serializer() -> None:
    """PostgreSQL's documents are the serializer's, to the byte, as the API sends them."""
    ids = list(Claim.objects.order_by("id").values_list("id", flat=True))
    rows = postgres_documents(ids)
    plain = serializer_json(list(Claim.objects.for_serializer().order_by("id")))

    assert [pk for pk, _ in rows] == ids
    renderer = ORJSONRenderer()
    for (_, text), expected in zip(rows, plain, strict=True):
        assert orjson.loads(text) == expected
        assert renderer.render(orjson.Fragment(text)) == renderer.render(expected)


@needs_postgres
def test_postgresql_builds_the_serializers_documents(varied_claims: None) -> None:
    postgres_equals_serializer()


@needs_postgres
def test_postgresql_builds_the_serializers_documents_from_hostile_text(db: None) -> None:
    hostile_claims(HOSTILE)
    postgres_equals_serializer()


@needs_postgres
def test_postgresql_builds_the_serializers_documents_from_naughty_strings(
    naughty_strings: list[str],
) -> None:
    hostile_claims(naughty_strings)
    postgres_equals_serializer()


@needs_postgres
def test_postgresql_keeps_the_order_asked_for_and_leaves_out_drafts(db: None) -> None:
    published, draft, other = (
        ClaimFactory(state="published"),
        ClaimFactory(state="draft"),
        ClaimFactory(state="published"),
    )
    ids = [other.pk, draft.pk, published.pk, 10**15]

    assert [pk for pk, _ in postgres_documents(ids)] == [other.pk, draft.pk, published.pk]
    assert [pk for pk, _ in postgres_documents(ids, published_only=True)] == [
        other.pk,
        published.pk,
    ]


@needs_postgres
def test_a_page_shows_each_citation_s_recorded_path_and_nothing_upstream_of_it(
    db: None, django_assert_num_queries: Any
) -> None:
    primary = SourceFactory(is_primary=True)
    middle, other = SourceFactory(), SourceFactory()
    Provenance.objects.create(source=middle, based_on=primary, note="obtained it")
    Provenance.objects.create(source=other, based_on=middle, note="quotes")
    claims = ClaimFactory.create_batch(3)
    for claim in claims:
        through = CitationFactory(claim=claim, source=other)
        write_paths({through: resolve_path(other.pk, [middle.pk])}, user=None)
        CitationFactory(claim=claim, source=middle, role=Role.CONTEXT)

    with django_assert_num_queries(1):
        rows = postgres_documents([c.pk for c in claims])

    for _, text in rows:
        document = orjson.loads(text)
        paths = [c["path"] for c in document["citations"]]
        # Only the step recorded: `middle` is based on `primary`, which no path takes.
        assert [[(s["note"], s["source"]["id"]) for s in path] for path in paths] == [
            [("quotes", middle.pk)],
            [],
        ]
        assert [c["origin"] for c in document["citations"]] == [middle.pk, middle.pk]
        assert paths[0][0]["source"]["based_on_count"] == 1
        assert document["evidence"] == {
            "supports": {"citations": 1, "origins": 1},
            "disputes": {"citations": 0, "origins": 0},
            "context": {"citations": 1, "origins": 1},
        }
        assert primary.pk not in {int(n) for n in re.findall(r'"id":(\d+)', text) if n}


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
    supporting = next(c for c in response.json()["citations"] if c["role"] == "supports")
    assert [step["note"] for step in supporting["path"]] == [HOSTILE[0], ""]
    assert len(supporting["path"]) == 2


@needs_postgres
def test_the_database_s_documents_function_is_the_documents_sql(db: None) -> None:
    """The function the migrations made runs what api.documents writes now: a change to the
    documents' SQL without a migration (api/migrations/0004_claim_documents_function.py
    shows how) fails here rather than serving the old shape."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT prosrc, proconfig FROM pg_proc WHERE proname = %s", [DOCUMENTS_FUNCTION]
        )
        [(source, config)] = cursor.fetchall()
    assert source == documents_function_body(), (
        "The documents' SQL changed: add an api migration running the new "
        "api.documents.documents_function_sql()."
    )
    assert config == ["plan_cache_mode=force_generic_plan"]
