"""CSV exports for analysts: one column contract, two ways to write it.

Each export is a list of Columns: the contract (name, type, meaning) that
docs/data-dictionary.md documents, and the SQL that computes the column. On PostgreSQL
the whole file is streamed by `COPY (SELECT ...) TO STDOUT WITH CSV`, the fastest way
out of the database, with the spreadsheet-safety rules applied in SQL
(`claimtrail_csv_safe`, migration 0005). Elsewhere (SQLite) the same rows are built from
the ORM in chunks. tests/test_exports.py proves the two write identical bytes.

Rules, in both paths:
- RFC 4180 quoting: a field with a comma, double quote, CR or LF is quoted, quotes doubled;
  UTF-8; a header row; "\n" ends a row (as COPY writes it; every CSV reader accepts it).
- OWASP CSV injection: a text cell that a spreadsheet could read as a formula gets a
  leading apostrophe, so it shows as text (needs_guard: = + - @ and their full-width
  forms, also after leading spaces; a leading tab or CR; and a leading apostrophe, so
  that an import takes exactly one off). Integer columns are never touched, so a
  negative number stays a number.
- Empty text and NULL are both an empty cell; booleans are true/false; dates are ISO 8601.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, StreamingHttpResponse

from sources.models import EFFECTIVE_RELIABILITY_SQL, Person, Source

# What a spreadsheet may read as the start of a formula, also after leading blanks. The
# same rule in SQL is claimtrail_csv_safe (claims migration 0010); tests prove they agree.
FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
BLANKS = " \t\r\n\u00a0\u3000"


def needs_guard(value: str) -> bool:
    """True when a text cell gets a leading apostrophe in an export."""
    return value.startswith(("\t", "\r", "'")) or value.lstrip(BLANKS).startswith(FORMULA_STARTS)


CHUNK_SIZE = 2000


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # integer, text, date, boolean
    meaning: str
    sql: str


@dataclass(frozen=True)
class Export:
    name: str
    description: str
    columns: tuple[Column, ...]
    sql_from: str  # FROM and WHERE; "{ids}" is replaced by the selected ids' subquery
    rows: Callable[[QuerySet[Any], str], Iterator[list[Any]]]  # the Python path
    sql_with: str = ""  # a WITH clause the columns may read, also with "{ids}"

    @property
    def header(self) -> list[str]:
        return [column.name for column in self.columns]


def names_cte(name: str, *, through: str, owner: str) -> str:
    """A CTE `name(owner_id, names)`: for each selected record ("{ids}"), its people's
    names joined by '; ', by name (byte order) then id: see joined_names()."""
    # Table and column names are our own constants, never input.
    return (
        f"{name} AS (SELECT link.{owner}_id AS owner_id, "  # noqa: S608
        "string_agg(p.name, '; ' ORDER BY p.name COLLATE \"C\", p.id) AS names "
        f"FROM {through} link JOIN sources_person p ON p.id = link.person_id "
        f"WHERE link.{owner}_id IN ({{ids}}) GROUP BY link.{owner}_id)"
    )


def joined_names(people: Iterable[Person]) -> str:
    """names_cte() in Python: code-point order is the "C" collation's byte order."""
    return "; ".join(name for name, _ in sorted((person.name, person.pk) for person in people))


def date_columns(prefix: str, alias: str, what: str, label: str = "") -> list[Column]:
    label = label or prefix
    return [
        Column(f"{label}_text", "text", f"When {what}, as written.", f"{alias}.{prefix}_text"),
        Column(f"{label}_edtf", "text", "The same as an EDTF value.", f"{alias}.{prefix}_edtf"),
        Column(
            f"{label}_earliest",
            "date",
            "The earliest day it can mean.",
            f"{alias}.{prefix}_earliest",
        ),
        Column(
            f"{label}_latest", "date", "The latest day it can mean.", f"{alias}.{prefix}_latest"
        ),
    ]


SOURCE_COLUMNS = (
    Column("id", "integer", "The source's id.", "s.id"),
    Column("kind", "text", "What sort of source it is.", "s.kind"),
    Column("title", "text", "Its title.", "s.title"),
    Column("publisher", "text", "Who published it.", "publisher.name"),
    Column("publisher_id", "integer", "The publisher's id.", "s.publisher_id"),
    Column("authors", "text", "Who wrote it: names separated by '; '.", "source_authors.names"),
    Column("url", "text", "Where to read it.", "s.url"),
    Column("archive_url", "text", "An archived copy.", "s.archive_url"),
    *date_columns("published", "s", "it was published"),
    Column("language", "text", "Its language (BCP 47).", "s.language"),
    Column("is_primary", "boolean", "Whether it is a primary source.", "s.is_primary"),
    Column("reliability", "text", "Its own rating, overriding the publisher's.", "s.reliability"),
    Column("reliability_note", "text", "Why.", "s.reliability_note"),
    Column(
        "effective_reliability",
        "text",
        "Its own rating, else its publisher's, else unrated.",
        EFFECTIVE_RELIABILITY_SQL.format(source="s", publisher="publisher"),
    ),
    Column(
        "based_on",
        "text",
        "Ids of the sources it is based on, separated by '; '.",
        "source_links.ids",
    ),
)

PERSON_COLUMNS = (
    Column("id", "integer", "The person's or organization's id.", "p.id"),
    Column("kind", "text", "person, organization or group.", "p.kind"),
    Column("name", "text", "Their name.", "p.name"),
    Column("description", "text", "Their role.", "p.description"),
    Column(
        "aliases",
        "text",
        "Other names, separated by '; '.",
        "array_to_string(ARRAY(SELECT btrim(a.line, E' \\t\\r') "
        "FROM regexp_split_to_table(p.aliases, E'\\n') WITH ORDINALITY AS a(line, n) "
        "WHERE btrim(a.line, E' \\t\\r') <> '' ORDER BY a.n), '; ')",
    ),
    Column("wikidata_id", "text", "Wikidata ID (Q…).", "p.wikidata_id"),
    Column("reliability", "text", "Reliability rating (organizations).", "p.reliability"),
    Column("reliability_note", "text", "Why that rating.", "p.reliability_note"),
    Column(
        "reliability_reviewed_on",
        "date",
        "When the rating was reviewed.",
        "p.reliability_reviewed_on",
    ),
)


def _source_rows(sources: QuerySet[Source], base: str) -> Iterator[list[Any]]:
    rows = (
        sources.select_related("publisher")
        .prefetch_related(
            Prefetch("authors", queryset=Person.objects.only("name")), "provenance_links"
        )
        .order_by("id")
    )
    for s in rows.iterator(chunk_size=CHUNK_SIZE):
        yield [
            s.pk,
            s.kind,
            s.title,
            s.publisher.name if s.publisher else None,
            s.publisher_id,
            joined_names(s.authors.all()),
            s.url,
            s.archive_url,
            s.published_text,
            s.published_edtf,
            s.published_earliest,
            s.published_latest,
            s.language,
            s.is_primary,
            s.reliability,
            s.reliability_note,
            s.effective_reliability,
            "; ".join(
                str(i) for i in sorted(link.based_on_id for link in s.provenance_links.all())
            ),
        ]


def _person_rows(people: QuerySet[Person], base: str) -> Iterator[list[Any]]:
    for p in people.order_by("id").iterator(chunk_size=CHUNK_SIZE):
        yield [
            p.pk,
            p.kind,
            p.name,
            p.description,
            "; ".join(p.alias_list),
            p.wikidata_id,
            p.reliability,
            p.reliability_note,
            p.reliability_reviewed_on,
        ]


SOURCES = Export(
    "sources",
    "One row per source.",
    SOURCE_COLUMNS,
    "FROM sources_source s LEFT JOIN sources_person publisher ON publisher.id = s.publisher_id "
    "LEFT JOIN source_authors ON source_authors.owner_id = s.id "
    "LEFT JOIN source_links ON source_links.source_id = s.id "
    "WHERE s.id IN ({ids}) ORDER BY s.id",
    _source_rows,
    sql_with=(
        "WITH "
        + names_cte("source_authors", through="sources_source_authors", owner="source")
        + ", source_links AS (SELECT source_id, "
        "string_agg(based_on_id::text, '; ' ORDER BY based_on_id) AS ids "
        "FROM sources_provenance WHERE source_id IN ({ids}) GROUP BY source_id)"
    ),
)
PEOPLE = Export(
    "people",
    "One row per person, organization or group.",
    PERSON_COLUMNS,
    "FROM sources_person p WHERE p.id IN ({ids}) ORDER BY p.id",
    _person_rows,
)


def csv_response(
    export: Export, queryset: QuerySet[Any], request: HttpRequest
) -> StreamingHttpResponse:
    """A streamed CSV download of the export of these rows."""
    base_url = request.build_absolute_uri("/").rstrip("/")
    response = StreamingHttpResponse(
        stream_csv(export, queryset, base_url=base_url), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{export.name}.csv"'
    return response


def stream_csv(
    export: Export, queryset: QuerySet[Any], *, base_url: str, use_copy: bool | None = None
) -> Iterator[bytes]:
    """The export of these rows, as CSV byte chunks: streamed, never held in memory."""
    if use_copy is None:
        use_copy = settings.CSV_EXPORT_USE_COPY and connection.vendor == "postgresql"
    if use_copy:
        return _copy(export, queryset, base_url)
    return _python(export, queryset, base_url)


def copy_statement(export: Export, queryset: QuerySet[Any], base_url: str) -> tuple[str, list[Any]]:
    """The COPY statement and its parameters (also used by the benchmark)."""
    ids_sql, ids_params = queryset.order_by().values("pk").query.sql_with_params()
    select = ", ".join(f"{_sql_value(column)} AS {column.name}" for column in export.columns)
    params: list[Any] = list(ids_params) * export.sql_with.count("{ids}")
    if "%(base)s" in select:
        select = select.replace("%(base)s", "%s")
        params += [base_url] * select.count("%s")
    params += list(ids_params) * export.sql_from.count("{ids}")
    with_sql, from_sql = (
        sql.replace("{ids}", ids_sql) for sql in (export.sql_with, export.sql_from)
    )
    sql = f"{with_sql} SELECT {select} {from_sql}".strip()
    return f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)", params


def _copy(export: Export, queryset: QuerySet[Any], base_url: str) -> Iterator[bytes]:
    statement, params = copy_statement(export, queryset, base_url)
    if connection.queries_logged:
        # psycopg's COPY bypasses Django's query log; record it so query counts include it.
        connection.queries_log.append({"sql": statement, "time": "0.000"})
    with connection.cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
        for chunk in copy:
            yield bytes(chunk)


def _sql_value(column: Column) -> str:
    if column.type == "text":
        return f"claimtrail_csv_safe({column.sql})"
    if column.type == "date":
        return f"to_char({column.sql}, 'YYYY-MM-DD')"
    if column.type == "boolean":
        return f"CASE WHEN {column.sql} THEN 'true' ELSE 'false' END"
    return column.sql


def _python(export: Export, queryset: QuerySet[Any], base_url: str) -> Iterator[bytes]:
    types = [column.type for column in export.columns]
    yield _line(export.header).encode()
    lines: list[str] = []
    for row in export.rows(queryset, base_url):
        lines.append(_line([_cell(value, kind) for value, kind in zip(row, types, strict=True)]))
        if len(lines) >= 500:
            yield "".join(lines).encode()
            lines = []
    if lines:
        yield "".join(lines).encode()


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "date":
        return value.isoformat()
    if kind == "text":
        value = str(value)
        return "'" + value if needs_guard(value) else value
    return str(value)


def _line(cells: list[str]) -> str:
    # COPY's CSV quoting, exactly: quote a field holding a comma, a quote, CR or LF.
    return (
        ",".join(
            '"' + cell.replace('"', '""') + '"' if any(ch in cell for ch in ',"\r\n') else cell
            for cell in cells
        )
        + "\n"
    )
