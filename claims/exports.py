"""CSV exports of claims and citations, declared with the export engine (sources.export_engine)."""

from collections.abc import Iterator
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, cast

from django.db.models import Choices, Count, Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from claims.models import (
    COUNTED_ROLES,
    Citation,
    CitationStep,
    Claim,
    ClaimQuerySet,
    ClaimRelation,
    QuoteCheck,
    Rating,
    RelationKind,
    Role,
    State,
    Topic,
)
from sources.export_engine import (
    CHUNK_SIZE,
    DATE_ENDS,
    Column,
    Export,
    date_columns,
    names_columns,
    names_cte,
    pick,
)
from sources.exports import PEOPLE, SOURCE_COLUMNS, SOURCES
from sources.models import (
    EFFECTIVE_RELIABILITY_SQL,
    Person,
    Provenance,
    Reliability,
    Source,
)
from sources.quotes import QuoteOutcome

# A source on a citation's path: "title [reliability]" (path_label() in Python), joined
# by " > " as the path's ids are by ">".
PATH_LABEL_SQL = "concat({source}.title, ' [', " + EFFECTIVE_RELIABILITY_SQL + ", ']')"


def path_label(source: Source) -> str:
    return f"{source.title} [{source.effective_reliability}]"


# A citation's origin (claims.models.CitationQuerySet.with_origin) in SQL: {ci} a citation.
ORIGIN_SQL = (
    "COALESCE((SELECT l.based_on_id FROM claims_citationstep st JOIN sources_provenance l"
    " ON l.id = st.link_id WHERE st.citation_id = {ci}.id ORDER BY st.position DESC LIMIT 1),"
    " {ci}.source_id)"
)


# Each export's aggregates are computed once, set-wise, for all its rows (GROUP BY claim),
# and joined by id: not once per row by a correlated subquery. MATERIALIZED, so that a
# parallel plan computes each once, not once in every worker. Whether a cited source is
# primary is a lookup in the (hashed) set of primary sources, not a join with them all.
CLAIM_AGGREGATES_SQL = (
    "WITH counts AS MATERIALIZED (SELECT ci.claim_id, "  # noqa: S608 - our constants only
    + ", ".join(
        f"count(*) FILTER (WHERE ci.role = '{role.value}') AS {role.value}, "
        f"count(DISTINCT ci.origin) FILTER (WHERE ci.role = '{role.value}')"
        f" AS {role.value}_origins"
        for role in COUNTED_ROLES
    )
    + ", bool_or(ci.source_id IN (SELECT id FROM sources_source WHERE is_primary))"
    " AS has_primary FROM (SELECT claim_id, role, source_id, "
    + ORIGIN_SQL.format(ci="c")
    + " AS origin FROM claims_citation c WHERE c.claim_id IN ({ids})) ci"
    " GROUP BY ci.claim_id), "
    + names_cte("claim_people", through="claims_claim_people", owner="claim")
    + ", claim_topics AS MATERIALIZED (SELECT ct.claim_id, string_agg(t.slug, '; ' ORDER BY t.slug"
    ' COLLATE "C") AS slugs FROM claims_claim_topics ct'
    " JOIN claims_topic t ON t.id = ct.topic_id"
    " WHERE ct.claim_id IN ({ids}) GROUP BY ct.claim_id)"
)


CLAIM_COLUMNS = (
    Column("id", "integer", "The claim's id.", "c.id", required=True),
    Column("text", "text", "The claim as stated, verbatim.", "c.text"),
    Column("summary", "text", "The claim in neutral words, if given.", "c.summary"),
    Column(
        "claimant",
        "text",
        "Who or what made it: a person's or organization's name, or a source's title; empty "
        "when unattributed.",
        "COALESCE(claimant.name, claimant_source.title)",
        of="c",
        value=lambda c: str(c.attributed_to or ""),
    ),
    Column(
        "claimant_kind",
        "text",
        "person, organization or group (claimant_id), source (claimant_source_id), or "
        "empty when unattributed.",
        "COALESCE(claimant.kind, CASE WHEN c.claimant_source_id IS NOT NULL THEN 'source' END)",
        of="c",
        value=lambda c: claimant_kind(c),
    ),
    Column(
        "claimant_id",
        "integer",
        "The claimant's id, when a person or organization.",
        "c.claimant_id",
    ),
    Column(
        "claimant_source_id",
        "integer",
        "The claimant's id, when a source (a document that makes the claim).",
        "c.claimant_source_id",
    ),
    *names_columns("people", "Who it is about", cte="claim_people", of="c", related="people"),
    Column(
        "topics",
        "text",
        "Topic slugs separated by '; '.",
        "claim_topics.slugs",
        of="c",
        value=lambda c: "; ".join(sorted(t.slug for t in c.topics.all())),
    ),
    *date_columns("made", "c", "the claim was made"),
    *date_columns("event", "c", "the claimed event happened"),
    Column("rating", "text", "The claim's review rating.", "c.rating", choices=Rating),
    Column("rating_rationale", "text", "Why it has that rating.", "c.rating_rationale"),
    Column(
        "state",
        "text",
        "draft, researching, in_review or published (only published claims reach readers).",
        "c.state",
        choices=State,
    ),
    Column("language", "text", "Language of the claim (BCP 47).", "c.language"),
    *(
        Column(
            f"{role.value}_count",
            "integer",
            meaning,
            f"COALESCE(counts.{role.value}, 0)",  # our own choices, never input
            of="c",
            value=attrgetter(f"{role.value}_total"),
        )
        for role, meaning in [
            (Role.SUPPORTS, "Citations that support it."),
            (Role.DISPUTES, "Citations that dispute it."),
            (Role.CONTEXT, "Citations giving context."),
        ]
    ),
    *(
        Column(
            f"{role.value}_origins",
            "integer",
            f"Independent origins among the citations that {verb}: distinct sources their "
            "paths end at (the cited source, for a citation without a path).",
            f"COALESCE(counts.{role.value}_origins, 0)",
            of="c",
            value=attrgetter(f"{role.value}_origins"),
        )
        for role, verb in [
            (Role.SUPPORTS, "support it"),
            (Role.DISPUTES, "dispute it"),
            (Role.CONTEXT, "give context"),
        ]
    ),
    Column(
        "has_primary_source",
        "boolean",
        "Whether any cited source is a primary source.",
        "COALESCE(counts.has_primary, false)",
        of="c",
        value=attrgetter("has_primary"),
    ),
    Column(
        "api_url",
        "text",
        "The claim in the API.",
        "'/api/v1/claims/' || c.id || '/'",
        of="c",
        value=lambda c: f"/api/v1/claims/{c.pk}/",
        link=True,
    ),
    Column(
        "admin_url",
        "text",
        "The claim in the editors' admin.",
        "'/admin/claims/claim/' || c.id || '/change/'",
        of="c",
        value=lambda c: f"/admin/claims/claim/{c.pk}/change/",
        link=True,
    ),
)

CITATION_COLUMNS = (
    *pick(
        CLAIM_COLUMNS,
        {
            "id": "claim_id",
            "text": "claim_text",
            "claimant": "claimant",
            "rating": "claim_rating",
            "state": "claim_state",
        },
    ),
    Column("citation_id", "integer", "The citation's id.", "ci.id", required=True),
    Column("role", "text", "What the source does for the claim.", "ci.role", choices=Role),
    Column("quote", "text", "The exact words in the source.", "ci.quote"),
    Column("locator", "text", "Where in the source (page, paragraph, time).", "ci.locator"),
    Column(
        "reliability_note", "text", "How far this evidence can be trusted.", "ci.reliability_note"
    ),
    Column("accessed_on", "date", "When the source was read.", "ci.accessed_on"),
    *pick(
        SOURCE_COLUMNS,
        {
            "id": "source_id",
            "title": "source_title",
            "kind": "source_kind",
            "url": "source_url",
            "archive_url": "source_archive_url",
            **{f"published_{end}": f"source_published_{end}" for end in DATE_ENDS},
            "is_primary": "source_is_primary",
            "publisher": "publisher",
        },
    ),
    Column(
        "publisher_reliability",
        "text",
        "The publisher's reliability rating.",
        "publisher.reliability",
        choices=Reliability,
    ),
    *pick(SOURCE_COLUMNS, {"effective_reliability": "source_reliability"}),
    Column(
        "path",
        "text",
        "The recorded path: the sources the cited source took the claim from, in order, as "
        "their ids joined by '>' (12>7: the cited source took it from source 12, which took "
        "it from source 7). Empty when no path is recorded. Each is a row of sources.csv; "
        "the import reads this column.",
        "paths.ids",
        of="row",
        value=lambda row: ">".join(str(source.pk) for source in row.path),
    ),
    Column(
        "path_titles",
        "text",
        "The same sources as 'title [reliability]', joined by ' > '.",
        "paths.labels",
        of="row",
        value=lambda row: " > ".join(path_label(source) for source in row.path),
    ),
    Column(
        "origin_source_id",
        "integer",
        "Where the claim came from, as recorded: the last source on the path, else the "
        "cited source.",
        "COALESCE(paths.origin, ci.source_id)",
        of="row",
        value=lambda row: row.path[-1].pk if row.path else row.ci.source_id,
    ),
    Column(
        "source_based_on_count",
        "integer",
        "How many sources the cited source is directly based on (its provenance links), "
        "whichever the path takes.",
        "COALESCE(based.n, 0)",
        of="row",
        value=attrgetter("based_on_count"),
    ),
    Column(
        "quote_check",
        "text",
        "The quote checked against the source's latest snapshot: exact, normalised (found "
        "but for spaces, quote marks or dashes), close or not_found; empty when the quote "
        "is blank or the source has no snapshot.",
        "qc.outcome",
        choices=QuoteOutcome,
    ),
    Column("quote_check_score", "integer", "How close the passage is, 0 to 100.", "qc.score"),
    Column(
        "quote_snapshot_id", "integer", "The snapshot it was checked against.", "qc.snapshot_id"
    ),
    Column(
        "quote_passage",
        "text",
        "The passage found in the snapshot, or the closest one, as the snapshot has it.",
        "qc.exact",
    ),
)

# Each selected citation's path, set-wise (as api.documents does for a page), and how many
# sources each cited source is based on.
CITATION_PATHS_SQL = (
    "WITH paths AS MATERIALIZED (SELECT st.citation_id,"  # noqa: S608 - our constants only
    " string_agg(l.based_on_id::text, '>' ORDER BY st.position) AS ids,"
    f" string_agg({PATH_LABEL_SQL.format(source='u', publisher='up')}, ' > '"
    " ORDER BY st.position) AS labels,"
    " (array_agg(l.based_on_id ORDER BY st.position DESC))[1] AS origin"
    " FROM claims_citationstep st JOIN sources_provenance l ON l.id = st.link_id"
    " JOIN sources_source u ON u.id = l.based_on_id"
    " LEFT JOIN sources_person up ON up.id = u.publisher_id"
    " WHERE st.citation_id IN ({ids}) GROUP BY st.citation_id),"
    " based AS MATERIALIZED (SELECT source_id, count(*) AS n FROM sources_provenance"
    " WHERE source_id IN (SELECT source_id FROM claims_citation WHERE id IN ({ids}))"
    " GROUP BY source_id)"
)


def claimant_kind(claim: Claim) -> str:
    if claim.claimant is not None:
        return claim.claimant.kind
    return "source" if claim.claimant_source_id is not None else ""


def _claim_records(claims: QuerySet[Claim]) -> Iterator[Claim]:
    citations = Citation.objects.filter(claim_id=OuterRef("pk"))
    rows = (
        cast(ClaimQuerySet, claims.select_related("claimant", "claimant_source"))
        .with_evidence()
        .annotate(has_primary=Exists(citations.filter(source__is_primary=True)))
        .prefetch_related(
            Prefetch("people", queryset=Person.objects.only("name")),
            Prefetch("topics", queryset=Topic.objects.only("slug")),
        )
        .order_by("id")
    )
    return rows.iterator(chunk_size=CHUNK_SIZE)


@dataclass(frozen=True)
class CitationRecord:
    """A citation with what the Python path reads beside it: its path's sources, how many
    sources its source is based on, its quote check."""

    ci: Citation
    path: list[Source]
    based_on_count: int
    check: QuoteCheck | None


def _citation_records(citations: QuerySet[Citation]) -> Iterator[CitationRecord]:
    based_on = (
        Provenance.objects.filter(source=OuterRef("source"))
        .order_by()
        .values("source")
        .annotate(n=Count("pk"))
        .values("n")
    )
    steps = CitationStep.objects.select_related("link__based_on__publisher")
    rows = (
        citations.select_related(
            "claim__claimant", "claim__claimant_source", "source__publisher", "quote_check"
        )
        .annotate(based_on_count=Coalesce(Subquery(based_on), 0))
        .prefetch_related(None)  # the admin's list prefetches plain steps
        .prefetch_related(Prefetch("steps", queryset=steps))
        .order_by("claim_id", "id")
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for ci in rows:
        path = [step.link.based_on for step in ci.steps.all()]
        count = ci.based_on_count
        yield CitationRecord(ci, path, count, getattr(ci, "quote_check", None))


RELATION_COLUMNS = (
    Column("id", "integer", "The relation's id.", "r.id", required=True),
    Column("claim_id", "integer", "The claim that relates to another.", "r.claim_id"),
    Column("claim_text", "text", "That claim as stated.", "c.text"),
    Column("kind", "text", "How it relates to the other.", "r.kind", choices=RelationKind),
    Column("other_claim_id", "integer", "The claim it relates to.", "r.other_id"),
    Column("other_claim_text", "text", "That claim as stated.", "o.text"),
    Column("note", "text", "Why, in a few words.", "r.note"),
)


def _relation_records(relations: QuerySet[ClaimRelation]) -> Iterator[ClaimRelation]:
    relations = relations.select_related("claim", "other").order_by("id")
    return relations.iterator(chunk_size=CHUNK_SIZE)


EXPORTS = {
    "claims": Export(
        "claims",
        "One row per claim.",
        CLAIM_COLUMNS,
        "FROM claims_claim c LEFT JOIN sources_person claimant ON claimant.id = c.claimant_id "
        "LEFT JOIN sources_source claimant_source ON claimant_source.id = c.claimant_source_id "
        "LEFT JOIN counts ON counts.claim_id = c.id "
        "LEFT JOIN claim_people ON claim_people.owner_id = c.id "
        "LEFT JOIN claim_topics ON claim_topics.claim_id = c.id "
        "WHERE c.id IN ({ids}) ORDER BY c.id",
        _claim_records,
        aliases={"c": "", "claimant": "claimant"},
        sql_with=CLAIM_AGGREGATES_SQL,
        foreign_keys=(("claimant_id", "people", "id"), ("claimant_source_id", "sources", "id")),
    ),
    "citations": Export(
        "citations",
        "One row per citation: a claim and one piece of evidence (long format).",
        CITATION_COLUMNS,
        "FROM claims_citation ci JOIN claims_claim c ON c.id = ci.claim_id "
        "LEFT JOIN sources_person claimant ON claimant.id = c.claimant_id "
        "LEFT JOIN sources_source claimant_source ON claimant_source.id = c.claimant_source_id "
        "JOIN sources_source s ON s.id = ci.source_id "
        "LEFT JOIN sources_person publisher ON publisher.id = s.publisher_id "
        "LEFT JOIN paths ON paths.citation_id = ci.id "
        "LEFT JOIN based ON based.source_id = ci.source_id "
        "LEFT JOIN claims_quotecheck qc ON qc.citation_id = ci.id "
        "WHERE ci.id IN ({ids}) ORDER BY c.id, ci.id",
        _citation_records,
        aliases={
            "row": "",
            "ci": "ci",
            "c": "ci.claim",
            "claimant": "ci.claim.claimant",
            "s": "ci.source",
            "publisher": "ci.source.publisher",
            "qc": "check",
        },
        sql_with=CITATION_PATHS_SQL,
        primary_key="citation_id",
        foreign_keys=(
            ("claim_id", "claims", "id"),
            ("source_id", "sources", "id"),
            ("origin_source_id", "sources", "id"),
        ),
    ),
    "sources": SOURCES,
    "people": PEOPLE,
    "claim_relations": Export(
        "claim_relations",
        "One row per relation between two claims (this claim <kind> the other).",
        RELATION_COLUMNS,
        "FROM claims_claimrelation r JOIN claims_claim c ON c.id = r.claim_id "
        "JOIN claims_claim o ON o.id = r.other_id WHERE r.id IN ({ids}) ORDER BY r.id",
        _relation_records,
        aliases={"r": "", "c": "claim", "o": "other"},
        foreign_keys=(("claim_id", "claims", "id"), ("other_claim_id", "claims", "id")),
    ),
}


def data_package(base_url: str) -> dict[str, Any]:
    """The exports as a Frictionless Tabular Data Package (datapackage.json): each CSV's
    dialect, columns, their types, meanings and allowed values, and how the files join.
    Paths are relative to the package, so a folder of downloaded files is a package too."""
    return {
        "profile": "tabular-data-package",
        "name": "claimtrail",
        "title": "Claimtrail: claims, their citations and sources",
        "description": "The CSV exports of this Claimtrail site: docs/data-dictionary.md. "
        "A complete file ends with a newline after its last row. A download cut short by a "
        "server error ends instead with an unclosed quoted field beginning "
        '"THIS FILE IS INCOMPLETE", which no CSV reader accepts, and its connection is '
        "dropped without HTTP's last chunk: download it again.",
        "homepage": f"{base_url}/",
        "resources": [export.resource for export in EXPORTS.values()],
    }


def data_dictionary() -> str:
    """docs/data-dictionary.md, from the column declarations above."""
    lines = [
        "# Claimtrail CSV data dictionary",
        "",
        "Generated from `claims/exports.py` by `python manage.py export_csv --dictionary`;",
        "a test fails when the two disagree. The same declarations are served as a",
        "[Frictionless Data Package](https://datapackage.org/) at `/api/v1/datapackage.json`,",
        'which every CSV response links to (`Link: <…>; rel="describedby"`), so that',
        "`frictionless validate` or a loader can check types, allowed values and keys.",
        "",
        "Every export is UTF-8 CSV (RFC 4180 quoting, rows end with",
        '"\\n") with a header row, in the column order below.',
        "",
        "- Text cells that a spreadsheet could run as a formula get a leading apostrophe:",
        "  those whose first character, after any leading spaces, controls and invisible",
        "  format characters (Unicode categories Zs, Zl, Zp, Cc and Cf), is `=`, `+`, `-`",
        "  or `@` once NFKC-folded (so also `\uff1d`, `\ufe66`, `\u207c`, `\ufe62`, `\u207a`,"
        " `\ufe63`, `\ufe6b` and the",
        "  like); those starting with a tab or a carriage return; and, so that the",
        "  apostrophe can always be taken off again, those starting with an apostrophe.",
        "  Integer columns are never changed.",
        "- Empty text and missing values are empty cells; booleans are `true`/`false`;",
        "  dates are `YYYY-MM-DD`.",
        "- Fuzzy dates come as four columns: the wording as written, its EDTF value",
        "  (Library of Congress Extended Date/Time Format), and the earliest and latest days",
        "  it can mean. Filter on the last two.",
        "- A complete file ends with a newline after its last row. A download cut short by",
        "  a server error (the database restarted, say) ends instead with an unclosed quoted",
        '  field beginning `"THIS FILE IS INCOMPLETE`, which no CSV reader accepts (pandas:',
        '  "EOF inside string"), and the server drops the connection without HTTP\'s last',
        "  chunk: download it again. `claims.ndjson` cut short ends with an unclosed",
        '  `{"error": ...` line.',
        "",
    ]
    uses: dict[type[Choices], list[str]] = {}
    for export in EXPORTS.values():
        keys = [f"primary key `{export.primary_key}`"] + [
            f"`{column}` is an `{other}.csv` `{key}`" for column, other, key in export.foreign_keys
        ]
        lines += [
            f"## {export.name}.csv",
            "",
            f"{export.description} Keys: {'; '.join(keys)}.",
            "",
            "| column | type | meaning |",
            "| --- | --- | --- |",
        ]
        for column in export.columns:
            meaning = column.meaning
            if column.choices is not None:
                meaning += f" One of the {column.choices.__name__} values."
                uses.setdefault(column.choices, []).append(f"`{export.name}.{column.name}`")
            lines.append(f"| `{column.name}` | {column.type} | {meaning} |")
        lines.append("")
    lines += ["## Values", ""]
    for choices, columns in uses.items():
        values = ", ".join(f"`{v}` ({label})" for v, label in choices.choices)
        lines.append(f"- {choices.__name__} ({', '.join(columns)}): {values}")
    return "\n".join(lines) + "\n"
