"""The API's claim JSON built from plain column values: the fast read path.

ClaimSerializer defines the response shape and documents it in the OpenAPI schema. Building
a page through it means a model instance and a serializer field call for every claim,
citation, source and publisher; at 50 claims with 4 citations each that is most of the
request's time. This module builds exactly the same JSON (tests/claims/test_documents.py
proves it): on PostgreSQL with one SQL expression (CLAIM_JSON), whose result is stored per
claim and kept current by triggers (claims.models.StoredDocument), so a read is one query;
elsewhere from `values_list()` rows, in a fixed number of queries.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import orjson
from django.db import connection
from django.utils import timezone

from claims.models import Citation, Claim
from sources.models import EFFECTIVE_RELIABILITY_SQL, Reliability, Source, Upstream

Document = dict[str, Any]

_SOURCE_COLUMNS = (
    "id",
    "kind",
    "title",
    "url",
    "archive_url",
    "published_text",
    "published_edtf",
    "published_earliest",
    "published_latest",
    "is_primary",
    "language",
    "reliability",
    "reliability_note",
    "publisher_id",
    "publisher__name",
    "publisher__reliability",
    "publisher__reliability_note",
    "publisher__reliability_reviewed_on",
)


# The same documents built by PostgreSQL in one query (json_build_object keeps key order).
# Timestamps are written as DRF writes them: UTC, "Z", microseconds only when not zero.
_TIMESTAMP = (
    "CASE WHEN date_part('microseconds', {t})::bigint %% 1000000 = 0"
    " THEN to_char({t} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    " ELSE to_char({t} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') END"
)
_PERSON = (
    "json_build_object('id', {a}.id, 'name', {a}.name, 'kind', {a}.kind, "
    "'description', {a}.description)"
)
_DATE = (
    "json_build_object('text', {p}_text, 'edtf', {p}_edtf, 'earliest', {p}_earliest, "
    "'latest', {p}_latest)"
)
_PUBLISHER = (
    "CASE WHEN {a}.id IS NULL THEN NULL ELSE json_build_object('id', {a}.id, 'name', {a}.name, "
    "'reliability', {a}.reliability, 'reliability_note', {a}.reliability_note, "
    "'reliability_reviewed_on', {a}.reliability_reviewed_on) END"
)
_BASED_ON = (
    "COALESCE((SELECT json_agg(l.based_on_id ORDER BY l.based_on_id) FROM sources_provenance l "
    "WHERE l.source_id = {a}.id), '[]')"
)
_SOURCE_CORE = (
    "'id', {a}.id, 'kind', {a}.kind, 'title', {a}.title, 'url', {a}.url, "
    "'archive_url', {a}.archive_url, 'published', " + _DATE.format(p="{a}.published") + ", "
    "'is_primary', {a}.is_primary, 'publisher', " + _PUBLISHER.format(a="{pub}") + ", "
    "'effective_reliability', "
    + EFFECTIVE_RELIABILITY_SQL.format(source="{a}", publisher="{pub}")
    + ", 'based_on', "
    + _BASED_ON
)
_PROVENANCE = (
    "COALESCE((WITH RECURSIVE chain(id, depth) AS ("
    " SELECT based_on_id, 1 FROM sources_provenance WHERE source_id = s.id"
    " UNION SELECT l.based_on_id, chain.depth + 1 FROM sources_provenance l"
    " JOIN chain ON l.source_id = chain.id WHERE chain.depth < 50)"
    " SELECT json_agg(json_build_object(" + _SOURCE_CORE.format(a="u", pub="up") + ")"
    " ORDER BY nearest.depth, u.id)"
    " FROM (SELECT id, min(depth) AS depth FROM chain GROUP BY id) nearest"
    " JOIN sources_source u ON u.id = nearest.id"
    " LEFT JOIN sources_person up ON up.id = u.publisher_id), '[]')"
)
_CITATIONS = (
    "COALESCE((SELECT json_agg(json_build_object('id', ci.id, 'role', ci.role, "
    "'quote', ci.quote, 'locator', ci.locator, 'reliability_note', ci.reliability_note, "
    "'accessed_on', ci.accessed_on, 'source', json_build_object("
    + _SOURCE_CORE.format(a="s", pub="sp")
    + ", 'language', s.language, 'reliability', s.reliability, "
    "'reliability_note', s.reliability_note, 'provenance', " + _PROVENANCE + ")) ORDER BY ci.id)"
    " FROM claims_citation ci JOIN sources_source s ON s.id = ci.source_id"
    " LEFT JOIN sources_person sp ON sp.id = s.publisher_id WHERE ci.claim_id = c.id), '[]')"
)
CLAIM_JSON = (
    "json_build_object('id', c.id, 'text', c.text, 'summary', c.summary, "
    "'claimant', CASE WHEN cl.id IS NULL THEN NULL ELSE " + _PERSON.format(a="cl") + " END, "
    "'people', COALESCE((SELECT json_agg(" + _PERSON.format(a="pp") + " ORDER BY pp.name, pp.id)"
    " FROM claims_claim_people cp JOIN sources_person pp ON pp.id = cp.person_id"
    " WHERE cp.claim_id = c.id), '[]'), "
    "'topics', COALESCE((SELECT json_agg(json_build_object('slug', t.slug, 'name', t.name)"
    " ORDER BY t.name) FROM claims_claim_topics ct JOIN claims_topic t ON t.id = ct.topic_id"
    " WHERE ct.claim_id = c.id), '[]'), "
    "'made', " + _DATE.format(p="c.made") + ", 'event', " + _DATE.format(p="c.event") + ", "
    "'rating', c.rating, 'rating_rationale', c.rating_rationale, 'state', c.state, "
    "'language', c.language, 'created_at', " + _TIMESTAMP.format(t="c.created_at") + ", "
    "'updated_at', " + _TIMESTAMP.format(t="c.updated_at") + ", "
    "'citations', " + _CITATIONS + ")"
)
# Each claim's stored document (claims.models.StoredDocument), which triggers keep current:
# a small query, cheap to plan. A claim without one (documents being rebuilt) gets NULL
# here and is built by SQL_BUILD_DOCUMENTS, so a read never answers wrong.
SQL_DOCUMENTS = (
    "SELECT c.id, d.body FROM claims_claim c"
    " LEFT JOIN claims_storeddocument d ON d.claim_id = c.id WHERE c.id = ANY(%s)"
    " AND (c.state = 'published' OR NOT %s)"
)
# Every claim with the document CLAIM_JSON builds for it now, as (id, body).
_BUILT = (
    "SELECT c.id, " + CLAIM_JSON + "::text AS body FROM claims_claim c"
    " LEFT JOIN sources_person cl ON cl.id = c.claimant_id"
)
SQL_BUILD_DOCUMENTS = _BUILT + " WHERE c.id = ANY(%s)"

# Writes the stored documents of these claims. Installed by a migration (0008) and called
# by its triggers; a change to CLAIM_JSON needs a migration that installs it again and
# rebuilds every document (tests/claims/test_stored_documents.py checks for one).
REFRESH_FUNCTION = (
    "CREATE OR REPLACE FUNCTION claimtrail_refresh_documents(claim_ids bigint[])"
    " RETURNS void LANGUAGE sql AS $body$"
    " INSERT INTO claims_storeddocument (claim_id, body) "
    + SQL_BUILD_DOCUMENTS % ("claim_ids",)  # the parameter named, and %% made %
    + " ON CONFLICT (claim_id) DO UPDATE SET body = EXCLUDED.body $body$"
)
REBUILD_DOCUMENTS = (
    "SELECT claimtrail_refresh_documents(ARRAY(SELECT id FROM claims_claim ORDER BY id))"
)
# Claims whose stored document is missing or differs from what CLAIM_JSON builds now, and
# documents left by deleted claims.
SQL_STALE_DOCUMENTS = (
    "SELECT built.id FROM (" + _BUILT + ") built"
    " LEFT JOIN claims_storeddocument d ON d.claim_id = built.id"
    " WHERE d.body IS DISTINCT FROM built.body"
    " UNION SELECT d.claim_id FROM claims_storeddocument d"
    " WHERE NOT EXISTS (SELECT FROM claims_claim c WHERE c.id = d.claim_id) ORDER BY 1"
)


def claim_documents(claims: Sequence[Claim]) -> list[Document]:
    """JSON documents for these claims, in their order: PostgreSQL's stored documents in
    one query where it is the database, else built from plain values in five."""
    if connection.vendor == "postgresql":
        return postgres_documents([claim.pk for claim in claims])
    return value_documents(claims)


def postgres_documents(ids: list[int], *, published_only: bool = False) -> list[Document]:
    """The documents as PostgreSQL built them (CLAIM_JSON), in the order of `ids`."""
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(SQL_DOCUMENTS, [ids, published_only])
        texts = dict(cursor.fetchall())
        missing = [pk for pk, text in texts.items() if text is None]
        if missing:
            cursor.execute(SQL_BUILD_DOCUMENTS, [missing])
            texts.update(cursor.fetchall())
    return [orjson.loads(texts[pk]) for pk in ids if pk in texts]


def stale_documents() -> list[int]:
    """Ids of claims whose stored document is missing or out of date, and of deleted
    claims whose document is left: empty when the triggers did their work."""
    with connection.cursor() as cursor:
        cursor.execute(SQL_STALE_DOCUMENTS, [])
        return [pk for (pk,) in cursor.fetchall()]


def value_documents(claims: Sequence[Claim]) -> list[Document]:
    """JSON documents for these claims, in their order, from plain values: five queries."""
    ids = [claim.pk for claim in claims]
    people = _people(ids)
    topics = _topics(ids)
    citations = _citations(ids)
    source_ids = {citation["source"]["id"] for rows in citations.values() for citation in rows}
    chains = _Chains(source_ids)
    for rows in citations.values():
        for citation in rows:
            source = citation["source"]
            source["based_on"] = chains.based_on.get(source["id"], [])
            source["provenance"] = chains.upstream_documents(source["id"])
            # Keep the serializer's key order: based_on sits before language.
            for key in ("language", "reliability", "reliability_note", "provenance"):
                source[key] = source.pop(key)
    return [
        {
            "id": claim.pk,
            "text": claim.text,
            "summary": claim.summary,
            "claimant": _person(claim.claimant) if claim.claimant_id else None,
            "people": people.get(claim.pk, []),
            "topics": topics.get(claim.pk, []),
            "made": _fuzzy_date(
                claim.made_text, claim.made_edtf, claim.made_earliest, claim.made_latest
            ),
            "event": _fuzzy_date(
                claim.event_text, claim.event_edtf, claim.event_earliest, claim.event_latest
            ),
            "rating": claim.rating,
            "rating_rationale": claim.rating_rationale,
            "state": claim.state,
            "language": claim.language,
            "created_at": _datetime(claim.created_at),
            "updated_at": _datetime(claim.updated_at),
            "citations": citations.get(claim.pk, []),
        }
        for claim in claims
    ]


def _people(claim_ids: list[int]) -> dict[int, list[Document]]:
    rows = (
        Claim.people.through.objects.filter(claim_id__in=claim_ids)
        .order_by("person__name", "person_id")
        .values_list("claim_id", "person_id", "person__name", "person__kind", "person__description")
    )
    people: dict[int, list[Document]] = defaultdict(list)
    for claim_id, pk, name, kind, description in rows:
        people[claim_id].append({"id": pk, "name": name, "kind": kind, "description": description})
    return people


def _topics(claim_ids: list[int]) -> dict[int, list[Document]]:
    rows = (
        Claim.topics.through.objects.filter(claim_id__in=claim_ids)
        .order_by("topic__name")
        .values_list("claim_id", "topic__slug", "topic__name")
    )
    topics: dict[int, list[Document]] = defaultdict(list)
    for claim_id, slug, name in rows:
        topics[claim_id].append({"slug": slug, "name": name})
    return topics


def _citations(claim_ids: list[int]) -> dict[int, list[Document]]:
    columns = (
        "claim_id",
        "id",
        "role",
        "quote",
        "locator",
        "reliability_note",
        "accessed_on",
        *(f"source__{column}" for column in _SOURCE_COLUMNS),
    )
    rows = Citation.objects.filter(claim_id__in=claim_ids).order_by("id").values_list(*columns)
    citations: dict[int, list[Document]] = defaultdict(list)
    for row in rows:
        claim_id, pk, role, quote, locator, note, accessed_on, *source = row
        citations[claim_id].append(
            {
                "id": pk,
                "role": role,
                "quote": quote,
                "locator": locator,
                "reliability_note": note,
                "accessed_on": _date(accessed_on),
                "source": _source(source),
            }
        )
    return citations


class _Chains:
    """Provenance of many sources: one recursive query for the links, one for the sources."""

    def __init__(self, source_ids: Iterable[int]) -> None:
        self.upstream = Upstream(source_ids)
        self.based_on = self.upstream.based_on
        wanted = self.upstream.ids
        rows = Source.objects.filter(pk__in=wanted).values_list(*_SOURCE_COLUMNS) if wanted else []
        self.sources = {row[0]: row for row in rows}

    def upstream_documents(self, source_id: int) -> list[Document]:
        documents = []
        for pk in self.upstream.order(source_id):
            document = _source(list(self.sources[pk]))
            for key in ("language", "reliability", "reliability_note"):
                del document[key]
            document["based_on"] = self.based_on.get(pk, [])
            documents.append(document)
        return documents


def _source(values: list[Any]) -> Document:
    (
        pk,
        kind,
        title,
        url,
        archive_url,
        published_text,
        published_edtf,
        published_earliest,
        published_latest,
        is_primary,
        language,
        reliability,
        reliability_note,
        publisher_id,
        publisher_name,
        publisher_reliability,
        publisher_note,
        publisher_reviewed_on,
    ) = values
    publisher = (
        {
            "id": publisher_id,
            "name": publisher_name,
            "reliability": publisher_reliability,
            "reliability_note": publisher_note,
            "reliability_reviewed_on": _date(publisher_reviewed_on),
        }
        if publisher_id is not None
        else None
    )
    return {
        "id": pk,
        "kind": kind,
        "title": title,
        "url": url,
        "archive_url": archive_url,
        "published": _fuzzy_date(
            published_text, published_edtf, published_earliest, published_latest
        ),
        "is_primary": is_primary,
        "publisher": publisher,
        # Source.effective_reliability, from the same columns.
        "effective_reliability": reliability or publisher_reliability or Reliability.UNRATED.value,
        "language": language,
        "reliability": reliability,
        "reliability_note": reliability_note,
    }


def _person(person: Any) -> Document:
    return {
        "id": person.pk,
        "name": person.name,
        "kind": person.kind,
        "description": person.description,
    }


def _fuzzy_date(text: str, edtf: str, earliest: date | None, latest: date | None) -> Document:
    return {"text": text, "edtf": edtf, "earliest": _date(earliest), "latest": _date(latest)}


def _date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _datetime(value: datetime) -> str:
    # As DRF's DateTimeField writes it: in the current time zone, "Z" for UTC.
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
