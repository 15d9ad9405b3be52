"""The API's claim JSON, built on each read: the shape ClaimSerializer defines and documents.

On PostgreSQL one query builds a whole page (page_sql): the page's citations, the distinct
sources they cite and the steps of their recorded paths are each read once, set-wise, and
PostgreSQL writes the JSON, compact and byte for byte as the API's renderer would write
the serializer's output, so the API copies it into the response as it is. Elsewhere
(SQLite) ClaimSerializer itself builds it. The serializer stays the schema and the
oracle: tests/claims/test_documents.py proves both paths give the same bytes on demo data,
edge cases and hostile strings.

Nothing is stored, so nothing can be stale: a reader sees what the tables say now.
"""

from collections.abc import Iterator, Sequence
from typing import Any

import orjson
from django.db import connection, connections, router
from django.db.models import QuerySet

from api.serializers import ClaimSerializer
from claims.models import COUNTED_ROLES, Claim
from claims.relations import related_claims
from claims.reviews import rating_histories
from sources.export_engine import EXPORT_ROWS
from sources.models import EFFECTIVE_RELIABILITY_SQL, based_on_counts

Document = dict[str, Any]


# SQL giving the JSON text of a value, as DRF and orjson write it (PostgreSQL escapes
# strings the same way: \", \\, \n and friends, \u00XX for other control characters).
def _string(sql: str) -> str:
    """A string that is never NULL (Django's CharField and TextField)."""
    return f"to_json({sql}::text)::text"


def _nullable(sql: str) -> str:
    """A date, or an id, that may be NULL."""
    return f"COALESCE(to_json({sql})::text, 'null')"


def _plain(sql: str) -> str:
    """A number or a boolean that is never NULL."""
    return f"({sql})::text"


def _object(*fields: tuple[str, str]) -> str:
    """A JSON object with these (key, JSON text SQL) fields, in this order."""
    parts = []
    for index, (key, value) in enumerate(fields):
        opening = "{" if index == 0 else ","
        parts += [f"'{opening}\"{key}\":'", value]
    # concat() writes the result once; a chain of || would copy it at every step.
    return "concat(" + ", ".join(parts) + ", '}')"


def _list(element: str, order: str) -> str:
    """An aggregate: the JSON array of `element` over the group's rows, in this order."""
    return f"'[' || string_agg({element}, ',' ORDER BY {order}) || ']'"


# Timestamps as DRF writes them: UTC, "Z", microseconds only when not zero.
_TIMESTAMP = (
    "'\"' || CASE WHEN date_part('microseconds', {t})::bigint %% 1000000 = 0"
    " THEN to_char({t} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    " ELSE to_char({t} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') END || '\"'"
)


def _person(a: str) -> str:
    """PersonSummarySerializer."""
    return _object(
        ("id", _plain(f"{a}.id")),
        ("name", _string(f"{a}.name")),
        ("kind", _string(f"{a}.kind")),
        ("description", _string(f"{a}.description")),
    )


def _date(prefix: str) -> str:
    """FuzzyDateField: the four `<prefix>_*` columns."""
    return _object(
        ("text", _string(f"{prefix}_text")),
        ("edtf", _string(f"{prefix}_edtf")),
        ("earliest", _nullable(f"{prefix}_earliest")),
        ("latest", _nullable(f"{prefix}_latest")),
    )


def _source(a: str, pub: str, counts: str) -> str:
    """PathSourceSerializer: {a} the source, {pub} its publisher (NULLs when it has none),
    {counts} its row of `based` (how many sources it is based on)."""
    publisher = _object(
        ("id", _plain(f"{pub}.id")),
        ("name", _string(f"{pub}.name")),
        ("reliability", _string(f"{pub}.reliability")),
        ("reliability_note", _string(f"{pub}.reliability_note")),
        ("reliability_reviewed_on", _nullable(f"{pub}.reliability_reviewed_on")),
    )
    return _object(
        ("id", _plain(f"{a}.id")),
        ("kind", _string(f"{a}.kind")),
        ("title", _string(f"{a}.title")),
        ("url", _string(f"{a}.url")),
        ("archive_url", _string(f"{a}.archive_url")),
        ("published", _date(f"{a}.published")),
        ("is_primary", _plain(f"{a}.is_primary")),
        ("language", _string(f"{a}.language")),
        ("publisher", f"CASE WHEN {pub}.id IS NULL THEN 'null' ELSE {publisher} END"),
        (
            "effective_reliability",
            _string(EFFECTIVE_RELIABILITY_SQL.format(source=a, publisher=pub)),
        ),
        ("reliability", _string(f"{a}.reliability")),
        ("reliability_note", _string(f"{a}.reliability_note")),
        ("based_on_count", _plain(f"COALESCE({counts}.n, 0)")),
    )


# ClaimantSerializer: {cl} the person, {cs} the source (NULLs when not that kind).
_CLAIMANT = (
    "CASE WHEN cl.id IS NOT NULL THEN "
    + _object(
        ("type", "'\"person\"'"),
        ("id", _plain("cl.id")),
        ("name", _string("cl.name")),
        ("kind", _string("cl.kind")),
        ("description", _string("cl.description")),
    )
    + " WHEN cs.id IS NOT NULL THEN "
    + _object(
        ("type", "'\"source\"'"),
        ("id", _plain("cs.id")),
        ("name", _string("cs.title")),
        ("kind", _string("cs.kind")),
        ("description", "'\"\"'"),
    )
    + " ELSE 'null' END"
)

# EvidenceSerializer, from the `citations` row's counts.
_EVIDENCE = _object(
    *(
        (
            str(role),
            _object(
                ("citations", _plain(f"COALESCE(citations.{role}, 0)")),
                ("origins", _plain(f"COALESCE(citations.{role}_origins, 0)")),
            ),
        )
        for role in COUNTED_ROLES
    )
)


# QuoteCheckSerializer: {qc} the check, {sn} its snapshot; 'null' without a check.
_QUOTE_CHECK = (
    "CASE WHEN qc.citation_id IS NULL THEN 'null' ELSE "
    + _object(
        ("outcome", _string("qc.outcome")),
        ("score", _plain("qc.score")),
        (
            "snapshot",
            _object(
                ("id", _plain("sn.id")),
                ("captured_at", _TIMESTAMP.format(t="sn.captured_at")),
                ("media_type", _string("sn.media_type")),
                ("sha256", _string("sn.sha256")),
            ),
        ),
        (
            "selector",
            _object(
                ("type", "'\"TextQuoteSelector\"'"),
                ("exact", _string("qc.exact")),
                ("prefix", _string("qc.prefix")),
                ("suffix", _string("qc.suffix")),
            ),
        ),
        (
            "position",
            _object(
                ("type", "'\"TextPositionSelector\"'"),
                ("start", _plain("qc.start")),
                ("end", _plain("qc.end")),
            ),
        ),
        ("checked_at", _TIMESTAMP.format(t="qc.checked_at")),
    )
    + " END"
)

# The citation's latest open QuoteChange (claims.models.open_change), or null.
_SOURCE_CHANGED = (
    "COALESCE((SELECT "
    + _object(
        ("since", _TIMESTAMP.format(t="qx.detected_at")),
        ("before", _string("qx.before")),
        ("after", _string("qx.after")),
        ("still_there", _plain("qx.after_found")),
        ("snapshot", _plain("qx.after_snapshot_id")),
    )
    + " FROM claims_quotechange qx WHERE qx.citation_id = ci.id AND qx.resolved_at IS NULL"
    " ORDER BY qx.detected_at DESC, qx.id DESC LIMIT 1), 'null')"
)

_CLAIM_COLUMNS = (
    "id, text, summary, claimant_id, claimant_source_id, made_text, made_edtf, made_earliest,"
    " made_latest, event_text, event_edtf, event_earliest, event_latest, rating, rating_rationale,"
    " reviewed_on, reviewed_by_id, state, language, created_at, updated_at"
)

_PAGE_SQL = (
    "WITH RECURSIVE"
    # The claims asked for that may be shown, with their place in the page.
    # The parameter after the ids: whether only published claims may be shown (each row
    # carries it, for the related claims below).
    " page AS MATERIALIZED (SELECT p.ord, c.*, params.published_only"
    " FROM unnest({ids}) WITH ORDINALITY AS p(id, ord)"
    f" JOIN (SELECT {_CLAIM_COLUMNS} FROM claims_claim) c ON c.id = p.id"
    " CROSS JOIN (SELECT %s::boolean AS published_only) params"
    " WHERE c.state = 'published' OR NOT params.published_only),"
    " cited AS MATERIALIZED (SELECT ci.id, ci.claim_id, ci.source_id, ci.role, ci.quote,"
    " ci.locator, ci.reliability_note, ci.accessed_on, "
    + _QUOTE_CHECK
    + " AS quote_check, "
    + _SOURCE_CHANGED
    + " AS source_changed FROM claims_citation ci"
    " LEFT JOIN claims_quotecheck qc ON qc.citation_id = ci.id"
    " LEFT JOIN sources_snapshot sn ON sn.id = qc.snapshot_id"
    " WHERE ci.claim_id IN (SELECT id FROM page)),"
    # Each citation's recorded path: its steps, in order, and nothing else.
    " steps AS MATERIALIZED (SELECT st.citation_id, st.position, l.based_on_id AS source_id,"
    " l.note FROM claims_citationstep st JOIN sources_provenance l ON l.id = st.link_id"
    " WHERE st.citation_id IN (SELECT id FROM cited)),"
    # Each source shown (cited, or on a path) once, however many citations show it.
    " shown AS MATERIALIZED (SELECT source_id AS id FROM cited UNION SELECT source_id FROM steps),"
    # An array, so that PostgreSQL looks the few sources up in the index.
    " based AS MATERIALIZED (SELECT source_id, count(*) AS n FROM sources_provenance"
    " WHERE source_id = ANY(ARRAY(SELECT id FROM shown)) GROUP BY source_id),"
    " sources AS MATERIALIZED (SELECT s.id, "
    + _source("s", "sp", "sb")
    + " AS body FROM sources_source s LEFT JOIN sources_person sp ON sp.id = s.publisher_id"
    " LEFT JOIN based sb ON sb.source_id = s.id WHERE s.id IN (SELECT id FROM shown)),"
    " paths AS (SELECT st.citation_id, "
    + _list(_object(("note", _string("st.note")), ("source", "sources.body")), "st.position")
    + " AS list, (array_agg(st.source_id ORDER BY st.position DESC))[1] AS origin"
    " FROM steps st JOIN sources ON sources.id = st.source_id GROUP BY st.citation_id),"
    " citations AS (SELECT ci.claim_id, "
    + _list(
        _object(
            ("id", _plain("ci.id")),
            ("role", _string("ci.role")),
            ("quote", _string("ci.quote")),
            ("locator", _string("ci.locator")),
            ("reliability_note", _string("ci.reliability_note")),
            ("accessed_on", _nullable("ci.accessed_on")),
            ("path", "COALESCE(p.list, '[]')"),
            ("origin", _plain("COALESCE(p.origin, ci.source_id)")),
            ("quote_check", "ci.quote_check"),
            ("source_changed", "ci.source_changed"),
            ("source", "sources.body"),
        ),
        "ci.id",
    )
    + " AS list, "
    + ", ".join(
        f"count(*) FILTER (WHERE ci.role = '{role}') AS {role}, count(DISTINCT"
        f" COALESCE(p.origin, ci.source_id)) FILTER (WHERE ci.role = '{role}') AS {role}_origins"
        for role in COUNTED_ROLES
    )
    + " FROM cited ci JOIN sources ON sources.id = ci.source_id"
    " LEFT JOIN paths p ON p.citation_id = ci.id GROUP BY ci.claim_id),"
    " people AS (SELECT cp.claim_id, "
    + _list(_person("pp"), "pp.name, pp.id")
    + " AS list FROM claims_claim_people cp JOIN sources_person pp ON pp.id = cp.person_id"
    " WHERE cp.claim_id IN (SELECT id FROM page) GROUP BY cp.claim_id),"
    # Each change of rating in the claims' history (claims.reviews.rating_histories).
    " history AS (SELECT h.id AS claim_id, h.rating, h.rating_rationale, h.history_date,"
    " h.history_id, COALESCE(lag(h.rating) OVER (PARTITION BY h.id"
    " ORDER BY h.history_date, h.history_id), 'unreviewed') AS previous"
    " FROM claims_historicalclaim h WHERE h.id IN (SELECT id FROM page)),"
    " ratings AS (SELECT claim_id, "
    + _list(
        _object(
            ("previous_rating", _string("previous")),
            ("rating", _string("rating")),
            ("rationale", _string("rating_rationale")),
            ("changed_at", _TIMESTAMP.format(t="history_date")),
        ),
        "history_date, history_id",
    )
    + " AS list FROM history WHERE previous <> rating GROUP BY claim_id),"
    # Related claims both ways (claims.relations.related_claims), drafts only if allowed.
    " relation_ends AS (SELECT r.id, r.kind, r.claim_id AS owner, 'outgoing' AS direction,"
    " r.other_id AS other FROM claims_claimrelation r WHERE r.claim_id IN (SELECT id FROM page)"
    " UNION ALL SELECT r.id, r.kind, r.other_id, 'incoming', r.claim_id"
    " FROM claims_claimrelation r WHERE r.other_id IN (SELECT id FROM page)),"
    " related AS (SELECT re.owner, "
    + _list(
        _object(
            ("kind", _string("re.kind")),
            ("direction", _string("re.direction")),
            ("claim", _object(("id", _plain("oc.id")), ("text", _string("oc.text")))),
        ),
        "re.direction DESC, re.id",
    )
    + " AS list FROM relation_ends re JOIN claims_claim oc ON oc.id = re.other"
    " JOIN claims_claim owner_claim ON owner_claim.id = re.owner"
    " WHERE NOT (SELECT published_only FROM page LIMIT 1)"
    " OR (oc.state = 'published' AND owner_claim.state = 'published') GROUP BY re.owner),"
    " topics AS (SELECT ct.claim_id, "
    + _list(_object(("slug", _string("t.slug")), ("name", _string("t.name"))), "t.name")
    + " AS list FROM claims_claim_topics ct JOIN claims_topic t ON t.id = ct.topic_id"
    " WHERE ct.claim_id IN (SELECT id FROM page) GROUP BY ct.claim_id)"
    " SELECT c.id, "
    + _object(
        ("id", _plain("c.id")),
        ("text", _string("c.text")),
        ("summary", _string("c.summary")),
        ("claimant", _CLAIMANT),
        ("people", "COALESCE(people.list, '[]')"),
        ("topics", "COALESCE(topics.list, '[]')"),
        ("made", _date("c.made")),
        ("event", _date("c.event")),
        ("rating", _string("c.rating")),
        ("rating_rationale", _string("c.rating_rationale")),
        ("reviewed_on", _nullable("c.reviewed_on")),
        (
            "reviewed_by",
            "CASE WHEN rv.id IS NULL THEN 'null' ELSE to_json(COALESCE(NULLIF("
            "btrim(rv.first_name || ' ' || rv.last_name, ' '), ''), rv.username))::text END",
        ),
        ("rating_history", "COALESCE(ratings.list, '[]')"),
        ("state", _string("c.state")),
        ("language", _string("c.language")),
        ("created_at", _TIMESTAMP.format(t="c.created_at")),
        ("updated_at", _TIMESTAMP.format(t="c.updated_at")),
        ("evidence", _EVIDENCE),
        ("citations", "COALESCE(citations.list, '[]')"),
        ("relations", "COALESCE(related.list, '[]')"),
    )
    + " FROM page c LEFT JOIN sources_person cl ON cl.id = c.claimant_id"
    " LEFT JOIN sources_source cs ON cs.id = c.claimant_source_id"
    " LEFT JOIN auth_user rv ON rv.id = c.reviewed_by_id"
    " LEFT JOIN ratings ON ratings.claim_id = c.id"
    " LEFT JOIN people ON people.claim_id = c.id LEFT JOIN topics ON topics.claim_id = c.id"
    " LEFT JOIN citations ON citations.claim_id = c.id"
    " LEFT JOIN related ON related.owner = c.id ORDER BY c.ord"
)


def page_sql(ids: str) -> str:
    """One page of claims, in the order of the ids that the SQL expression `ids` (an
    array) gives, as (id, JSON text) rows. Its one parameter: whether only published
    claims may be shown."""
    return _PAGE_SQL.replace("{ids}", ids)


# The page of claims whose ids are the first parameter.
PAGE_SQL = page_sql("%s::bigint[]")

# The same statement as a PL/pgSQL function, so that PostgreSQL plans it once per
# connection and keeps the plan (a generic one: the same plan whatever the ids) instead of
# planning it at each read, which took most of a claim's time at a million claims
# (docs/performance.md). A function's plans live in the server's session, so this holds
# through PgBouncer in transaction mode, where prepared statements of the client's would
# not. Its SQL is written in an api migration (migrations import no application code);
# tests/claims/test_documents.py fails when it differs from documents_function_sql().
DOCUMENTS_FUNCTION = "claimtrail_claim_documents"


def unbound_page_sql(ids: str, published_only: str) -> str:
    """page_sql with both inputs as SQL expressions (a function's arguments, a prepared
    statement's $1) and no client-side placeholders: its %% written as PostgreSQL's %."""
    return page_sql(ids).replace("%s::boolean", published_only).replace("%%", "%")


def documents_function_body() -> str:
    """The function's body: PAGE_SQL over its arguments (p_ids, p_published_only)."""
    query = unbound_page_sql("p_ids", "p_published_only")
    # Its result columns (claim_id, body) are variables too: a bare claim_id in the query
    # is the table's column.
    return f"\n#variable_conflict use_column\nBEGIN\nRETURN QUERY {query};\nEND\n"


def documents_function_sql() -> str:
    """CREATE OR REPLACE FUNCTION for the documents' statement, as the migration runs it."""
    return (
        f"CREATE OR REPLACE FUNCTION {DOCUMENTS_FUNCTION}(p_ids bigint[], p_published_only"
        " boolean) RETURNS TABLE (claim_id bigint, body text) LANGUAGE plpgsql STABLE"
        " SET plan_cache_mode = force_generic_plan AS $function$"
        + documents_function_body()
        + "$function$"
    )


def documents_call(ids: str) -> str:
    """(id, JSON text) rows of the claims whose ids the SQL array `ids` gives, in its order,
    from the documents' function; its last parameter: published_only."""
    return (
        f"SELECT d.claim_id, d.body FROM {DOCUMENTS_FUNCTION}({ids}, %s) WITH ORDINALITY"
        " AS d(claim_id, body, ord) ORDER BY d.ord"
    )


DOCUMENTS_CALL = documents_call("%s::bigint[]")


def claim_documents(claims: Sequence[Claim], *, published_only: bool) -> list[Any]:
    """JSON documents for these claims, in their order, for the API's renderer: on
    PostgreSQL the compact JSON it wrote in one query (orjson.Fragment, copied into the
    body as it is), elsewhere ClaimSerializer's output, in nine queries. With
    `published_only` (a reader who may not see drafts) relations to drafts are left out;
    the claims themselves are the caller's to choose."""
    ids = [claim.pk for claim in claims]
    if connection.vendor == "postgresql":
        rows = postgres_documents(ids, published_only=published_only)
        return [orjson.Fragment(text) for _, text in rows]
    return serializer_documents(ids, published_only=published_only)


def postgres_documents(ids: list[int], *, published_only: bool = False) -> list[tuple[int, str]]:
    """(id, JSON text) of these claims as page_sql builds them, in the order of `ids`; with
    `published_only`, drafts are left out. One query."""
    if not ids:
        return []
    with connections[router.db_for_read(Claim)].cursor() as cursor:
        cursor.execute(DOCUMENTS_CALL, [ids, published_only])
        return cursor.fetchall()


def serializer_documents(ids: list[int], *, published_only: bool = False) -> list[Document]:
    """The documents as ClaimSerializer writes them, in the order of `ids` (with
    `published_only`, drafts and relations to drafts are left out, as PostgreSQL does)."""
    claims = Claim.objects.for_serializer().in_bulk(ids)
    ordered = [claims[pk] for pk in ids if pk in claims]
    if published_only:
        ordered = [claim for claim in ordered if claim.state == "published"]
    context = serializer_context(ordered, published_only=published_only)
    return list(ClaimSerializer(ordered, many=True, context=context).data)


def serializer_context(claims: Sequence[Claim], *, published_only: bool) -> dict[str, Any]:
    """What ClaimSerializer reads beside the claims (Claim.objects.for_serializer), in three
    queries for all of them."""
    ids = [claim.pk for claim in claims]
    shown = [
        source.pk
        for claim in claims
        for citation in claim.citations.all()
        for source in [citation.source, *citation.path]
    ]
    return {
        "based_on_counts": based_on_counts(shown),
        "rating_history": rating_histories(ids),
        "relations": related_claims(ids, published_only=published_only),
    }


NDJSON_CHUNK = 500


def stream_documents(claims: QuerySet[Claim], *, published_only: bool) -> Iterator[bytes]:
    """Every claim of `claims` as its API document, one JSON per line (NDJSON), by id, a
    batch at a time so memory stays flat. On PostgreSQL one statement a batch: the next
    ids (keyset: an index range whatever the total) and their documents, from the
    documents' function with its plan already made."""
    ids = claims.order_by("id").values_list("pk", flat=True)
    last = 0
    counter = EXPORT_ROWS.labels("claims.ndjson")
    if connection.vendor != "postgresql":
        while chunk := list(ids.filter(pk__gt=last)[:NDJSON_CHUNK]):
            last = chunk[-1]
            documents = serializer_documents(chunk, published_only=published_only)
            yield b"".join(orjson.dumps(document) + b"\n" for document in documents)
            counter.inc(len(documents))
        return
    while True:
        next_ids = ids.filter(pk__gt=last)[:NDJSON_CHUNK]
        batch, params = next_ids.query.get_compiler(using=next_ids.db).as_sql()
        with connections[next_ids.db].cursor() as cursor:
            cursor.execute(documents_call(f"ARRAY({batch})"), [*params, published_only])
            rows = cursor.fetchall()
        if not rows:
            return
        last = rows[-1][0]
        yield b"".join(text.encode() + b"\n" for _, text in rows)
        counter.inc(len(rows))
