"""The API's claim JSON, built on each read: the shape ClaimSerializer defines and documents.

On PostgreSQL one query builds a whole page (PAGE_SQL): the page's citations, the distinct
sources they cite and every provenance chain above them are each read once, set-wise, and
PostgreSQL writes the JSON. Elsewhere (SQLite) ClaimSerializer itself builds it. The
serializer stays the schema and the oracle: tests/claims/test_documents.py proves both
paths give the same JSON on demo data, edge cases and hostile strings.

Nothing is stored, so nothing can be stale: a reader sees what the tables say now.
"""

from collections.abc import Sequence
from typing import Any

import orjson
from django.db import connection

from api.serializers import ClaimSerializer
from claims.models import Claim
from sources.models import EFFECTIVE_RELIABILITY_SQL, ProvenanceIndex

Document = dict[str, Any]

# Timestamps as DRF writes them: UTC, "Z", microseconds only when not zero.
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
# ProvenanceSourceSerializer's fields, in its order: {a} the source, {pub} its publisher,
# {links} its row of `links` (below).
_SOURCE_FIELDS = (
    "'id', {a}.id, 'kind', {a}.kind, 'title', {a}.title, 'url', {a}.url, "
    "'archive_url', {a}.archive_url, 'published', " + _DATE.format(p="{a}.published") + ", "
    "'is_primary', {a}.is_primary, "
    "'publisher', CASE WHEN {pub}.id IS NULL THEN NULL ELSE json_build_object("
    "'id', {pub}.id, 'name', {pub}.name, 'reliability', {pub}.reliability, "
    "'reliability_note', {pub}.reliability_note, "
    "'reliability_reviewed_on', {pub}.reliability_reviewed_on) END, "
    "'effective_reliability', "
    + EFFECTIVE_RELIABILITY_SQL.format(source="{a}", publisher="{pub}")
    + ", 'based_on', COALESCE({links}.ids, '[]')"
)


def page_sql(ids: str) -> str:
    """One page of claims, in the order of the ids that the SQL expression `ids` (an
    array) gives, as (id, JSON text) rows. Its one parameter: whether only published
    claims may be shown."""
    return _PAGE_SQL.replace("{ids}", ids)


_PAGE_SQL = (
    "WITH RECURSIVE"
    # The claims asked for that may be shown, with their place in the page.
    " page AS MATERIALIZED (SELECT c.*, p.ord FROM unnest({ids}) WITH ORDINALITY"
    " AS p(id, ord) JOIN claims_claim c ON c.id = p.id"
    " WHERE c.state = 'published' OR NOT %s),"
    " cited AS MATERIALIZED (SELECT ci.* FROM claims_citation ci"
    " WHERE ci.claim_id IN (SELECT id FROM page)),"
    # Each cited source once, however many citations name it.
    " roots AS MATERIALIZED (SELECT DISTINCT source_id AS id FROM cited),"
    # Every source upstream of each cited source with its distance, walked once for the page
    # (50 links deep at most; UNION stops at a cycle should one slip past validation).
    " chain(root, id, depth) AS ("
    " SELECT l.source_id, l.based_on_id, 1 FROM sources_provenance l"
    " WHERE l.source_id IN (SELECT id FROM roots)"
    " UNION SELECT chain.root, l.based_on_id, chain.depth + 1"
    " FROM chain JOIN sources_provenance l ON l.source_id = chain.id WHERE chain.depth < 50),"
    " nearest AS MATERIALIZED (SELECT root, id, min(depth) AS depth FROM chain GROUP BY 1, 2),"
    " links AS MATERIALIZED (SELECT source_id,"
    " json_agg(based_on_id ORDER BY based_on_id) AS ids FROM sources_provenance"
    " WHERE source_id IN (SELECT id FROM roots UNION SELECT id FROM nearest) GROUP BY source_id),"
    # Each upstream source's JSON once, however many chains it is in.
    " upstream AS MATERIALIZED (SELECT u.id, json_build_object("
    + _SOURCE_FIELDS.format(a="u", pub="up", links="ul")
    + ") AS body FROM sources_source u LEFT JOIN sources_person up ON up.id = u.publisher_id"
    " LEFT JOIN links ul ON ul.source_id = u.id WHERE u.id IN (SELECT id FROM nearest)),"
    " provenance AS (SELECT n.root, json_agg(upstream.body ORDER BY n.depth, n.id) AS chain"
    " FROM nearest n JOIN upstream ON upstream.id = n.id GROUP BY n.root),"
    # Each cited source's JSON once (CitedSourceSerializer), with its chain.
    " sources AS MATERIALIZED (SELECT s.id, json_build_object("
    + _SOURCE_FIELDS.format(a="s", pub="sp", links="sl")
    + ", 'language', s.language, 'reliability', s.reliability,"
    " 'reliability_note', s.reliability_note, 'provenance', COALESCE(pv.chain, '[]')) AS body"
    " FROM sources_source s LEFT JOIN sources_person sp ON sp.id = s.publisher_id"
    " LEFT JOIN links sl ON sl.source_id = s.id LEFT JOIN provenance pv ON pv.root = s.id"
    " WHERE s.id IN (SELECT id FROM roots)),"
    " citations AS (SELECT ci.claim_id, json_agg(json_build_object('id', ci.id, 'role', ci.role,"
    " 'quote', ci.quote, 'locator', ci.locator, 'reliability_note', ci.reliability_note,"
    " 'accessed_on', ci.accessed_on, 'source', sources.body) ORDER BY ci.id) AS list"
    " FROM cited ci JOIN sources ON sources.id = ci.source_id GROUP BY ci.claim_id),"
    " people AS (SELECT cp.claim_id, json_agg("
    + _PERSON.format(a="pp")
    + " ORDER BY pp.name, pp.id) AS list FROM claims_claim_people cp"
    " JOIN sources_person pp ON pp.id = cp.person_id"
    " WHERE cp.claim_id IN (SELECT id FROM page) GROUP BY cp.claim_id),"
    " topics AS (SELECT ct.claim_id, json_agg(json_build_object('slug', t.slug, 'name', t.name)"
    " ORDER BY t.name) AS list FROM claims_claim_topics ct"
    " JOIN claims_topic t ON t.id = ct.topic_id"
    " WHERE ct.claim_id IN (SELECT id FROM page) GROUP BY ct.claim_id)"
    " SELECT c.id, json_build_object('id', c.id, 'text', c.text, 'summary', c.summary,"
    " 'claimant', CASE WHEN cl.id IS NULL THEN NULL ELSE "
    + _PERSON.format(a="cl")
    + " END, 'people', COALESCE(people.list, '[]'), 'topics', COALESCE(topics.list, '[]'),"
    " 'made', "
    + _DATE.format(p="c.made")
    + ", 'event', "
    + _DATE.format(p="c.event")
    + ", 'rating', c.rating, 'rating_rationale', c.rating_rationale, 'state', c.state,"
    " 'language', c.language, 'created_at', "
    + _TIMESTAMP.format(t="c.created_at")
    + ", 'updated_at', "
    + _TIMESTAMP.format(t="c.updated_at")
    + ", 'citations', COALESCE(citations.list, '[]'))::text"
    " FROM page c LEFT JOIN sources_person cl ON cl.id = c.claimant_id"
    " LEFT JOIN people ON people.claim_id = c.id LEFT JOIN topics ON topics.claim_id = c.id"
    " LEFT JOIN citations ON citations.claim_id = c.id ORDER BY c.ord"
)
# The page of claims whose ids are the first parameter.
PAGE_SQL = page_sql("%s::bigint[]")


def claim_documents(claims: Sequence[Claim]) -> list[Document]:
    """JSON documents for these claims, in their order: on PostgreSQL built in one query,
    else by ClaimSerializer in five."""
    if connection.vendor == "postgresql":
        return [orjson.loads(text) for _, text in postgres_documents([c.pk for c in claims])]
    return serializer_documents([claim.pk for claim in claims])


def postgres_documents(ids: list[int], *, published_only: bool = False) -> list[tuple[int, str]]:
    """(id, JSON text) of these claims as PAGE_SQL builds them, in the order of `ids`; with
    `published_only`, drafts are left out. One query."""
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(PAGE_SQL, [ids, published_only])
        return cursor.fetchall()


def serializer_documents(ids: list[int]) -> list[Document]:
    """The documents as ClaimSerializer writes them, in the order of `ids`: five queries."""
    claims = Claim.objects.for_serializer().in_bulk(ids)
    ordered = [claims[pk] for pk in ids if pk in claims]
    source_ids = [c.source_id for claim in ordered for c in claim.citations.all()]
    context = {"provenance": ProvenanceIndex(source_ids)}
    return list(ClaimSerializer(ordered, many=True, context=context).data)
