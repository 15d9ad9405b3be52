"""The CSV export engine: one column contract, two ways to write it. It imports no code of
our apps (tests/test_layers.py checks it): each app declares its exports with it
(sources.exports, claims.exports) and links its downloads to the data package.

Each export is a list of Columns: the contract (name, type, meaning) that
docs/data-dictionary.md documents, and the SQL that computes the column. On PostgreSQL
the whole file is streamed by `COPY (SELECT ...) TO STDOUT WITH CSV`, the fastest way
out of the database, with the spreadsheet-safety rules applied in SQL
(`claimtrail_csv_safe`, sources migration 0009). Elsewhere (SQLite) the
same rows are built from the ORM in chunks. tests/test_exports.py proves the two write
identical bytes.

Rules, in both paths:
- RFC 4180 quoting: a field with a comma, double quote, CR or LF is quoted, quotes doubled;
  UTF-8; a header row; "\n" ends a row (as COPY writes it; every CSV reader accepts it).
- OWASP CSV injection: a text cell that a spreadsheet could read as a formula gets a
  leading apostrophe, so it shows as text (needs_guard: = + - @ or anything NFKC folds
  to them, also after leading blanks, controls and format characters; a leading tab or
  CR; and a leading apostrophe, so that an import takes exactly one off). Integer
  columns are never touched, so a negative number stays a number.
- Empty text and NULL are both an empty cell; booleans are true/false; dates are ISO 8601.
"""

import re
import string
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from operator import attrgetter
from typing import Any, Protocol, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Choices, QuerySet
from django.http import StreamingHttpResponse
from prometheus_client import Counter

# What a spreadsheet may read as the start of a formula. It skips what it cannot show
# before one (U+2003, U+200B, U+FEFF, U+0085, ...) and reads look-alikes as the signs
# themselves (full-width, small, superscript forms: U+FF1D, U+FE66, U+207C, U+FE62, ...),
# so the rule is Unicode's, not a list of ours: a cell is guarded when, after its leading
# IGNORABLE characters, its first character's NFKC form (ignorables stripped again)
# starts with one of FORMULA_STARTS; or when it starts with a tab, CR or apostrophe.
# NFKC is taken of that one character, so that no following mark can compose a sign
# away (= U+0338 is ≠). The guard depends on the cell's text alone, as claims.imports
# needs to take the apostrophe off again. The same rule in SQL is claimtrail_csv_safe
# (sources migration 0009); tests/test_formula_guard.py proves they agree on every code
# point.
FORMULA_STARTS = frozenset("=+-@")
IGNORABLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})  # spaces, controls, format
IGNORABLE = "".join(
    ch for ch in map(chr, range(0x110000)) if unicodedata.category(ch) in IGNORABLE_CATEGORIES
)
# Most cells start with one of these, neither ignorable nor a sign in any form: answered
# at once, as claimtrail_csv_safe's fast path answers them.
PLAIN_STARTS = frozenset(string.ascii_letters + string.digits)


def needs_guard(value: str) -> bool:
    """True when a text cell gets a leading apostrophe in an export."""
    if value[:1] in PLAIN_STARTS:
        return False
    if value.startswith(("\t", "\r", "'")):
        return True
    first = value.lstrip(IGNORABLE)[:1]
    return unicodedata.normalize("NFKC", first).lstrip(IGNORABLE)[:1] in FORMULA_STARTS


CHUNK_SIZE = 2000
COPY_BLOCK = 65536

# For /metrics (config/metrics.py): rows each export has written, by its name.
EXPORT_ROWS = Counter(
    "claimtrail_export_rows_total", "Rows written by the CSV and NDJSON exports.", ["export"]
)


# A column's SQL `alias.field`: its Python value is that attribute of the alias's object.
PLAIN_SQL = re.compile(r"(?P<of>[a-z_]+)\.(?P<field>[a-z_]+)")

ChoicesType = type[Choices]

# Each column type as Frictionless Table Schema names it (datapackage.json).
TABLE_SCHEMA_TYPES = {"integer": "integer", "text": "string", "date": "date", "boolean": "boolean"}


@dataclass(frozen=True)
class Column:
    """One column of an export, declared once: its contract (name, type, meaning, allowed
    values) for the data dictionary and the data package, the SQL that computes it for
    COPY, and its value in Python for the ORM path. When `sql` is a plain `alias.field`,
    the Python value is that attribute of the alias's object (Export.aliases); otherwise
    `value` reads it from the object that `of` names."""

    name: str
    type: str  # integer, text, date, boolean
    meaning: str
    sql: str
    value: Callable[[Any], Any] | None = None
    of: str = ""
    choices: ChoicesType | None = None  # the values a text column can hold
    link: bool = False  # a URL on this site: the site's address, then sql / value
    required: bool = False  # never empty

    def __post_init__(self) -> None:
        plain = PLAIN_SQL.fullmatch(self.sql)
        if self.value is None:
            if plain is None:
                raise ValueError(f"Column {self.name!r} computes its SQL: give its value too")
            object.__setattr__(self, "value", attrgetter(plain["field"]))
        if not self.of:
            if plain is None:
                raise ValueError(f"Column {self.name!r}: name the object `of` its value")
            object.__setattr__(self, "of", plain["of"])

    def renamed(self, name: str, meaning: str = "") -> "Column":
        return replace(self, name=name, meaning=meaning or self.meaning)

    @property
    def select(self) -> str:
        """The column in the COPY statement's SELECT list (`%(base)s`: the site's address)."""
        sql = f"%(base)s || {self.sql}" if self.link else self.sql
        if self.type == "text":
            sql = f"claimtrail_csv_safe({sql})"
        # A date is written by COPY itself, as YYYY-MM-DD under DateStyle ISO (run_copy
        # sets it): faster than to_char().
        elif self.type == "boolean":
            sql = f"CASE WHEN {sql} THEN 'true' ELSE 'false' END"
        return f"{sql} AS {self.name}"

    @property
    def field(self) -> dict[str, Any]:
        """The column as a Frictionless Table Schema field."""
        field: dict[str, Any] = {
            "name": self.name,
            "type": TABLE_SCHEMA_TYPES[self.type],
            "description": self.meaning,
        }
        if self.link:
            field["format"] = "uri"
        constraints: dict[str, Any] = {}
        if self.required:
            constraints["required"] = True
        if self.choices is not None:
            constraints["enum"] = list(self.choices.values)
        if constraints:
            field["constraints"] = constraints
        return field


def pick(columns: Iterable[Column], names: dict[str, str]) -> list[Column]:
    """Some of an export's columns for another export, in the order of `names`
    (old name: new name), computed from the same aliases."""
    by_name = {column.name: column for column in columns}
    return [by_name[old].renamed(new) for old, new in names.items()]


@dataclass(frozen=True)
class Export:
    """An export: its columns, the SQL rows they are computed over (COPY), and the Python
    records that the same columns read (the ORM path)."""

    name: str
    description: str
    columns: tuple[Column, ...]
    sql_from: str  # FROM and WHERE; "{ids}" is replaced by the selected ids' subquery
    records: Callable[[QuerySet[Any]], Iterator[Any]]  # the Python path's objects, in order
    # Each SQL alias (and any object only the Python path has): the attribute path from a
    # record to its object, "" for the record itself.
    aliases: dict[str, str]
    sql_with: str = ""  # a WITH clause the columns may read, also with "{ids}"
    primary_key: str = "id"
    foreign_keys: tuple[tuple[str, str, str], ...] = ()  # (column, export, its column)

    def __post_init__(self) -> None:
        for column in self.columns:
            if column.of not in self.aliases:
                raise ValueError(f"{self.name}.{column.name}: no alias {column.of!r}")

    @property
    def header(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def resource(self) -> dict[str, Any]:
        """The export as a Frictionless Tabular Data Resource (in datapackage.json)."""
        schema: dict[str, Any] = {
            "fields": [column.field for column in self.columns],
            "missingValues": [""],
            "primaryKey": [self.primary_key],
        }
        if self.foreign_keys:
            schema["foreignKeys"] = [
                {"fields": [column], "reference": {"resource": other, "fields": [key]}}
                for column, other, key in self.foreign_keys
            ]
        return {
            "name": self.name,
            "path": f"{self.name}.csv",
            "profile": "tabular-data-resource",
            "description": self.description,
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "dialect": {
                "delimiter": ",",
                "lineTerminator": "\n",
                "quoteChar": '"',
                "doubleQuote": True,
                "header": True,
            },
            "schema": schema,
        }

    def rows(self, queryset: QuerySet[Any], base_url: str) -> Iterator[list[Any]]:
        """The Python path: each record's values, column by column."""
        cells = [(column, self.aliases[column.of]) for column in self.columns]
        for record in self.records(queryset):
            row = []
            for column, path in cells:
                obj = _follow(record, path) if path else record
                value = None if obj is None else column.value(obj)  # type: ignore[misc]
                if column.link and value is not None:
                    value = base_url + value
                row.append(value)
            yield row


def _follow(record: Any, path: str) -> Any:
    """record.a.b, or None where a link along the way is empty."""
    obj = record
    for name in path.split("."):
        obj = getattr(obj, name)
        if obj is None:
            return None
    return obj


# How a list of people is written in one cell: names joined by '; ', a name that holds
# ';' or '"' written in double quotes with each '"' doubled, as CSV quotes a cell (so
# `Smith; John` stays one name); the ids, in the same order, in a column of their own.
NAME_QUOTED_SQL = (
    "CASE WHEN strpos(p.name, ';') > 0 OR strpos(p.name, '\"') > 0"
    " THEN '\"' || replace(p.name, '\"', '\"\"') || '\"' ELSE p.name END"
)


def names_cte(name: str, *, through: str, owner: str) -> str:
    """A CTE `name(owner_id, names, ids)`: for each selected record ("{ids}"), its people's
    names (quoted_name) and ids joined by '; ', by name (byte order) then id: see
    joined_names() and joined_ids()."""
    order = 'ORDER BY p.name COLLATE "C", p.id'
    # Table and column names are our own constants, never input.
    return (
        f"{name} AS MATERIALIZED (SELECT link.{owner}_id AS owner_id, "  # noqa: S608
        f"string_agg({NAME_QUOTED_SQL}, '; ' {order}) AS names, "
        f"string_agg(p.id::text, '; ' {order}) AS ids "
        f"FROM {through} link JOIN sources_person p ON p.id = link.person_id "
        f"WHERE link.{owner}_id IN ({{ids}}) GROUP BY link.{owner}_id)"
    )


def names_columns(name: str, meaning: str, *, cte: str, of: str, related: str) -> list[Column]:
    """People's names joined by '; ', and their ids in `<name>_ids`: names_cte() `cte` in
    SQL, joined_names() and joined_ids() of the `related` people of `of` in Python."""
    return [
        Column(
            name,
            "text",
            f"{meaning}: names separated by '; ' (a name holding ';' or '\"' is in double "
            "quotes, each '\"' doubled).",
            f"{cte}.names",
            of=of,
            value=lambda obj: joined_names(getattr(obj, related).all()),
        ),
        Column(
            f"{name}_ids",
            "text",
            f"Their ids, separated by '; ', in the order of {name}.",
            f"{cte}.ids",
            of=of,
            value=lambda obj: joined_ids(getattr(obj, related).all()),
        ),
    ]


def quoted_name(name: str) -> str:
    """A name as a list of names writes it (NAME_QUOTED_SQL)."""
    return f'"{name.replace(chr(34), chr(34) * 2)}"' if ";" in name or '"' in name else name


def split_names(cell: str) -> list[str]:
    """The names of a cell joined_names() wrote, each as it was (quotes undone)."""
    names, rest = [], cell
    while rest:
        if rest.startswith('"'):
            end = 1
            while True:  # to the quote that closes it: not one of a doubled pair
                end = rest.find('"', end)
                if end == -1 or rest[end + 1 : end + 2] != '"':
                    break
                end += 2
            if end == -1:  # never closed: take it as written
                names.append(rest)
                break
            names.append(rest[1:end].replace('""', '"'))
            rest = rest[end + 1 :].removeprefix("; ")
        else:
            name, _, rest = rest.partition("; ")
            names.append(name)
    return names


class Named(Protocol):
    """A person as a list of names holds one (sources.models.Person)."""

    name: str
    pk: Any


def _in_order(people: Iterable[Named]) -> list[Named]:
    """Code-point order is the "C" collation's byte order."""
    return sorted(people, key=lambda person: (person.name, person.pk))


def joined_names(people: Iterable[Named]) -> str:
    """names_cte()'s names in Python."""
    return "; ".join(quoted_name(person.name) for person in _in_order(people))


def joined_ids(people: Iterable[Named]) -> str:
    """names_cte()'s ids in Python."""
    return "; ".join(str(person.pk) for person in _in_order(people))


# The four columns of a fuzzy date (sources.dates.FuzzyDate's fields).
DATE_ENDS = ("text", "edtf", "earliest", "latest")


def date_columns(prefix: str, alias: str, what: str) -> list[Column]:
    """A fuzzy date's four columns, `<prefix>_text`, `_edtf`, `_earliest`, `_latest`."""
    meanings = {
        "text": (f"When {what}, as written.", "text"),
        "edtf": ("The same as an EDTF value.", "text"),
        "earliest": ("The earliest day it can mean.", "date"),
        "latest": ("The latest day it can mean.", "date"),
    }
    return [
        Column(f"{prefix}_{end}", meanings[end][1], meanings[end][0], f"{alias}.{prefix}_{end}")
        for end in DATE_ENDS
    ]


# What a download cut short by a server error (the database restarted, say) ends with,
# after its last whole row: an unclosed quoted field, which no CSV reader takes for the end
# of a file (pandas: "EOF inside string"), and for NDJSON an unclosed object. The server
# then drops the connection without HTTP's last chunk. A complete file ends with a newline.
CUT_SHORT = {
    "csv": b'\n"THIS FILE IS INCOMPLETE: the export was cut short by a server error. '
    b"Download it again.",
    "ndjson": b'{"error": "This file is incomplete: the export was cut short by a server '
    b"error. Download it again.",
}


Download = TypeVar("Download", bound=StreamingHttpResponse)


def counted_download(response: Download) -> Download:
    """Mark a streamed download (an export, a snapshot's file) as one of those a process
    serves a few of at once (config.middleware.StreamLimitMiddleware)."""
    response.counted_download = True  # type: ignore[attr-defined]
    return response


def ending_loudly(chunks: Iterator[bytes], kind: str) -> Iterator[bytes]:
    """The chunks; if producing them fails half-way, the CUT_SHORT mark, then the error
    again, so that the server aborts the response instead of ending it cleanly."""
    try:
        yield from chunks
    except Exception:
        yield CUT_SHORT[kind]
        raise


def csv_download(
    export: Export, queryset: QuerySet[Any], *, base_url: str, package_url: str
) -> StreamingHttpResponse:
    """A streamed CSV download of the export of these rows, its links made from
    `base_url`, described by the data package at `package_url`."""
    response = StreamingHttpResponse(
        ending_loudly(stream_csv(export, queryset, base_url=base_url), "csv"),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{export.name}.csv"'
    # Its columns, types and allowed values, for tools (RFC 8288; Frictionless Data).
    response["Link"] = f'<{package_url}>; rel="describedby"'
    return counted_download(response)


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
    select = ", ".join(column.select for column in export.columns)
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
    return run_copy(statement, params, using=queryset.db, name=export.name)


def run_copy(
    statement: str, params: list[Any], using: str = DEFAULT_DB_ALIAS, name: str = ""
) -> Iterator[bytes]:
    """The output of a COPY statement, streamed in blocks of 64 KB, from the database
    `using`; with a `name`, its rows (less the header) count in /metrics under that name.

    One transaction (closing the stream early rolls it back), with settings for this
    statement alone: dates as ISO 8601; memory enough for an export's hash tables (at a
    million claims, 4 MB spilled gigabytes to disk: minutes, not seconds); and no
    idle-in-transaction timeout, since a slow client sets the pace. SET LOCAL ends with
    the transaction, so a pooled connection (PgBouncer in transaction mode) keeps none of
    it; inside a caller's own transaction (a savepoint here) they last until that ends."""
    block = bytearray()
    rows = 0  # libpq hands COPY out a row at a time, the header first
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('DateStyle', 'ISO', true), set_config('work_mem', %s, true),"
            " set_config('idle_in_transaction_session_timeout', '0', true)",
            [settings.CSV_EXPORT_WORK_MEM],
        )
        if connection.queries_logged:
            # psycopg's COPY bypasses Django's query log; record it for query counts.
            connection.queries_log.append({"sql": statement, "time": "0.000"})
        with cursor.cursor.copy(statement, params) as copy:
            for row in copy:
                block += row
                rows += 1
                if len(block) >= COPY_BLOCK:
                    yield bytes(block)
                    block.clear()
    if name:
        EXPORT_ROWS.labels(name).inc(max(rows - 1, 0))
    if block:  # the last block after the commit: no transaction waits on the client
        yield bytes(block)


def _python(export: Export, queryset: QuerySet[Any], base_url: str) -> Iterator[bytes]:
    types = [column.type for column in export.columns]
    yield _line(export.header).encode()
    lines: list[str] = []
    counter = EXPORT_ROWS.labels(export.name)
    for row in export.rows(queryset, base_url):
        counter.inc()
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
