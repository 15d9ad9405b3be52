"""CSV exports of claims and citations; the machinery and rules are in sources/exports.py."""

from collections.abc import Iterator
from itertools import islice
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from claims.models import Citation, Claim, ClaimRelation, Role, Topic
from claims.rules import citation_chain
from sources.exports import (
    CHUNK_SIZE,
    PEOPLE,
    SOURCES,
    Column,
    Export,
    date_columns,
    joined_names,
    names_cte,
)
from sources.models import EFFECTIVE_RELIABILITY_SQL, Person, ProvenanceIndex, Source

# A source in a citation's chain: "title [reliability]" (chain_label() in Python).
CHAIN_LABEL_SQL = "concat({source}.title, ' [', " + EFFECTIVE_RELIABILITY_SQL + ", ']')"


def chain_label(source: Source) -> str:
    return f"{source.title} [{source.effective_reliability}]"


def _role_count(role: Role) -> str:
    # `role` is one of our own choices, never user input.
    return f"COALESCE(counts.{role.value}, 0)"


# Each export's aggregates are computed once, set-wise, for all its rows (GROUP BY claim),
# and joined by id: not once per row by a correlated subquery.
CLAIM_AGGREGATES_SQL = (
    "WITH counts AS (SELECT ci.claim_id, "  # noqa: S608 - our constants only
    + ", ".join(
        f"count(*) FILTER (WHERE ci.role = '{role.value}') AS {role.value}"
        for role in (Role.SUPPORTS, Role.DISPUTES, Role.CONTEXT)
    )
    + ", bool_or(s.is_primary) AS has_primary FROM claims_citation ci"
    " JOIN sources_source s ON s.id = ci.source_id"
    " WHERE ci.claim_id IN ({ids}) GROUP BY ci.claim_id), "
    + names_cte("claim_people", through="claims_claim_people", owner="claim")
    + ", claim_topics AS (SELECT ct.claim_id, string_agg(t.slug, '; ' ORDER BY t.slug"
    ' COLLATE "C") AS slugs FROM claims_claim_topics ct'
    " JOIN claims_topic t ON t.id = ct.topic_id"
    " WHERE ct.claim_id IN ({ids}) GROUP BY ct.claim_id)"
)


CLAIM_COLUMNS = (
    Column("id", "integer", "The claim's id.", "c.id"),
    Column("text", "text", "The claim as stated, verbatim.", "c.text"),
    Column("summary", "text", "The claim in neutral words, if given.", "c.summary"),
    Column("claimant", "text", "Who made it; empty when unattributed.", "claimant.name"),
    Column("claimant_id", "integer", "The claimant's id.", "c.claimant_id"),
    Column("people", "text", "Who it is about: names separated by '; '.", "claim_people.names"),
    Column("topics", "text", "Topic slugs separated by '; '.", "claim_topics.slugs"),
    *date_columns("made", "c", "the claim was made"),
    *date_columns("event", "c", "the claimed event happened"),
    Column("rating", "text", "Review rating (see the Rating values below).", "c.rating"),
    Column("rating_rationale", "text", "Why it has that rating.", "c.rating_rationale"),
    Column("state", "text", "draft or published.", "c.state"),
    Column("language", "text", "Language of the claim (BCP 47).", "c.language"),
    Column("supports_count", "integer", "Citations that support it.", _role_count(Role.SUPPORTS)),
    Column("disputes_count", "integer", "Citations that dispute it.", _role_count(Role.DISPUTES)),
    Column("context_count", "integer", "Citations giving context.", _role_count(Role.CONTEXT)),
    Column(
        "has_primary_source",
        "boolean",
        "Whether any cited source is a primary source.",
        "COALESCE(counts.has_primary, false)",
    ),
    Column(
        "api_url", "text", "The claim in the API.", "%(base)s || '/api/v1/claims/' || c.id || '/'"
    ),
    Column(
        "admin_url",
        "text",
        "The claim in the editors' admin.",
        "%(base)s || '/admin/claims/claim/' || c.id || '/change/'",
    ),
)

CITATION_COLUMNS = (
    Column("claim_id", "integer", "The claim's id.", "c.id"),
    Column("claim_text", "text", "The claim as stated.", "c.text"),
    Column("claimant", "text", "Who made the claim.", "claimant.name"),
    Column("claim_rating", "text", "The claim's review rating.", "c.rating"),
    Column("claim_state", "text", "draft or published.", "c.state"),
    Column("citation_id", "integer", "The citation's id.", "ci.id"),
    Column("role", "text", "appearance, supports, disputes or context.", "ci.role"),
    Column("quote", "text", "The exact words in the source.", "ci.quote"),
    Column("locator", "text", "Where in the source (page, paragraph, time).", "ci.locator"),
    Column(
        "reliability_note", "text", "How far this evidence can be trusted.", "ci.reliability_note"
    ),
    Column("accessed_on", "date", "When the source was read.", "ci.accessed_on"),
    Column("source_id", "integer", "The source's id.", "s.id"),
    Column("source_title", "text", "The source's title.", "s.title"),
    Column("source_kind", "text", "What sort of source it is.", "s.kind"),
    Column("source_url", "text", "Where to read it.", "s.url"),
    Column("source_archive_url", "text", "An archived copy.", "s.archive_url"),
    *date_columns("published", "s", "the source was published", "source_published"),
    Column("source_is_primary", "boolean", "Whether it is a primary source.", "s.is_primary"),
    Column("publisher", "text", "The source's publisher.", "publisher.name"),
    Column(
        "publisher_reliability",
        "text",
        "The publisher's reliability rating.",
        "publisher.reliability",
    ),
    Column(
        "source_reliability",
        "text",
        "The source's effective reliability: its own rating, else its publisher's.",
        EFFECTIVE_RELIABILITY_SQL.format(source="s", publisher="publisher"),
    ),
    Column(
        "via_source_id",
        "integer",
        "The upstream source through which the cited source got the claim, if the citation "
        "names one (the cited source is based on it).",
        "ci.via_id",
    ),
    Column("via_source_title", "text", "That source's title.", "via.title"),
    Column(
        "via_note",
        "text",
        "How the cited source draws on that one (the provenance link's note).",
        "via_link.note",
    ),
    Column(
        "chain_source_ids",
        "text",
        "The sources behind this citation, nearest first, separated by '; ': its via source "
        "and what that is based on when it names one, else every source upstream of the "
        "cited one. Each is a row of sources.csv (reliability and its note).",
        "CASE WHEN ci.via_id IS NULL THEN chains.ids "
        "ELSE concat_ws('; ', ci.via_id::text, chains.ids) END",
    ),
    Column(
        "chain",
        "text",
        "The same sources as 'title [reliability]', separated by '; '.",
        "CASE WHEN ci.via_id IS NULL THEN chains.labels "
        f"ELSE concat_ws('; ', {CHAIN_LABEL_SQL.format(source='via', publisher='via_pub')}, "
        "chains.labels) END",
    ),
)

# The chain of each source that citations' chains start from (their via, else their
# source), walked once per export, set-wise (as api.documents does for a page).
CITATION_CHAINS_SQL = (
    "WITH RECURSIVE roots AS MATERIALIZED (SELECT DISTINCT COALESCE(via_id, source_id) AS id"  # noqa: S608
    " FROM claims_citation WHERE id IN ({ids})),"
    # 50 links deep at most; UNION stops at a cycle should one slip past validation.
    " walk(root, id, depth) AS (SELECT l.source_id, l.based_on_id, 1 FROM sources_provenance l"
    " WHERE l.source_id IN (SELECT id FROM roots)"
    " UNION SELECT walk.root, l.based_on_id, walk.depth + 1 FROM walk CROSS JOIN LATERAL"
    " (SELECT based_on_id FROM sources_provenance WHERE source_id = walk.id OFFSET 0) l"
    " WHERE walk.depth < 50),"
    " nearest AS (SELECT root, id, min(depth) AS depth FROM walk GROUP BY 1, 2),"
    # Nearest first, then by id: Upstream.order.
    " chains AS (SELECT n.root, string_agg(n.id::text, '; ' ORDER BY n.depth, n.id) AS ids,"
    f" string_agg({CHAIN_LABEL_SQL.format(source='u', publisher='up')}, '; '"
    " ORDER BY n.depth, n.id) AS labels FROM nearest n JOIN sources_source u ON u.id = n.id"
    " LEFT JOIN sources_person up ON up.id = u.publisher_id GROUP BY n.root)"
)


def _claim_rows(claims: QuerySet[Claim], base: str) -> Iterator[list[Any]]:
    citations = Citation.objects.filter(claim_id=OuterRef("pk"))
    rows = (
        claims.select_related("claimant")
        .annotate(
            **{
                f"{role}_total": Count("citations", filter=Q(citations__role=role), distinct=True)
                for role in (Role.SUPPORTS, Role.DISPUTES, Role.CONTEXT)
            },
            has_primary=Exists(citations.filter(source__is_primary=True)),
        )
        .prefetch_related(
            Prefetch("people", queryset=Person.objects.only("name")),
            Prefetch("topics", queryset=Topic.objects.only("slug")),
        )
        .order_by("id")
    )
    for c in rows.iterator(chunk_size=CHUNK_SIZE):
        yield [
            c.pk,
            c.text,
            c.summary,
            c.claimant.name if c.claimant else None,
            c.claimant_id,
            joined_names(c.people.all()),
            "; ".join(sorted(t.slug for t in c.topics.all())),
            c.made_text,
            c.made_edtf,
            c.made_earliest,
            c.made_latest,
            c.event_text,
            c.event_edtf,
            c.event_earliest,
            c.event_latest,
            c.rating,
            c.rating_rationale,
            c.state,
            c.language,
            c.supports_total,  # type: ignore[attr-defined]
            c.disputes_total,  # type: ignore[attr-defined]
            c.context_total,  # type: ignore[attr-defined]
            c.has_primary,
            f"{base}/api/v1/claims/{c.pk}/",
            f"{base}/admin/claims/claim/{c.pk}/change/",
        ]


def _citation_rows(citations: QuerySet[Citation], base: str) -> Iterator[list[Any]]:
    citations = citations.select_related(
        "claim__claimant", "source__publisher", "via__publisher"
    ).order_by("claim_id", "id")
    rows = citations.iterator(chunk_size=CHUNK_SIZE)
    while chunk := list(islice(rows, CHUNK_SIZE)):
        # The provenance of the chunk's sources: two queries, however long the chains.
        provenance = ProvenanceIndex({ci.source_id for ci in chunk})
        for ci in chunk:
            yield _citation_row(ci, provenance)


def _citation_row(ci: Citation, provenance: ProvenanceIndex) -> list[Any]:
    c, s, via = ci.claim, ci.source, ci.via
    chain = [provenance.sources[i] for i in citation_chain(provenance, ci)]
    if via is not None:
        chain[0] = via  # the same source, with its publisher already read
    return [
        c.pk,
        c.text,
        c.claimant.name if c.claimant else None,
        c.rating,
        c.state,
        ci.pk,
        ci.role,
        ci.quote,
        ci.locator,
        ci.reliability_note,
        ci.accessed_on,
        s.pk,
        s.title,
        s.kind,
        s.url,
        s.archive_url,
        s.published_text,
        s.published_edtf,
        s.published_earliest,
        s.published_latest,
        s.is_primary,
        s.publisher.name if s.publisher else None,
        s.publisher.reliability if s.publisher else None,
        s.effective_reliability,
        ci.via_id,
        via.title if via else None,
        provenance.upstream.notes.get((s.pk, via.pk)) if via else None,
        "; ".join(str(source.pk) for source in chain),
        "; ".join(chain_label(source) for source in chain),
    ]


RELATION_COLUMNS = (
    Column("id", "integer", "The relation's id.", "r.id"),
    Column("claim_id", "integer", "The claim that relates to another.", "r.claim_id"),
    Column("claim_text", "text", "That claim as stated.", "c.text"),
    Column(
        "kind", "text", "How: repeats, contradicts, refines or responds_to the other.", "r.kind"
    ),
    Column("other_claim_id", "integer", "The claim it relates to.", "r.other_id"),
    Column("other_claim_text", "text", "That claim as stated.", "o.text"),
    Column("note", "text", "Why, in a few words.", "r.note"),
)


def _relation_rows(relations: QuerySet[ClaimRelation], base: str) -> Iterator[list[Any]]:
    relations = relations.select_related("claim", "other").order_by("id")
    for r in relations.iterator(chunk_size=CHUNK_SIZE):
        yield [r.pk, r.claim_id, r.claim.text, r.kind, r.other_id, r.other.text, r.note]


EXPORTS = {
    "claims": Export(
        "claims",
        "One row per claim.",
        CLAIM_COLUMNS,
        "FROM claims_claim c LEFT JOIN sources_person claimant ON claimant.id = c.claimant_id "
        "LEFT JOIN counts ON counts.claim_id = c.id "
        "LEFT JOIN claim_people ON claim_people.owner_id = c.id "
        "LEFT JOIN claim_topics ON claim_topics.claim_id = c.id "
        "WHERE c.id IN ({ids}) ORDER BY c.id",
        _claim_rows,
        sql_with=CLAIM_AGGREGATES_SQL,
    ),
    "citations": Export(
        "citations",
        "One row per citation: a claim and one piece of evidence (long format).",
        CITATION_COLUMNS,
        "FROM claims_citation ci JOIN claims_claim c ON c.id = ci.claim_id "
        "LEFT JOIN sources_person claimant ON claimant.id = c.claimant_id "
        "JOIN sources_source s ON s.id = ci.source_id "
        "LEFT JOIN sources_person publisher ON publisher.id = s.publisher_id "
        "LEFT JOIN sources_source via ON via.id = ci.via_id "
        "LEFT JOIN sources_person via_pub ON via_pub.id = via.publisher_id "
        "LEFT JOIN sources_provenance via_link "
        "ON via_link.source_id = ci.source_id AND via_link.based_on_id = ci.via_id "
        "LEFT JOIN chains ON chains.root = COALESCE(ci.via_id, ci.source_id) "
        "WHERE ci.id IN ({ids}) ORDER BY c.id, ci.id",
        _citation_rows,
        sql_with=CITATION_CHAINS_SQL,
    ),
    "sources": SOURCES,
    "people": PEOPLE,
    "claim_relations": Export(
        "claim_relations",
        "One row per relation between two claims (this claim <kind> the other).",
        RELATION_COLUMNS,
        "FROM claims_claimrelation r JOIN claims_claim c ON c.id = r.claim_id "
        "JOIN claims_claim o ON o.id = r.other_id WHERE r.id IN ({ids}) ORDER BY r.id",
        _relation_rows,
    ),
}


def data_dictionary() -> str:
    """docs/data-dictionary.md, from the column contracts above."""
    from claims.models import Rating, State
    from sources.models import PersonKind, Reliability, SourceKind

    lines = [
        "# Claimtrail CSV data dictionary",
        "",
        "Generated from `claims/exports.py` by `python manage.py export_csv --dictionary`;",
        "a test fails when the two disagree. Every export is UTF-8 CSV (RFC 4180 quoting,",
        'rows end with "\\n") with a header row, in the column order below.',
        "",
        "- Text cells that a spreadsheet could run as a formula get a leading apostrophe:",
        "  those starting with `=`, `+`, `-`, `@` or their full-width forms (also after",
        "  leading spaces), with a tab or a carriage return, and, so that the apostrophe can",
        "  always be taken off again, with an apostrophe. Integer columns are never changed.",
        "- Empty text and missing values are empty cells; booleans are `true`/`false`;",
        "  dates are `YYYY-MM-DD`.",
        "- Fuzzy dates come as four columns: the wording as written, its EDTF value",
        "  (Library of Congress Extended Date/Time Format), and the earliest and latest days",
        "  it can mean. Filter on the last two.",
        "",
    ]
    for export in EXPORTS.values():
        lines += [
            f"## {export.name}.csv",
            "",
            export.description,
            "",
            "| column | type | meaning |",
            "| --- | --- | --- |",
            *(f"| `{c.name}` | {c.type} | {c.meaning} |" for c in export.columns),
            "",
        ]
    lines += ["## Values", ""]
    for title, choices in [
        ("Rating (`rating`, `claim_rating`)", Rating),
        ("State (`state`, `claim_state`)", State),
        ("Citation role (`role`)", Role),
        ("Reliability (`*reliability`)", Reliability),
        ("Source kind (`kind`, `source_kind`)", SourceKind),
        ("Person kind (`kind` in people.csv)", PersonKind),
    ]:
        lines += [f"- {title}: " + ", ".join(f"`{v}` ({label})" for v, label in choices.choices)]
    return "\n".join(lines) + "\n"
